"""input_journal in whole pipelines (real acknowledgements, checkpoints, back-pressure) and
in the registry: listed on Linux only, refused by name elsewhere."""

import os
import subprocess
import sys
import threading
import time

import orjson
import pytest

from agent.config import parse_config
from agent.params import ConfigError
from agent.pipeline import Pipeline
from agent.registry import Registry, load_registry

from .journal_helpers import Journal, need_journal_tools
from .running import wait_until


@pytest.fixture
def journal(tmp_path):
    need_journal_tools()
    return Journal(tmp_path / "journal" / "app.journal")


def pipeline(journal, out, once=False, queue=4, seek="head"):
    text = f"""
global: {{AggregatIntervalMs: 200, DefaultLogGroupQueueSize: {queue}}}
inputs: [{{Type: input_journal, JournalPaths: ["{journal.path}"], SeekPosition: {seek}}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
"""
    return Pipeline(parse_config(text, "journal.yml"), load_registry("linux"), once=once)


def delivered(out):
    return [
        log["contents"]["content"]
        for line in out.read_bytes().splitlines()
        for log in orjson.loads(line)["logs"]
    ]


def test_once_delivers_and_the_next_run_resumes_after_the_acknowledged_cursor(journal, tmp_path):
    first = journal.numbered(3)
    assert pipeline(journal, tmp_path / "out1.jsonl", once=True).run_once()
    assert delivered(tmp_path / "out1.jsonl") == first
    more = journal.numbered(2)
    assert pipeline(journal, tmp_path / "out2.jsonl", once=True).run_once()
    assert delivered(tmp_path / "out2.jsonl") == more


def test_a_stuck_flusher_pauses_journalctl_with_bounded_memory_and_loses_nothing(journal, tmp_path):
    total = 60_000
    journal.write(*({} for _ in range(total)))
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)  # flusher_file's open() blocks until somebody reads: a stuck output
    p = pipeline(journal, fifo)
    p.start()
    try:
        assert wait_until(lambda: p.events.history("queue_full"), timeout=60)
        read_when_full = p.metrics.lines
        assert wait_until(lambda: p.metrics.rejected_adds >= 20, timeout=60)
        assert p.metrics.lines == read_when_full  # the input stopped reading
        # Queue (4) + the flusher's backlog + the aggregator's groups + one chunk: a bound
        # in groups of 1024, far below what the journal holds.
        assert read_when_full < 30 * 1024 < total
        received = bytearray()
        reader = threading.Thread(target=lambda: received.extend(fifo.read_bytes()))
        reader.start()
        assert wait_until(lambda: p.metrics.delivered_logs == total, timeout=120)
    finally:
        assert p.stop(timeout=30)
    reader.join(30)
    logs = [log for line in bytes(received).splitlines() for log in orjson.loads(line)["logs"]]
    assert [log["contents"]["content"] for log in logs] == [f"m{n:04d}" for n in range(total)]


def test_the_registry_lists_input_journal_on_linux_only():
    def listing(platform):
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", "plugins", "--platform", platform],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    [row] = [r for r in listing("linux").splitlines() if r.startswith("input_journal ")]
    assert row.split()[1:3] == ["input", "linux"]
    assert "input_journal" not in listing("windows")


def test_a_windows_config_naming_input_journal_is_refused_by_name():
    text = "inputs: [{Type: input_journal}]\nflushers: [{Type: flusher_stdout}]\n"
    with pytest.raises(ConfigError, match="input_journal is only available on linux"):
        parse_config(text, "pipe.yml", registry=Registry("windows"))
    assert parse_config(text, "pipe.yml", registry=Registry("linux")).inputs[0].type == (
        "input_journal"
    )


def test_stop_while_following_is_prompt(journal, tmp_path):
    journal.numbered(1)
    p = pipeline(journal, tmp_path / "out.jsonl", seek="tail")
    p.start()
    started = time.monotonic()
    assert p.stop(timeout=10)
    assert time.monotonic() - started < 5
