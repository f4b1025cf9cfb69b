"""The tailbox command end to end, as a user runs it: real files, real processes, signals."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fifo import FifoReader
from tests.output import delivered_logs, logs_in

LOGHUB = Path(__file__).parent.parent / "data" / "loghub"
SAMPLES = sorted(p.name for p in LOGHUB.glob("*_2k.log"))


def tailbox(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, **kw
    )


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_there_are_seven_samples():
    assert len(SAMPLES) == 7


@pytest.mark.parametrize("sample", SAMPLES)
def test_once_writes_every_line_of_a_real_log_exactly(tmp_path, sample):
    source = (LOGHUB / sample).read_bytes()
    (tmp_path / sample).write_bytes(source)
    out = tmp_path / "out.jsonl"
    config = tmp_path / "p.yml"
    config.write_text(
        f"inputs: [{{Type: input_file, FilePaths: ['{tmp_path}/*.log']}}]\n"
        f"flushers: [{{Type: flusher_file, FilePath: '{out}'}}]\n"
    )
    run = tailbox("run", "--once", "-c", str(config))
    assert run.returncode == 0, run.stderr
    contents = [log["contents"]["content"] for log in delivered_logs(out)]
    expected = [line.rstrip("\r") for line in source.decode("utf-8").split("\n")]
    if expected[-1] == "":
        expected.pop()  # the file ended with a newline
    assert len(contents) == 2000
    assert contents == expected


def test_sigterm_stops_cleanly_with_a_final_flush(tmp_path):
    (tmp_path / "app.log").write_bytes(b"".join(b"line %d\n" % i for i in range(1005)))
    out = tmp_path / "out.jsonl"
    config = tmp_path / "p.yml"
    # Groups of 10, two held per source, no timer flush for an hour: only quick flushes
    # deliver while running, so the last groups can only arrive through the final flush.
    config.write_text(
        "global: {AggregatIntervalMs: 3600000}\n"
        f"inputs: [{{Type: input_file, FilePaths: ['{tmp_path}/*.log']}}]\n"
        "aggregators: [{Type: aggregator_context, MaxLogCount: 10}]\n"
        f"flushers: [{{Type: flusher_file, FilePath: '{out}'}}]\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: out.exists() and len(delivered_logs(out)) == 990)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert [log["contents"]["content"] for log in delivered_logs(out)] == [
        f"line {i}" for i in range(1005)
    ]
    assert "final flush" in stderr


def test_run_without_config_uses_the_embedded_default(tmp_path):
    env = {**os.environ, "TAILBOX_CONFIG_DIR": str(tmp_path / "cfg"), "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stderr.readline()
        assert "running" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "pipeline default (<embedded default for linux>)" in first
    assert proc.returncode == 0, rest


def test_config_mistake_gives_a_message_not_a_traceback(tmp_path):
    config = tmp_path / "p.yml"
    config.write_text(
        "inputs: [{Type: input_file, FilePaths: /var/log}]\nflushers: [{Type: flusher_stdout}]\n"
    )
    run = tailbox("run", "--once", "-c", str(config))
    assert run.returncode == 2
    assert f"{config}:1: input_file: FilePaths: must be a list" in run.stderr
    assert "Traceback" not in run.stderr


def _backfill_through_a_blocked_fifo(tmp_path, monkeypatch, capfd, *flags):
    """`tailbox run --once` into a FIFO nobody reads until the queue has been full.

    The agent runs in-process so the test sees its event history; flusher_file waits to
    open the FIFO until the test reads it, after a queue_full event, so every run has at
    least one queue-full episode. Returns what the run printed on stderr.
    """
    import threading

    from agent import cli

    (tmp_path / "big.log").write_bytes(b"".join(b"line %d\n" % i for i in range(100_000)))
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    config = tmp_path / "p.yml"
    config.write_text(
        f"inputs: [{{Type: input_file, FilePaths: ['{tmp_path}/big.log']}}]\n"
        f"flushers: [{{Type: flusher_file, FilePath: '{fifo}'}}]\n"
    )
    monkeypatch.setenv("TAILBOX_STATE_DIR", str(tmp_path / "state"))
    made = []

    class Recording(cli.Agent):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(cli, "Agent", Recording)
    reader = FifoReader(fifo)
    result = []
    run = threading.Thread(
        target=lambda: result.append(cli.main(["run", "--once", *flags, "-c", str(config)])),
        daemon=True,  # a failed test must not leave pytest waiting for it
    )
    run.start()
    try:
        wait_until(lambda: made and made[0].events.history("queue_full"))
    finally:
        reader.start()  # reads until flusher_file closes the FIFO at the end
        run.join(60)
        reader.join()
    assert result == [0]
    contents = [log["contents"]["content"] for log in logs_in(bytes(reader.data))]
    assert contents == [f"line {i}" for i in range(100_000)]
    return capfd.readouterr().err


def test_a_quiet_backfill_does_not_report_its_queue_full_pauses(tmp_path, monkeypatch, capfd):
    stderr = _backfill_through_a_blocked_fifo(tmp_path, monkeypatch, capfd, "-q")
    assert "queue full" not in stderr and "queue accepts again" not in stderr
    assert "done in" not in stderr  # quiet: nothing at all when nothing went wrong


def test_a_backfill_reports_its_queue_full_pauses_unless_quiet(tmp_path, monkeypatch, capfd):
    stderr = _backfill_through_a_blocked_fifo(tmp_path, monkeypatch, capfd)
    assert "queue full" in stderr and "reading paused" in stderr
    assert "queue accepts again" in stderr
    assert "done in" in stderr


def test_run_collects_young_objects_less_often(tmp_path, monkeypatch):
    """Processors make a Log and a dict per line and next to no cycles: at CPython's
    700 allocations the collector took 7-9 % of a backfill, so `tailbox run` raises the
    young generation's threshold (agent.tune_gc) to the one the window's collector uses."""
    import gc

    from agent import cli
    from agent.agent import GC_YOUNG_THRESHOLD

    (tmp_path / "a.log").write_text("one\n")
    config = tmp_path / "p.yml"
    config.write_text(
        f"inputs: [{{Type: input_file, FilePaths: ['{tmp_path}/a.log']}}]\n"
        f"flushers: [{{Type: flusher_file, FilePath: '{tmp_path}/out.jsonl'}}]\n"
    )
    monkeypatch.setenv("TAILBOX_STATE_DIR", str(tmp_path / "state"))
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(700, older, oldest)  # restored after the test (tests/conftest.py)
    assert cli.main(["run", "--once", "-q", "-c", str(config)]) == 0
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, older, oldest)
    assert [log["contents"]["content"] for log in delivered_logs(tmp_path / "out.jsonl")] == ["one"]
