"""LogGroupQueue: the bounded hand-over from aggregators to the flusher side."""

from __future__ import annotations

import threading
import time
from collections import deque

from agent.protocol import LogGroup

__all__ = ["DEFAULT_QUEUE_SIZE", "LogGroupQueue", "QueueClosedError", "QueueFullError"]

DEFAULT_QUEUE_SIZE = 4  # iLogtail's DefaultLogGroupQueueSize


class QueueFullError(Exception):
    """The queue is full (iLogtail's errAggAdd): nothing was added, try again later.

    An aggregator's `add_batch` that took some lines of a batch before the queue
    refused a group sets `consumed` to how many; the caller retries with the rest.
    """

    def __init__(self, message: str = "log group queue is full", consumed: int = 0) -> None:
        super().__init__(message)
        self.consumed = consumed


class QueueClosedError(Exception):
    """The pipeline is stopping and the queue takes nothing more."""


class LogGroupQueue:
    """A bounded FIFO of LogGroups.

    Producers (aggregators) call `add` — which raises `QueueFullError` at once when the
    queue holds `capacity` groups — or `add_with_wait`. The consumer (the pipeline's
    flusher dispatcher) calls `get`. `wait_for_space` lets a producer that was refused
    sleep until a slot frees instead of spinning.
    """

    def __init__(self, capacity: int = DEFAULT_QUEUE_SIZE) -> None:
        if capacity < 1:
            raise ValueError(f"queue capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: deque[LogGroup] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self.rejected = 0  # adds refused because the queue was full

    def __len__(self) -> int:
        return len(self._items)

    @property
    def depth(self) -> int:
        return len(self._items)

    def is_full(self) -> bool:
        return len(self._items) >= self.capacity

    def add(self, group: LogGroup) -> None:
        with self._cond:
            self._put(group)

    def add_with_wait(self, group: LogGroup, timeout: float) -> None:
        """Add, waiting up to `timeout` seconds for a free slot; QueueFullError after."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._items) >= self.capacity and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._put(group)

    def _put(self, group: LogGroup) -> None:
        if self._closed:
            raise QueueClosedError("the pipeline is stopping")
        if len(self._items) >= self.capacity:
            self.rejected += 1
            raise QueueFullError(f"log group queue is full ({self.capacity} groups)")
        self._items.append(group)
        self._cond.notify_all()

    def wait_for_space(self, timeout: float) -> bool:
        """Sleep until the queue has a free slot (True) or `timeout` passes (False)."""
        with self._cond:
            if len(self._items) < self.capacity or self._closed:
                return True
            self._cond.wait(timeout)
            return len(self._items) < self.capacity

    def get(self, timeout: float | None = None) -> LogGroup | None:
        """The oldest group, waiting up to `timeout`; None on timeout or when closed and empty."""
        with self._cond:
            if not self._items:
                if self._closed:
                    return None
                self._cond.wait(timeout)
                if not self._items:
                    return None
            group = self._items.popleft()
            self._cond.notify_all()
            return group

    def close(self) -> None:
        """Refuse further adds; `get` still drains what is queued."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
