"""Acknowledgement counting: when is every log of a batch delivered by every flusher?

An input that keeps checkpoints gives each batch an `origin` with a `ledger` attribute
(see `plugins.input.file`). The pipeline tells the `AckCounter` how many logs of that
origin enter the aggregator (`expect`) before handing them over; when a LogGroup has
been delivered by every flusher (or refused for good by one), `group_done` walks its
parts — a batch slice acknowledges `stop - start` logs of its batch's origin, a list of
Logs one per log that carries an origin — and once an origin's count reaches zero its
ledger's `done(origin)` is called, on the flusher thread that completed the group.

A batch that the runner splits after a partial `QueueFullError` keeps the same origin
object, so its pieces count against one total however the aggregators cut and flush
them. Origins are counted by object identity; they need not be hashable.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from agent.protocol import Log, LogBatch, LogGroup

__all__ = ["AckCounter", "InOrder", "OrderedLedger", "ledger_of"]

_log = logging.getLogger("tailbox.acks")


class InOrder:
    """The origins an input handed over, in order, until each is acknowledged.

    An input's ledger commits where the longest run of acknowledged origins from the
    oldest one ends: a batch delivered before an earlier one must not move a checkpoint
    past logs still on their way. `done` returns the last origin of that run when it
    grew, else None. Not thread-safe: a ledger calls it under its own lock.
    """

    __slots__ = ("_acked", "_ids", "_pending")

    def __init__(self) -> None:
        self._pending: deque[Any] = deque()
        self._ids: set[int] = set()  # id() of every pending origin
        self._acked: set[int] = set()  # id() of the pending origins acknowledged

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, origin: object) -> None:
        self._pending.append(origin)
        self._ids.add(id(origin))

    def done(self, origin: object) -> Any:
        key = id(origin)
        if key not in self._ids:
            return None  # not ours, or acknowledged before
        self._acked.add(key)
        pending, acked, ids = self._pending, self._acked, self._ids
        last = None
        while pending and id(pending[0]) in acked:
            last = pending.popleft()
            ids.discard(id(last))
            acked.discard(id(last))
        return last


class OrderedLedger:
    """What an input commits (an offset, a cursor, a bookmark) as its origins are
    acknowledged in order. Subclasses add origins with `_pending.add` under `_lock` and
    say what the last origin of a newly acknowledged run commits (`_commit`, called
    under the lock); `notify` (the checkpoint store's `changed`) follows each advance.
    """

    __slots__ = ("_lock", "_notify", "_pending")

    def __init__(self, notify: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._pending = InOrder()
        self._notify = notify

    def _commit(self, origin: Any) -> None:
        raise NotImplementedError

    def done(self, origin: object) -> None:
        """Every log of `origin` was acknowledged (called by AckCounter, any thread)."""
        with self._lock:
            last = self._pending.done(origin)
            if last is not None:
                self._commit(last)
        if last is not None and self._notify is not None:
            self._notify()

    @property
    def in_flight(self) -> int:
        """Origins handed over and not yet acknowledged in order."""
        with self._lock:
            return len(self._pending)


def _count(counts: dict[int, list[Any]], origins: Iterable[object], n: int) -> None:
    """Add `n` to the [origin, count] entry of each origin (None: no origin) by identity."""
    for origin in origins:
        if origin is not None:
            entry = counts.get(id(origin))
            if entry is None:
                counts[id(origin)] = [origin, n]
            else:
                entry[1] += n


def ledger_of(origin: object) -> Any:
    """The ledger an origin reports to, or None when nobody waits for its acknowledgement."""
    return getattr(origin, "ledger", None) if origin is not None else None


class AckCounter:
    """Outstanding logs per origin for one pipeline; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[int, list[Any]] = {}  # id(origin) -> [origin, logs not yet acknowledged]

    def __len__(self) -> int:
        """How many origins wait for acknowledgements."""
        return len(self._left)

    def expect(self, origin: object, count: int) -> None:
        """`count` logs of `origin` are about to enter the aggregator (0: done at once)."""
        if ledger_of(origin) is None:
            return
        if count <= 0:
            with self._lock:
                pending = id(origin) in self._left
            if not pending:
                self._done([origin])
            return
        with self._lock:
            entry = self._left.get(id(origin))
            if entry is None:
                self._left[id(origin)] = [origin, count]
            else:
                entry[1] += count

    def expect_logs(self, logs: Iterable[Log], before: Iterable[object] = ()) -> None:
        """Expect each log's origin once per log; origins in `before` without a log are done."""
        counts: dict[int, list[Any]] = {}
        _count(counts, (log.origin for log in logs), 1)
        for origin in before:
            if id(origin) not in counts:
                counts[id(origin)] = [origin, 0]
        for origin, count in counts.values():
            self.expect(origin, count)

    def group_done(self, group: LogGroup) -> None:
        """Every flusher is through with `group`: acknowledge its logs."""
        counts: dict[int, list[Any]] = {}
        for part in group.parts():
            if isinstance(part, list):
                _count(counts, (log.origin for log in part), 1)
            else:
                batch, start, stop = part
                if isinstance(batch, LogBatch):
                    _count(counts, (batch.origin,), stop - start)
        if counts:
            self._settle(counts)

    def release(self, origin: object, count: int = 1) -> None:
        """Take back `count` expected logs that will never come (a hold on the origin:
        `expect(origin, 1)` before its logs arrive in several steps, released after)."""
        if ledger_of(origin) is not None:
            self._settle({id(origin): [origin, count]})

    def _settle(self, counts: dict[int, list[Any]]) -> None:
        done: list[object] = []
        with self._lock:
            for key, (origin, count) in counts.items():
                entry = self._left.get(key)
                if entry is None or entry[0] is not origin:
                    continue  # not expected here (no ledger, or expected elsewhere)
                entry[1] -= count
                if entry[1] <= 0:
                    del self._left[key]
                    done.append(origin)
        self._done(done)

    def _done(self, origins: list[object]) -> None:
        for origin in origins:
            try:
                ledger_of(origin).done(origin)
            except Exception:
                _log.exception("acknowledging %r failed", origin)
