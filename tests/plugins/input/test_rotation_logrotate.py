"""`tailbox run` against Debian's real logrotate, a writer at full speed, and SIGKILL.

A writer process appends numbered lines (one write(2) per line, as fast as it can) to
`app.log` while logrotate rotates it many times — `create` (rename, new file) or
`copytruncate` (copy, then truncate in place) — and `tailbox run` tails `app.log*` into
flusher_file. The glob includes the rotated names, as Vector and Filebeat advise for
copytruncate: a copy must be recognised by its fingerprint, not read again.

logrotate's copytruncate loses whatever the application writes between its copy and
its truncate (in neither file then); the writer is paused (SIGSTOP) around every
rotation, so the tests measure the agent, not that race.

Rotations while the writer writes are the scenario, so the writer never waits for the
agent, and the agent may fall behind (a file may be rotated before it was found). But
the rotations wait on conditions, not on time: the writer has put MIN_LINES lines into
the current app.log, and the file logrotate is about to delete (`rotate 5`) is one the
agent holds open or has committed to its end — a file deleted before anybody found it
would be a loss, but not the agent's. At the end the test waits until every line
arrived *and* the checkpoints commit every file to its end (each file found and read
whole: whatever would be read twice has been delivered by then), then stops the agent,
which delivers all it read, and counts.

Every number must arrive, none twice — and with the agent killed (SIGKILL) at random
moments and restarted: nothing lost, and no line that was committed in the checkpoints
at the moment of a kill is delivered again; the duplicates (lines delivered whose
acknowledgement had not been written yet) are counted and reported.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent.checkpoint import checkpoint_path
from tests.plugins.input.acking import caught_up, committed_numbers, committed_offsets

WRITER = Path(__file__).with_name("numbered_writer.py")
NUMBER = re.compile(rb'"content":"(\d{10})"')
LOGROTATE = shutil.which("logrotate") or next(
    (p for p in ("/usr/sbin/logrotate", "/sbin/logrotate") if os.access(p, os.X_OK)), None
)
CATCH_UP = 90.0  # seconds the agent may take to deliver everything written
KILL_TEST_RATE = 20_000  # lines per second the writer keeps to in the SIGKILL test
MIN_LINES = 50_000  # lines the writer puts into app.log before each rotation, at least
LINE = 11  # bytes per numbered line


def need_logrotate() -> str:
    if LOGROTATE is None:
        pytest.fail(
            "logrotate is not installed; .ci/run installs it (apt-get install -y logrotate)"
        )
    return LOGROTATE


class Scene:
    """The log directory, the writer, logrotate, and `tailbox run` processes."""

    def __init__(self, tmp_path: Path, keep: int = 5) -> None:
        self.logrotate = need_logrotate()
        self.keep = keep
        self.dir = tmp_path / "logs"
        self.dir.mkdir()
        self.app = self.dir / "app.log"
        self.app.write_bytes(b"")
        self.out = tmp_path / "out.jsonl"
        self.state = tmp_path / "logrotate.status"
        self.confs = {}
        for mode in ("create", "copytruncate"):
            conf = tmp_path / f"{mode}.conf"
            conf.write_text(
                f"{self.app} {{\n  rotate {keep}\n  {mode}\n  missingok\n  nocompress\n}}\n"
            )
            self.confs[mode] = conf
        self.config = tmp_path / "rot.yml"
        self.config.write_text(
            "global: {AggregatIntervalMs: 200}\n"
            f"inputs: [{{Type: input_file, FilePaths: ['{self.dir}/app.log*']}}]\n"
            f"flushers: [{{Type: flusher_file, FilePath: '{self.out}'}}]\n"
        )
        self.agent: subprocess.Popen[bytes] | None = None
        self.agent_err = tmp_path / "agent.err"
        self.starts = 0
        self.writer: subprocess.Popen[bytes] | None = None
        self.rotations = 0
        self._read_at = 0
        self._seen = 0

    # -- processes --------------------------------------------------------------------

    def start_agent(self) -> None:
        saves = checkpoint_path("rot")
        before = saves.stat().st_mtime_ns if saves.exists() else None
        self.starts += 1
        self.agent_err = self.dir.parent / f"agent-{self.starts}.err"
        with self.agent_err.open("wb") as err:
            self.agent = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "-q", "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        # The initial discovery ends with a checkpoint save: from then on it tails.
        wait_for(
            lambda: saves.exists() and saves.stat().st_mtime_ns != before,
            30,
            "the agent did not start",
            self.agent,
            self.agent_err,
        )

    def stop_agent(self) -> None:
        assert self.agent is not None
        self.agent.send_signal(signal.SIGTERM)
        self.agent.wait(60)
        assert self.agent.returncode == 0, self.agent_err.read_text()
        self.agent = None

    def kill_agent(self) -> None:
        assert self.agent is not None
        self.agent.kill()
        self.agent.wait(30)
        self.agent = None

    def start_writer(self, max_rate: int = 0) -> None:
        self.writer = subprocess.Popen(
            [sys.executable, str(WRITER), str(self.app), "1", str(max_rate)],
            stdout=subprocess.PIPE,
        )
        assert self.writer.stdout is not None
        assert self.writer.stdout.readline().strip() == b"started"

    def stop_writer(self) -> int:
        assert self.writer is not None
        self.writer.send_signal(signal.SIGTERM)
        out, _ = self.writer.communicate(timeout=30)
        self.writer = None
        return int(out.split()[-1])

    def rotate(self, mode: str) -> None:
        """Pause the writer, rotate, resume (copytruncate's own race is not ours)."""
        assert self.writer is not None
        self.writer.send_signal(signal.SIGSTOP)
        try:
            done = subprocess.run(
                [self.logrotate, "-f", "-s", str(self.state), str(self.confs[mode])],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert done.returncode == 0, done.stderr
        finally:
            self.writer.send_signal(signal.SIGCONT)
        self.rotations += 1

    def wait_for_writes(self) -> None:
        """Until a rotation may come (module docstring): the writer has put MIN_LINES lines
        into the current app.log, and the agent can do without the file logrotate deletes."""
        wait_for(
            lambda: self.app.stat().st_size >= MIN_LINES * LINE,
            30,
            "the writer did not write",
            self.writer,
        )
        wait_for(
            lambda: self.may_delete(self.dir / f"app.log.{self.keep}"),
            30,
            "the agent did not find the oldest rotated file",
            self.agent,
            self.agent_err,
        )

    def may_delete(self, path: Path) -> bool:
        """Whether the agent holds `path` open (it reads an open file to its end even once
        deleted) or the checkpoints commit it to its end (its handle may be closed idle)."""
        assert self.agent is not None
        if not path.exists():
            return True
        st = path.stat()
        try:
            fds = list(Path(f"/proc/{self.agent.pid}/fd").iterdir())
        except OSError:
            return False  # exited: wait_for says so
        for fd in fds:
            with contextlib.suppress(OSError):  # closed meanwhile
                held = os.stat(fd)  # the file the descriptor is open on
                if (held.st_dev, held.st_ino) == (st.st_dev, st.st_ino):
                    return True
        try:
            committed = committed_offsets(checkpoint_path("rot"), self.dir)
        except FileNotFoundError:
            return False
        return (path, st.st_size) in committed

    def wait_caught_up(self) -> None:
        """Until the checkpoint file commits every file to its end (the writer stopped)."""
        wait_for(
            lambda: caught_up(checkpoint_path("rot"), self.dir),
            CATCH_UP,
            "the checkpoints do not reach the ends of the files",
            self.agent,
            self.agent_err,
        )

    def cleanup(self) -> None:
        for proc in (self.agent, self.writer):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate(timeout=30)

    # -- what arrived -----------------------------------------------------------------

    def numbers(self, start: int = 0) -> list[int]:
        data = self.out.read_bytes()[start:] if self.out.exists() else b""
        numbers = [int(n) for n in NUMBER.findall(data)]
        # Every log is one whole line: no fragment of a line cut at a rotation.
        assert data.count(b'"content":"') == len(numbers), "a line arrived in pieces"
        return numbers

    def delivered(self) -> int:
        """How many numbers are in the output so far (read incrementally)."""
        if not self.out.exists():
            return 0
        with self.out.open("rb") as f:
            f.seek(self._read_at)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._seen += len(NUMBER.findall(data, 0, end))
        self._read_at += end
        return self._seen

    def trim_torn_output(self) -> int:
        """Cut a line a killed flusher left half-written; the output's size after it."""
        if not self.out.exists():
            return 0
        data = self.out.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            with self.out.open("r+b") as f:
                f.truncate(keep)
        self._read_at = min(self._read_at, keep)
        return keep

    def committed_numbers(self) -> set[int]:
        """What a restart will not read again, from the checkpoint file as it is now."""
        return committed_numbers(checkpoint_path("rot"), self.dir)


def wait_for(
    condition: Any, timeout: float, message: str, proc: Any = None, err: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            said = err.read_text() if err is not None else ""
            pytest.fail(f"{message}: exited with {proc.returncode}: {said}")
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.05)


def assert_all_once(numbers: list[int], written: int) -> None:
    missing = written - len(set(numbers))
    extra = len(numbers) - len(set(numbers))
    assert set(numbers) == set(range(written)), f"{missing} of {written} lines lost"
    assert extra == 0, f"{extra} lines delivered twice"


@pytest.mark.parametrize("mode", ["create", "copytruncate"])
def test_logrotate_while_a_writer_writes_at_full_speed(tmp_path: Path, mode: str) -> None:
    scene = Scene(tmp_path)
    try:
        scene.start_agent()
        scene.start_writer()
        for _ in range(12):  # rotations while it writes: conditions pace them, not time
            scene.wait_for_writes()
            scene.rotate(mode)
        scene.wait_for_writes()
        written = scene.stop_writer()
        wait_for(
            lambda: scene.delivered() >= written,
            CATCH_UP,
            "not everything arrived",
            scene.agent,
            scene.agent_err,
        )
        scene.wait_caught_up()  # nothing more will come
        scene.stop_agent()  # delivers what it read
        print(f"\n{mode}: {written} lines, {scene.rotations} rotations")
        assert written >= 13 * MIN_LINES and scene.rotations == 12
        assert_all_once(scene.numbers(), written)
    finally:
        scene.cleanup()


def test_sigkill_at_random_moments_loses_nothing_and_repeats_only_the_unacknowledged(
    tmp_path: Path, record_property: Any
) -> None:
    seed = int(os.environ.get("TAILBOX_KILL_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    scene = Scene(tmp_path, keep=100)  # nothing is deleted while the agent is down
    kills: list[Kill] = []
    sizes: list[tuple[float, int]] = []  # (wall clock, output size): what was delivered when
    try:
        scene.start_agent()
        # Held to a busy application's pace, so that the test's volume stays bounded.
        scene.start_writer(max_rate=KILL_TEST_RATE)
        for k in range(6):
            # Kills and rotations at random moments are the scenario: wall-clock time is
            # what is drawn here. The loop samples the output's size every 20 ms, the
            # record `before_save` is looked up in (a rate of sampling, not a wait).
            deadline = time.monotonic() + rng.uniform(0.5, 2.5)
            next_rotation = time.monotonic() + rng.uniform(0.1, 0.4)
            while time.monotonic() < deadline:
                sizes.append((time.time(), scene.out.stat().st_size if scene.out.exists() else 0))
                if time.monotonic() >= next_rotation:
                    scene.rotate("create" if (scene.rotations % 2) else "copytruncate")
                    next_rotation = time.monotonic() + rng.uniform(0.1, 0.4)
                time.sleep(0.02)
            scene.kill_agent()
            saved = orjson.loads(checkpoint_path("rot").read_bytes())["saved"]
            committed = scene.committed_numbers()
            if rng.random() < 0.5:  # sometimes rotate while nobody is watching
                scene.rotate("copytruncate" if k % 2 else "create")
            # What was in the output when the last checkpoint save began.
            before_save = max((size for t, size in sizes if t < saved - 0.01), default=0)
            kills.append(Kill(before_save, scene.trim_torn_output(), committed))
            scene.start_agent()
        # The last start tails the writer too: it delivers lines before the writer stops.
        restarted_at = kills[-1].restart_at
        wait_for(
            lambda: scene.out.exists() and scene.out.stat().st_size > restarted_at,
            30,
            "the agent delivered nothing after its last start",
            scene.agent,
            scene.agent_err,
        )
        written = scene.stop_writer()
        # Duplicates count too: this can hold before every number arrived...
        wait_for(lambda: scene.delivered() >= written, CATCH_UP, "not everything arrived")
        scene.wait_caught_up()  # ...this only once every file was read whole
        scene.stop_agent()  # delivers what it read

        numbers = scene.numbers()
        assert set(numbers) == set(range(written)), "lines were lost"
        data = scene.out.read_bytes()
        ends = [kill.restart_at for kill in kills[1:]] + [len(data)]
        for kill, end in zip(kills, ends, strict=True):
            before = set(_numbers(data[: kill.restart_at]))
            again = before.intersection(_numbers(data[kill.restart_at : end]))
            # Nothing the checkpoints had committed is read again...
            assert not kill.committed.intersection(again), "committed lines read again"
            # ...and what is read again had been delivered after the last save began:
            # an acknowledgement reaches the checkpoint file within its save interval.
            recent = set(_numbers(data[kill.before_save : kill.restart_at]))
            assert again <= recent, f"{len(again - recent)} lines older than the last save"
            kill.again = len(again)
        duplicates = len(numbers) - written
        report = (
            f"SIGKILL x{len(kills)} (seed {seed}), {scene.rotations} rotations: "
            f"{written} lines, {duplicates} duplicates ({100 * duplicates / written:.1f} %; "
            f"per kill {[k.again for k in kills]}), all delivered after the last checkpoint "
            "save before their kill, none committed"
        )
        print("\n" + report)
        record_property("sigkill_duplicates", duplicates)
        record_property("sigkill_report", report)
    finally:
        scene.cleanup()


class Kill:
    def __init__(self, before_save: int, restart_at: int, committed: set[int]) -> None:
        self.before_save = before_save  # output size when the last save began
        self.restart_at = restart_at  # output size when the agent was started again
        self.committed = committed  # the lines the checkpoint file had committed
        self.again = 0


def _numbers(data: bytes) -> list[int]:
    return [int(n) for n in NUMBER.findall(data)]
