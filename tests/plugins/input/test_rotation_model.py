"""A model-based test: random sequences of file operations against the real tailer.

Hypothesis drives writes, half-written lines, rename rotations, copytruncate,
truncation, deletion, re-creation, graceful restarts and crashes (the checkpoint file
as it was at the crash moment) against input_file with a real checkpoint store. The
model is simple: every complete line written must be read exactly once — except that
after a crash, lines read but not committed in the checkpoint file may come twice.

Operations that destroy unread data (truncate, delete) first wait until the agent has
read everything: nobody can read what is gone. Copytruncate waits only until the
file's first KiB was read — its fingerprint — so the rest may have to come from the
copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.plugins.input.acking import Tailing, committed_numbers

SYNC_DEADLINE = 10.0


class TailerModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="tailbox-model-"))
        self.dir = self.root / "logs"
        self.dir.mkdir()
        self.app = self.dir / "app.log"
        self.store = self.root / "cp.json"
        self.config = {
            "FilePaths": [str(self.dir / "app.log*")],
            "TailSizeKB": 100_000,
            "FlushTimeoutSecs": 600,  # a half-written line waits for its end
        }
        self.next = 0
        self.written: list[int] = []  # complete lines, in any file
        self.delivered: Counter[int] = Counter()
        self.may_repeat: set[int] = set()
        self.rotated = 0  # app.log.1 .. app.log.N exist
        self.tail = Tailing(self.store, self.config)

    # -- helpers ---------------------------------------------------------------------

    def _lines(self, count: int) -> bytes:
        numbers = list(range(self.next, self.next + count))
        self.next += count
        self.written.extend(numbers)
        return b"".join(b"%08d\n" % n for n in numbers)

    def _append(self, data: bytes) -> None:
        with self.app.open("ab") as f:
            f.write(data)

    def _seen(self) -> Counter[int]:
        seen = self.delivered.copy()
        seen.update(int(line) for line in self.tail.run.collector.lines())
        return seen

    def _sync(self, numbers: list[int] | None = None) -> None:
        """Wait until the agent has read `numbers` (default: everything written)."""
        want = set(self.written if numbers is None else numbers)
        deadline = time.monotonic() + SYNC_DEADLINE
        while not want <= self._seen().keys():
            missing = sorted(want - self._seen().keys())[:5]
            assert time.monotonic() < deadline, f"not read: {missing}"
            time.sleep(0.01)

    def _stop(self) -> None:
        self.tail.stop()
        self.delivered.update(int(line) for line in self.tail.run.collector.lines())

    def _shift(self) -> None:
        for i in range(self.rotated, 0, -1):
            (self.dir / f"app.log.{i}").rename(self.dir / f"app.log.{i + 1}")
        self.rotated += 1

    # -- operations ------------------------------------------------------------------

    @rule(count=st.integers(1, 150))
    def write(self, count: int) -> None:
        self._append(self._lines(count))

    @rule(restart=st.booleans())
    def write_half_a_line(self, restart: bool) -> None:
        line = self._lines(1)
        self._append(line[:4])
        self._sync(self.written[:-1])  # the agent has seen the half line
        if restart:
            self._stop()
            self.tail = Tailing(self.store, self.config)
        self._append(line[4:])

    @rule()
    def rotate_rename_and_create(self) -> None:
        if self.app.exists():
            self._shift()
            self.app.rename(self.dir / "app.log.1")
        self.app.write_bytes(b"")

    @precondition(lambda self: self.app.exists() and self.app.stat().st_size >= 1024)
    @rule()
    def copytruncate(self) -> None:
        data = self.app.read_bytes()
        first_kib = data[: data.find(b"\n", 1023) + 1]  # the lines the first KiB touches
        self._sync([int(n) for n in first_kib.split()])  # read: its fingerprint is known
        self._shift()
        shutil.copyfile(self.app, self.dir / "app.log.1")
        with self.app.open("r+b") as f:
            f.truncate(0)

    @precondition(lambda self: self.app.exists())
    @rule()
    def truncate(self) -> None:
        self._sync()
        with self.app.open("r+b") as f:
            f.truncate(0)

    @precondition(lambda self: self.rotated > 0 or self.app.exists())
    @rule(oldest=st.booleans())
    def delete(self, oldest: bool) -> None:
        self._sync()
        if oldest and self.rotated:
            (self.dir / f"app.log.{self.rotated}").unlink()
            self.rotated -= 1
        elif self.app.exists():
            self.app.unlink()

    @precondition(lambda self: not self.app.exists())
    @rule(count=st.integers(0, 150))
    def recreate(self, count: int) -> None:
        self.app.write_bytes(self._lines(count))

    @rule()
    def restart(self) -> None:
        self._stop()
        self.tail = Tailing(self.store, self.config)

    @rule()
    def crash(self) -> None:
        """The checkpoint file as it is now is what the next start finds."""
        saved = {p: p.read_bytes() for p in self.root.glob("cp.json*") if p.is_file()}
        self._stop()
        for path in self.root.glob("cp.json*"):
            path.unlink()
        for path, data in saved.items():
            path.write_bytes(data)
        if self.store.exists():
            committed = committed_numbers(self.store, self.dir)
            self.may_repeat |= set(self.delivered) - committed
        else:
            self.may_repeat |= set(self.delivered)
        self.tail = Tailing(self.store, self.config)

    # -- the model -------------------------------------------------------------------

    @invariant()
    def nothing_read_twice_unless_a_crash_allows(self) -> None:
        twice = {n for n, c in self._seen().items() if c > 1}
        assert twice <= self.may_repeat, f"read twice: {sorted(twice - self.may_repeat)[:5]}"

    def teardown(self) -> None:
        try:
            self._sync()
            # Nothing more arrives: the tailer has gone over every file again; then the
            # stop, after which the lines delivered are all there will be.
            assert self.tail.run.rounds.full_pass(), "the tailer did not go over its files"
        finally:
            self._stop()
            shutil.rmtree(self.root, ignore_errors=True)
        seen = self.delivered
        assert set(seen) == set(self.written)
        twice = {n for n, c in seen.items() if c > 1}
        assert twice <= self.may_repeat, f"read twice: {sorted(twice - self.may_repeat)[:5]}"


TailerModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("TAILBOX_MODEL_EXAMPLES", "10")),
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_tailer_against_a_model = TailerModel.TestCase
