"""The flusher side of a pipeline: a dispatcher drains the LogGroupQueue into one lane per flusher.

Each flusher has its own thread and a small bounded backlog, so a slow or failing
flusher does not stop the others (iLogtail delivers to flushers one after another).
A lane retries failed deliveries with exponential backoff and jitter, waiting at least
the `retry_after` seconds an exception carries (a receiver's Retry-After). A group is
acknowledged — its `acks` called, the metrics counted — only when every flusher has
delivered it. When one lane's backlog is full the dispatcher waits, the queue fills,
and the aggregator's back-pressure takes over: memory stays bounded.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from agent.events import EventBus
from agent.foreground import foreground
from agent.metrics import PipelineMetrics
from agent.plugin import DeliveryRejected
from agent.protocol import LogGroup
from agent.queue import LogGroupQueue

__all__ = ["Delivery", "FlusherLane"]

_log = logging.getLogger("tailbox.delivery")

LANE_BACKLOG = 8  # groups waiting per flusher
# The groups a lane holds, waiting and in delivery, by the aggregators' size estimate:
# eight waiting groups of 1 MB behind eight in a slow flush put ~20 MB of logs in memory
# (headless RSS touched 60 MB behind an fsyncing flusher_file). An empty backlog still
# takes a group, so one larger than this moves too.
LANE_BACKLOG_BYTES = 4 * 1024 * 1024
BATCH_GROUPS = 8  # groups handed to one flusher.flush() call at most
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 3600.0  # the longest wait a flusher's retry_after can impose


class _Pending:
    """How many lanes still have to deliver a group."""

    __slots__ = ("group", "lost", "nbytes", "rejected", "remaining")

    def __init__(self, group: LogGroup, lanes: int) -> None:
        self.group = group
        self.nbytes = max(group.nbytes, 0)  # the aggregator's estimate; 0 when unknown
        self.remaining = lanes
        self.rejected = False  # a flusher refused it for good
        self.lost = False  # a flusher gave up at shutdown: it must not be acknowledged


def _retry_after(error: Exception) -> float:
    """The wait an exception asks for (`retry_after` seconds), within [0, RETRY_AFTER_MAX]."""
    try:
        seconds = float(getattr(error, "retry_after", 0.0) or 0.0)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(seconds):  # inf / nan: a bad value must not kill the lane
        return 0.0
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


class FlusherLane:
    """One flusher, its thread, its bounded backlog and its retry loop."""

    def __init__(
        self,
        flusher: Any,
        name: str,
        pipeline: str,
        done: Callable[[_Pending, bool], None],
        events: EventBus | None,
        metrics: PipelineMetrics | None,
        backlog: int = LANE_BACKLOG,
        backlog_bytes: int = LANE_BACKLOG_BYTES,
    ) -> None:
        self.flusher = flusher
        self.name = name
        self.pipeline = pipeline
        self._done = done
        self._events = events
        self._metrics = metrics
        self._capacity = backlog
        self._capacity_bytes = backlog_bytes
        self._backlog: deque[_Pending] = deque()
        self._held_bytes = 0  # estimated bytes of the groups waiting and in delivery
        self._cond = threading.Condition()
        self._closed = False
        self._give_up = threading.Event()
        self._retry_now = threading.Event()
        self.failing_since = 0.0
        self.last_error = ""
        self.delivered = 0
        self._thread = threading.Thread(
            target=self._run, name=f"tailbox-{pipeline}-{name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def offer(self, pending: _Pending, timeout: float) -> bool:
        """Queue a group for this flusher; False when the backlog stayed full for `timeout`."""
        with self._cond:
            if self._full():
                self._cond.wait(timeout)
                if self._full():
                    return False
            self._backlog.append(pending)
            self._held_bytes += pending.nbytes
            self._cond.notify_all()
            return True

    def _full(self) -> bool:
        if not self._backlog:
            return False  # whatever is in delivery, the next group may wait
        return len(self._backlog) >= self._capacity or self._held_bytes >= self._capacity_bytes

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def retry_now(self) -> bool:
        """Cut the current backoff short (the GUI's "Retry now"); True if one was waiting."""
        waiting = bool(self.failing_since)
        self._retry_now.set()
        return waiting

    def give_up(self) -> None:
        """Stop retrying (shutdown deadline passed): what is left is not acknowledged."""
        self._give_up.set()
        self._retry_now.set()
        self.close()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _take(self) -> list[_Pending]:
        with self._cond:
            while not self._backlog and not self._closed:
                self._cond.wait()
            batch = []
            while self._backlog and len(batch) < BATCH_GROUPS:
                batch.append(self._backlog.popleft())
            self._cond.notify_all()
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return
            foreground.pause_point()
            # After the shutdown deadline, drain without delivering: nothing is acknowledged.
            ok = None if self._give_up.is_set() else self._deliver([p.group for p in batch])
            for pending in batch:
                self._done(pending, ok)
            with self._cond:
                self._held_bytes -= sum(p.nbytes for p in batch)
                self._cond.notify_all()

    def _deliver(self, groups: list[LogGroup]) -> bool | None:
        """True delivered, False rejected for good, None given up at shutdown."""
        attempt = 0
        while True:
            try:
                self.flusher.flush(groups)
            except DeliveryRejected as e:
                self._failed(f"rejected: {e}", permanent=True)
                return False
            except Exception as e:
                self._failed(f"{type(e).__name__}: {e}", permanent=False)
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt) * random.uniform(0.5, 1.0)
                # A flusher may say how long the receiver asked it to wait (Retry-After):
                # sleeping that long beats failing fast attempts until the time is up.
                delay = max(delay, _retry_after(e))
                attempt += 1
                self._retry_now.wait(delay)
                self._retry_now.clear()
                if self._give_up.is_set():
                    return None
                continue
            self.delivered += len(groups)
            if self.failing_since:
                if self._events is not None:
                    self._events.publish(
                        "flusher_recovered",
                        self.pipeline,
                        flusher=self.name,
                        since=self.failing_since,
                        duration=time.time() - self.failing_since,
                    )
                self.failing_since = 0.0
            return True

    def _failed(self, error: str, permanent: bool) -> None:
        self.last_error = error
        if self._metrics is not None:
            self._metrics.errors += 1
            errors = self._metrics.flusher_errors
            errors[self.name] = errors.get(self.name, 0) + 1
        if not permanent:
            if self.failing_since:
                return  # one event per failure episode, not one per retry
            self.failing_since = time.time()
        if self._events is not None:
            self._events.publish(
                "flusher_error", self.pipeline, flusher=self.name, error=error, permanent=permanent
            )
        _log.info("pipeline %s: flusher %s failed: %s", self.pipeline, self.name, error)


