"""A collector that acknowledges like a pipeline, and a runner for input_file with a real
checkpoint store: shared by the checkpoint and rotation tests.

"Nothing more arrives" is never checked by sleeping: a test waits for the lines it
expects, then for `Rounds.full_pass` (the tailer has looked at every file again: a stat
pass and a glob begun after the wait started have ended), stops the run, and asserts the
exact lines. A duplicate the tailer would read is delivered before its round ends: the
tailer hands each chunk to the collector as soon as it has read it (a stop never keeps
back a chunk read, only an unterminated last line, which a later start reads again).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
from watchdog.events import DirCreatedEvent

import plugins.input.file as file_input
from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore
from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.protocol import LogBatch, LogContext, LogGroup
from plugins.input.file import FileInput
from plugins.input.file import _tailer as tailer_module
from plugins.input.file._identity import FP_BYTES, digest
from tests.plugins.input.running import running

DEADLINE = 15.0


class Acking:
    """Takes batches like a pipeline and acknowledges them: at once (`auto`) or on `ack()`."""

    def __init__(self, auto: bool = True) -> None:
        self.auto = auto
        self.counter = AckCounter()
        self.batches: list[LogBatch] = []
        self._unacked: list[LogBatch] = []
        self._cond = threading.Condition()

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        self.counter.expect(batch.origin, len(batch))
        with self._cond:
            self.batches.append(batch)
            self._unacked.append(batch)
            self._cond.notify_all()
        if self.auto:
            self.ack()
        return True

    def add_logs(self, logs: list[Any], ctx: LogContext) -> bool:
        raise AssertionError("input_file hands over batches only")

    def ack(self, count: int | None = None) -> int:
        """Acknowledge the oldest `count` unacknowledged batches (all by default)."""
        with self._cond:
            n = len(self._unacked) if count is None else count
            done, self._unacked = self._unacked[:n], self._unacked[n:]
        for batch in done:
            group = LogGroup()
            group.extend_batch(batch, 0, len(batch))
            self.counter.group_done(group)
        return len(done)

    def lines(self) -> list[bytes]:
        with self._cond:
            return [line for batch in self.batches for line in batch.lines]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_count(self, n: int, timeout: float = DEADLINE) -> list[bytes]:
        self.wait_for(lambda: sum(len(b) for b in self.batches) >= n, timeout)
        return self.lines()


class Rounds:
    """The rounds of a tailing run's loop, as they end: a sync point for the tests."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ends: deque[float] = deque(maxlen=2)  # when the last two rounds ended
        self._glob_begun = 0.0  # when the round under way began a glob (0: it did not)
        self._glob_done = 0.0  # when the last glob that has ended began
        self.tailer: tailer_module.Tailer | None = None

    def globbing(self) -> None:
        with self._cond:
            self._glob_begun = time.monotonic()

    def ended(self) -> None:
        with self._cond:
            self._ends.append(time.monotonic())
            if self._glob_begun:
                self._glob_done, self._glob_begun = self._glob_begun, 0.0
            self._cond.notify_all()

    def full_pass(self, timeout: float = DEADLINE) -> bool:
        """Wait until the tailer has looked at everything again since this call: a stat
        pass (every reader caught up, every path checked) and a glob, both begun after
        the call, have ended. False if the loop did not get there within `timeout`.

        A glob is seen as it begins. A stat pass is not, but the loop stats when
        STAT_INTERVAL has passed since its last stat: a round that begins STAT_INTERVAL
        after the call or later does one, or follows one that began after the call; it
        is the second of two rounds that end that late. The call hints the tailer that a
        directory was created, as its watchdog thread would: it globs within RESCAN_GAP,
        not GLOB_INTERVAL.
        """
        start = time.monotonic()
        if self.tailer is not None:
            self.tailer.hint(DirCreatedEvent(""))  # a path the globs never match
        stat_after = start + tailer_module.STAT_INTERVAL

        def done() -> bool:
            stats = len(self._ends) == 2 and self._ends[0] >= stat_after
            return stats and self._glob_done > start

        with self._cond:
            return self._cond.wait_for(done, timeout)


class _WatchedTailer(tailer_module.Tailer):
    """The real Tailer, telling `rounds` when each round of its loop has ended and when
    one began a glob."""

    rounds: Rounds

    def _update_watches(self) -> None:
        self.rounds.globbing()  # the glob's first step (and the observer's start)
        super()._update_watches()

    def _close_unused(self) -> None:
        super()._close_unused()  # the last step of each round of run_tail's loop
        self.rounds.ended()


