"""A collector that acknowledges like a pipeline, and a runner for input_file with a real
checkpoint store: shared by the checkpoint and rotation tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore
from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.protocol import LogBatch, LogContext, LogGroup
from plugins.input.file import FileInput
from plugins.input.file._identity import FP_BYTES, digest

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

    def warnings(self) -> list[str]:
        return [d["message"] for kind, d in self.events if kind == "warning"]


def entries(store_path: Path) -> list[dict[str, Any]]:
    return orjson.loads(store_path.read_bytes())["sections"].get("input_file", [])


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
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run.plugin.run(run.collector, stop, False)
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=target, name="test-input-file")
    thread.start()
    try:
        yield run
    finally:
        stop.set()
        thread.join(DEADLINE)
        run.store.close()
    assert not thread.is_alive(), "run() did not return after stop"
    assert not errors, errors


class Tailing:
    """`tailing` as an object: start() and stop() at will (for state machines)."""

    def __init__(self, store_path: Path, config: dict[str, Any]) -> None:
        self._cm = tailing(store_path, config)
        self.run = self._cm.__enter__()

    def stop(self) -> None:
        self._cm.__exit__(None, None, None)


def committed_numbers(store_path: Path, directory: Path) -> set[int]:
    """The numbered lines before each file's committed offset in the checkpoint file: what
    a restart will not read again (files found by identity and fingerprint, as the agent)."""
    files = []
    for path in directory.iterdir():
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            files.append((path, (st.st_dev, st.st_ino), f.read(FP_BYTES)))
    committed: set[int] = set()
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
            with match[0].open("rb") as f:
                committed.update(int(n) for n in f.read(e["offset"]).split())
    return committed


def once(store_path: Path, config: dict[str, Any]) -> Run:
    run = Run(store_path, config, Acking())
    run.plugin.run(run.collector, threading.Event(), True)
    run.store.close()
    return run


def wait_until(predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def numbered(first: int, count: int, width: int = 8) -> bytes:
    return b"".join(b"%0*d\n" % (width, i) for i in range(first, first + count))


def expect(first: int, count: int, width: int = 8) -> list[bytes]:
    return [b"%0*d" % (width, i) for i in range(first, first + count)]


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)
