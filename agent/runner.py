"""RunningAggregator: serialises an aggregator's calls, owns its flush timer and back-pressure.

iLogtail's comment promises that Add, Flush and Reset never run concurrently; its
runner does not make sure. Here one lock guards every call. When the queue refuses a
group (`QueueFullError`), the caller waits for a free slot in bounded steps and tries
again — the reader stops reading instead of anything being dropped — and a
`queue_full` event tells the user which pipeline, aggregator and flusher are behind;
`queue_recovered` follows once the queue has accepted for RECOVERED_AFTER_S without a
refusal (or at stop): a reader faster than its flusher keeps the queue at its edge,
and a backfill is then one episode, not 150 pairs of events a second. `abandon()`
releases waiting callers when the pipeline has to stop without the queue ever draining
(a flusher that never comes back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from agent.events import EventBus
from agent.foreground import foreground
from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.protocol import Log, LogBatch, LogContext, LogGroup
from agent.queue import LogGroupQueue, QueueClosedError, QueueFullError

__all__ = ["DEFAULT_INTERVAL_MS", "RunningAggregator"]

_log = logging.getLogger("tailbox.runner")

DEFAULT_INTERVAL_MS = 3000  # iLogtail's AggregatIntervalMs
_WAIT_STEP = 0.1  # seconds per bounded wait for a free queue slot
RECOVERED_AFTER_S = 1.0  # accepting this long without a refusal ends a queue-full episode


class RunningAggregator:
    def __init__(
        self,
        aggregator: Any,
        queue: LogGroupQueue,
        context: Context,
        *,
        name: str,
        default_interval_ms: int = DEFAULT_INTERVAL_MS,
        events: EventBus | None = None,
        metrics: PipelineMetrics | None = None,
        slow_flusher: Callable[[], str] = lambda: "",
    ) -> None:
        self.aggregator = aggregator
        self.queue = queue
        self.context = context
        self.name = name
        self.events = events
        self.metrics = metrics
        self._slow_flusher = slow_flusher
        self._lock = threading.Lock()
        self._abandoned = threading.Event()
        self._stop_timer = threading.Event()
        self._timer_wake = threading.Event()  # set_interval / stop: re-read the deadline
        self._timer: threading.Thread | None = None
        self._episode_lock = threading.Lock()
        self._full_since = 0.0
        self._accepting_since = 0.0  # within an episode: since when no add was refused
        self._rejected_in_episode = 0
        self._has_add_batch = callable(getattr(aggregator, "add_batch", None))
        add_logs = getattr(aggregator, "add_logs", None)  # like add_batch, for lists of Logs
        self._add_logs = add_logs if callable(add_logs) else None
        self._default_interval_ms = default_interval_ms
        with self._lock:
            requested = int(aggregator.init(context, queue) or 0)
        self._own_interval_ms = requested
        self.interval_ms = requested if requested > 0 else default_interval_ms

    # -- the timer -------------------------------------------------------------------

    def start(self) -> None:
        if self._timer is None:
            self._timer = threading.Thread(
                target=self._tick, name=f"tailbox-{self.context.pipeline}-flush-timer", daemon=True
            )
            self._timer.start()

    def set_interval(self, interval_ms: int | None = None, default_ms: int | None = None) -> None:
        """Change the flush interval while running (the GUI's flush-interval field)."""
        if default_ms is not None:
            self._default_interval_ms = default_ms
        if interval_ms is not None:
            self._own_interval_ms = interval_ms
        own = self._own_interval_ms
        self.interval_ms = own if own > 0 else self._default_interval_ms
        self._timer_wake.set()

    def _tick(self) -> None:
        # Sleeps until the next flush is due; set_interval and stop wake it early, and the
        # deadline is recomputed from the last flush, so a new interval applies at once.
        last_flush = time.monotonic()
        while not self._stop_timer.is_set():
            flush_due = last_flush + self.interval_ms / 1000
            now = time.monotonic()
            wake = flush_due
            accepting = self._accepting_since
            if accepting:  # a queue-full episode may end before the next flush is due
                self._end_episode_if_over()
                if self._accepting_since:
                    left = RECOVERED_AFTER_S - (time.time() - accepting)
                    wake = min(wake, now + max(left, 0.01))
            if now >= flush_due:
                foreground.pause_point()
                try:
                    self.flush()
                except Exception as e:  # a plugin's bug must not end timer flushes for good
                    _log.exception("pipeline %s: timed flush failed", self.context.pipeline)
                    if self.events is not None:
                        self.events.publish(
                            "error", self.context.pipeline, plugin=self.name, message=str(e)
                        )
                last_flush = time.monotonic()
                continue
            self._timer_wake.wait(wake - now)
            self._timer_wake.clear()

    # -- adding ----------------------------------------------------------------------

    def add(self, log: Log, ctx: LogContext | None = None) -> bool:
        """Hand one log to the aggregator, waiting out a full queue; False if abandoned."""
        return self.add_logs([log], ctx)

    def add_logs(self, logs: list[Log], ctx: LogContext | None = None) -> bool:
        agg_add, add_logs = self.aggregator.add, self._add_logs
        i, n = 0, len(logs)
        while i < n:
            with self._lock:
                try:
                    if add_logs is not None:
                        add_logs(logs[i:] if i else logs, ctx)
                        i = n
                    while i < n:
                        agg_add(logs[i], ctx)
                        i += 1
                except QueueFullError as e:
                    if add_logs is not None:
                        i += e.consumed
            if i < n and not self._wait_for_space():
                return False
        self._recovered()
        return True

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        """Hand a whole batch over: one call per chunk where the aggregator supports it."""
        if not self._has_add_batch:
            return self.add_logs(batch.to_logs(), ctx)
        add_batch = self.aggregator.add_batch
        while True:
            with self._lock:
                try:
                    add_batch(batch, ctx)
                    break
                except QueueFullError as e:
                    if e.consumed:
                        batch = batch.sub(e.consumed)
            if not self._wait_for_space():
                return False
        self._recovered()
        return True

    # -- flushing --------------------------------------------------------------------

    def flush(self) -> bool:
        """Flush the aggregator and queue its groups, in order; False if abandoned."""
        with self._lock:
            groups = self.aggregator.flush() or []
            for group in groups:
                if not self._queue_with_wait(group):
                    return False
        if groups:
            self._recovered()
        return True

    def reset(self) -> None:
        with self._lock:
            self.aggregator.reset()

    def _queue_with_wait(self, group: LogGroup) -> bool:
        # Called with the lock held, so a reader cannot quick-flush a newer group of the
        # same source ahead of this one.
        if not len(group):
            return True
        while True:
            try:
                self.queue.add_with_wait(group, _WAIT_STEP)
                return True
            except QueueFullError:
                self._note_full()
                if self._abandoned.is_set():
                    return False
            except QueueClosedError:
                return False

    # -- back-pressure ---------------------------------------------------------------

    def _wait_for_space(self) -> bool:
        self._note_full()
        while not self._abandoned.is_set():
            if self.queue.wait_for_space(_WAIT_STEP):
                return True
        return False

    def _note_full(self) -> None:
        if self.metrics is not None:
            self.metrics.rejected_adds += 1
        with self._episode_lock:
            self._rejected_in_episode += 1
            self._accepting_since = 0.0  # refused again: the episode goes on
            if self._full_since:
                return
            self._full_since = time.time()
        if self.metrics is not None:
            self.metrics.queue_full_count += 1
        if self.events is not None:
            self.events.publish(
                "queue_full",
                self.context.pipeline,
                aggregator=self.name,
                depth=self.queue.depth,
                capacity=self.queue.capacity,
                since=self._full_since,
                flusher=self._slow_flusher(),
            )

    def _recovered(self) -> None:
        """The queue took what was offered: the episode ends once that has lasted."""
        if not self._full_since:
            return
        if not self._accepting_since:
            with self._episode_lock:
                if self._full_since and not self._accepting_since:
                    self._accepting_since = time.time()
            self._timer_wake.set()  # the timer ends the episode if no add comes to
        self._end_episode_if_over()

    def _end_episode_if_over(self, now: bool = False) -> None:
        with self._episode_lock:
            accepting = self._accepting_since
            if not self._full_since or not accepting:
                return
            if not now and time.time() - accepting < RECOVERED_AFTER_S:
                return
            since, rejected = self._full_since, self._rejected_in_episode
            self._full_since = self._accepting_since = 0.0
            self._rejected_in_episode = 0
        if self.events is not None:
            self.events.publish(
                "queue_recovered",
                self.context.pipeline,
                aggregator=self.name,
                since=since,
                duration=accepting - since,
                rejected=rejected,
            )

    @property
    def full_since(self) -> float:
        """When the current queue-full episode began (0 when the queue accepts)."""
        return self._full_since

    # -- stopping --------------------------------------------------------------------

    def abandon(self) -> None:
        """Stop waiting for queue space: callers blocked on a full queue return False."""
        self._abandoned.set()

    def stop(self) -> bool:
        """Stop the timer and make the final flush; False if groups could not be queued."""
        self._stop_timer.set()
        self._timer_wake.set()
        if self._timer is not None:
            self._timer.join()
        ok = self.flush()
        if ok:
            self._end_episode_if_over(now=True)  # the final flush was taken: it is over
        return ok