class Run:
    """One start of an input_file with the checkpoint store at `store_path`."""

    def __init__(self, store_path: Path, config: dict[str, Any], collector: Acking) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.store = CheckpointStore(
            store_path,
            pipeline="test",
            interval=0.1,
            report=lambda message: self.events.append(("warning", {"message": message})),
        )
        self.metrics = PipelineMetrics("test")
        self.plugin = FileInput.create(config)
        self.plugin.init(
            Context(
                checkpoints=self.store,
                metrics=self.metrics,
                report=lambda kind, data: self.events.append((kind, data)),
            )
        )
        self.collector = collector
        self.rounds = Rounds()

    @contextmanager
    def watched(self) -> Iterator[None]:
        """While the block runs, the plugin's tailer reports its rounds to `self.rounds`."""

        def make(*args: Any, **kwargs: Any) -> tailer_module.Tailer:
            tailer = _WatchedTailer(*args, **kwargs)
            tailer.rounds = self.rounds
            self.rounds.tailer = tailer
            return tailer

        with mock.patch.object(file_input, "Tailer", make):
            yield

    def warnings(self) -> list[str]:
        return [d["message"] for kind, d in self.events if kind == "warning"]


def entries(store_path: Path) -> list[dict[str, Any]]:
    try:
        data = store_path.read_bytes()
    except FileNotFoundError:
        # A save renames the file to .bak just before it renames the new one in: in
        # between, .bak is what the file was a moment ago.
        data = store_path.with_name(store_path.name + ".bak").read_bytes()
    return orjson.loads(data)["sections"].get("input_file", [])


def offset_of(store_path: Path, path: Path) -> int | None:
    st = path.stat()
    for e in entries(store_path):
        if (e["dev"], e["ino"]) == (st.st_dev, st.st_ino):
            return int(e["offset"])
    return None


@contextmanager
def tailing(
    store_path: Path, config: dict[str, Any], collector: Acking | None = None
) -> Iterator[Run]:
    """Tail until the block ends; then stop, and write the checkpoints like a pipeline stop."""
    run = Run(store_path, config, collector or Acking())
    with (
        run.watched(),
        running(run.plugin, run.collector, "test-input-file", DEADLINE, run.store.close),
    ):
        yield run


class Tailing:
    """`tailing` as an object: start() and stop() at will (for state machines)."""

    def __init__(self, store_path: Path, config: dict[str, Any]) -> None:
        self._cm = tailing(store_path, config)
        self.run = self._cm.__enter__()

    def stop(self) -> None:
        self._cm.__exit__(None, None, None)


def committed_offsets(store_path: Path, directory: Path) -> list[tuple[Path, int]]:
    """Each checkpoint entry's file in `directory` and committed offset (files found by
    identity and fingerprint, as the agent does; entries of no file there are left out)."""
    files = []
    for path in directory.iterdir():
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            files.append((path, (st.st_dev, st.st_ino), f.read(FP_BYTES)))
    found = []
    for e in entries(store_path):
        match = [
            p
            for p, key, head in files
            if key == (e["dev"], e["ino"]) and digest(head[: e["fp_len"]]) == e["fp"]
        ] or [
            p
            for p, _, head in files
            if e["fp_len"] == FP_BYTES and len(head) == FP_BYTES and digest(head) == e["fp"]
        ]
        if match:
            found.append((match[0], int(e["offset"])))
    return found


def committed_numbers(store_path: Path, directory: Path) -> set[int]:
    """The numbered lines before each file's committed offset in the checkpoint file: what
    a restart will not read again."""
    committed: set[int] = set()
    for path, offset in committed_offsets(store_path, directory):
        with path.open("rb") as f:
            committed.update(int(n) for n in f.read(offset).split())
    return committed


def caught_up(store_path: Path, directory: Path) -> bool:
    """Whether the checkpoint file commits every non-empty file in `directory` to its end:
    every file was found, and all of each was read and acknowledged — so whatever would
    be read twice has been delivered by then. Meant for files no longer written."""
    try:
        committed: dict[Path, int] = {}
        for path, offset in committed_offsets(store_path, directory):
            committed[path] = max(offset, committed.get(path, 0))
        return all(committed.get(path, 0) == path.stat().st_size for path in directory.iterdir())
    except FileNotFoundError:
        return False  # the store is between its two renames, or a file is being rotated


def once(store_path: Path, config: dict[str, Any]) -> Run:
    run = Run(store_path, config, Acking())
    run.plugin.run(run.collector, threading.Event(), True)
    run.store.close()
    return run


def numbered(first: int, count: int, width: int = 8) -> bytes:
    return b"".join(b"%0*d\n" % (width, i) for i in range(first, first + count))


def expect(first: int, count: int, width: int = 8) -> list[bytes]:
    return [b"%0*d" % (width, i) for i in range(first, first + count)]


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)