class Delivery:
    """Drains a pipeline's queue into its flusher lanes and acknowledges delivered groups."""

    def __init__(
        self,
        queue: LogGroupQueue,
        flushers: list[tuple[str, Any]],
        pipeline: str,
        events: EventBus | None = None,
        metrics: PipelineMetrics | None = None,
        on_group: Callable[[LogGroup], None] | None = None,
        *,
        on_ack: Callable[[LogGroup], None] | None = None,
    ) -> None:
        self.queue = queue
        self.pipeline = pipeline
        self._metrics = metrics
        self._on_group = on_group
        # Checkpoints: told of every group delivered (or refused for good), never of lost ones.
        self._on_ack = on_ack
        self._lock = threading.Lock()
        self.lanes = [
            FlusherLane(f, name, pipeline, self._lane_done, events, metrics) for name, f in flushers
        ]
        self.undelivered = 0
        self._give_up = threading.Event()
        self._thread = threading.Thread(
            target=self._dispatch, name=f"tailbox-{pipeline}-dispatch", daemon=True
        )

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()
        self._thread.start()

    def slowest(self) -> str:
        """The flusher most behind: failing first, then the longest backlog."""
        if not self.lanes:
            return ""
        lane = max(self.lanes, key=lambda ln: (bool(ln.failing_since), ln.backlog))
        return lane.name

    def _dispatch(self) -> None:
        while True:
            group = self.queue.get(timeout=0.5)
            if group is None:
                if self.queue.closed and not len(self.queue):
                    break
                continue
            foreground.pause_point()
            pending = _Pending(group, len(self.lanes))
            for lane in self.lanes:
                if not self._offer(lane, pending):
                    self._lane_done(pending, None)
        for lane in self.lanes:
            lane.close()

    def _offer(self, lane: FlusherLane, pending: _Pending) -> bool:
        while not lane.offer(pending, 0.2):
            if self._give_up.is_set():
                return False
        return True

    def _lane_done(self, pending: _Pending, ok: bool | None) -> None:
        with self._lock:
            if ok is False:
                pending.rejected = True
            elif ok is None:
                pending.lost = True
            pending.remaining -= 1
            if pending.remaining:
                return
            group = pending.group
            if pending.lost:
                self.undelivered += 1
            elif self._metrics is not None:
                self._metrics.groups += 1
                if pending.rejected:
                    self._metrics.dropped += len(group)
                else:
                    self._metrics.delivered_logs += len(group)
        if pending.lost:
            return
        if self._on_ack is not None:
            try:
                self._on_ack(group)
            except Exception:
                _log.exception("pipeline %s: acknowledging a group failed", self.pipeline)
        for ack in group.acks:
            try:
                ack()  # type: ignore[operator]
            except Exception:
                _log.exception("pipeline %s: acknowledging a group failed", self.pipeline)
        if self._on_group is not None:
            self._on_group(group)

    def stop(self, timeout: float) -> bool:
        """Deliver what is queued (the queue must be closed first); True if all got through."""
        deadline = time.monotonic() + timeout
        self._thread.join(max(0.0, deadline - time.monotonic()))
        for lane in self.lanes:
            lane.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive() or any(lane._thread.is_alive() for lane in self.lanes):
            self._give_up.set()
            for lane in self.lanes:
                lane.give_up()
            self._thread.join()
            for lane in self.lanes:
                lane.join()
        for lane in self.lanes:
            try:
                lane.flusher.stop()
            except Exception:
                _log.exception("pipeline %s: stopping a flusher failed", self.pipeline)
        return self.undelivered == 0
