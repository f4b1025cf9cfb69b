"""The one QObject between the agent's threads and the GUI thread.

Agent threads never touch Qt. They append to bounded buffers guarded by one lock —
delivered groups (as light summaries), events, the agent's log lines, results of
background work — and a sampler thread snapshots the pipelines' metrics once a second.
A QTimer in the GUI thread swaps the buffers out every TICK_MS and emits `ticked` once
with everything that arrived: one signal per tick, however fast the agent goes. What a
full buffer had to let go is counted and reported, never silently lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from agent.agent import Agent
from agent.config import PipelineConfig
from agent.events import Event
from agent.foreground import foreground
from agent.protocol import LogGroup
from agent.registry import Registry
from gui.summary import GroupSummary, SampleAllowance, TokenBucket, summarise

__all__ = ["LIVE_GROUPS_PER_S", "AgentBridge", "LiveRate", "PipelineStatus", "Tick"]

TICK_MS = 250
SAMPLE_SECS = 1.0
MAX_PENDING_GROUPS = 20_000  # between two ticks; beyond it the oldest are counted, not kept
# The live table takes at most this many groups a second from each pipeline (a default
# tick's worth at once); beyond it a group is counted, not summarised. A full-speed backfill
# delivers ~4,000 groups a second: summarising and keeping every one cost the agent
# 10-16 % of its throughput with the window open, for rows nobody reads at that pace
# (the table holds 10,000: 2.5 s of them). Like a live tail at high volume, the table
# then shows a steady share and counts the rest; delivery and the metrics are untouched.
LIVE_GROUPS_PER_S = 1_000
_MAX_RATED_PIPELINES = 256  # buckets of pipelines gone (renamed, removed) are let go
MAX_PENDING_EVENTS = 2_000
MAX_PENDING_LOG_LINES = 2_000


@dataclass(slots=True)
class PipelineStatus:
    """One pipeline as the sampler saw it: metrics plus what the banner and cards need."""

    name: str
    metrics: dict[str, Any]
    aggregator: str
    interval_ms: int
    full_since: float
    flushers: list[dict[str, Any]]  # name, backlog, failing_since, last_error
    sampled: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Tick:
    """Everything that arrived since the previous tick."""

    groups: list[GroupSummary] = field(default_factory=list)
    groups_not_kept: int = 0
    events: list[Event] = field(default_factory=list)
    events_not_kept: int = 0
    log_lines: list[str] = field(default_factory=list)
    status: dict[str, PipelineStatus] | None = None  # a new sample, when one was taken
    applied: list[dict[str, str] | Exception] = field(default_factory=list)
    stopped: bool | None = None  # the agent stopped; whether everything was delivered


class LiveRate:
    """Which delivered groups the live table takes: `per_second` a pipeline, in bursts of
    at most `burst` (a default tick's worth). Unlocked: a pipeline's lanes may both take
    its last token."""

    def __init__(
        self,
        per_second: float,
        burst: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a live rate must be positive (None in AgentBridge: no limit)")
        self.per_second = per_second
        self.burst = max(1.0, per_second * TICK_MS / 1000) if burst is None else burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def admit(self, pipeline: str) -> bool:
        bucket = self._buckets.get(pipeline)
        if bucket is None:
            if len(self._buckets) >= _MAX_RATED_PIPELINES:
                self._buckets.clear()
            bucket = TokenBucket(self.per_second, self.burst, self._clock)
            self._buckets[pipeline] = bucket
        if bucket.refill() < 1:
            return False
        bucket.tokens -= 1
        return True


class _LogHandler(logging.Handler):
    """Feeds the agent's own log records into the bridge (any thread)."""

    def __init__(self, bridge: AgentBridge) -> None:
        super().__init__(logging.INFO)
        self._bridge = bridge
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._bridge.put_log_line(self.format(record))
        except Exception:
            self.handleError(record)


class AgentBridge(QObject):
    """Owns the Agent; lives in the GUI thread; emits `ticked(Tick)` once per tick."""

    ticked = Signal(object)

    def __init__(
        self,
        registry: Registry | None = None,
        parent: QObject | None = None,
        tick_ms: int = TICK_MS,
        max_pending_groups: int = MAX_PENDING_GROUPS,
        live_groups_per_s: float | None = LIVE_GROUPS_PER_S,
    ) -> None:
        super().__init__(parent)
        self.agent = Agent(registry, on_group=self._on_group)
        self.registry = self.agent.registry
        self._lock = threading.Lock()
        self._groups: deque[GroupSummary] = deque()
        self._max_groups = max_pending_groups
        self._groups_not_kept = 0
        self._allowance = SampleAllowance()
        self._live_rate = None if live_groups_per_s is None else LiveRate(live_groups_per_s)
        self._events: deque[Event] = deque()
        self._events_not_kept = 0
        self._log_lines: deque[str] = deque(maxlen=MAX_PENDING_LOG_LINES)
        self._status: dict[str, PipelineStatus] | None = None
        self._applied: list[dict[str, str] | Exception] = []
        self._stopped: bool | None = None
        self.stopping = False
        self._unsubscribe = self.agent.events.subscribe(self._on_event)
        self._log_handler = _LogHandler(self)
        agent_logger = logging.getLogger("tailbox")
        self._logger_level = agent_logger.level
        agent_logger.addHandler(self._log_handler)
        if agent_logger.getEffectiveLevel() > logging.INFO:
            agent_logger.setLevel(logging.INFO)  # the log panel shows INFO and up
        self._sampler_stop = threading.Event()
        self._sampler = threading.Thread(
            target=self._sample_loop, name="tailbox-gui-sampler", daemon=True
        )
        self._timer = QTimer(self)
        self._timer.setObjectName("tailbox-bridge-tick")
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.drain)

    @property
    def live_groups_per_s(self) -> float | None:
        """Groups a second the live table takes from each pipeline; None: every one."""
        return None if self._live_rate is None else self._live_rate.per_second

    # -- agent threads -----------------------------------------------------------------

    def _on_group(self, pipeline: str, group: LogGroup) -> None:
        rate = self._live_rate
        if rate is not None and not rate.admit(pipeline):
            with self._lock:
                self._groups_not_kept += 1
            return
        # The allowance is a rate, not an account: a race between two pipelines' flusher
        # threads may let one group keep a few logs more, so it takes no lock.
        summary = summarise(pipeline, group, self._allowance.take())
        with self._lock:
            if len(self._groups) >= self._max_groups:
                self._groups.popleft()
                self._groups_not_kept += 1
            self._groups.append(summary)

    def _on_event(self, event: Event) -> None:
        with self._lock:
            if len(self._events) >= MAX_PENDING_EVENTS:
                self._events.popleft()
                self._events_not_kept += 1
            self._events.append(event)

    def put_log_line(self, line: str) -> None:
        with self._lock:
            self._log_lines.append(line)

    def _sample_loop(self) -> None:
        while not self._sampler_stop.wait(SAMPLE_SECS):
            self.sample()

    def sample(self) -> None:
        """Snapshot every running pipeline (called by the sampler thread, or a test)."""
        status = {}
        for name, p in list(self.agent.pipelines.items()):
            status[name] = PipelineStatus(
                name=name,
                metrics=p.metrics.snapshot(),
                aggregator=p.aggregator.name,
                interval_ms=p.aggregator.interval_ms,
                full_since=p.aggregator.full_since,
                flushers=[
                    {
                        "name": lane.name,
                        "backlog": lane.backlog,
                        "failing_since": lane.failing_since,
                        "last_error": lane.last_error,
                    }
                    for lane in p.delivery.lanes
                ],
            )
        with self._lock:
            self._status = status

    def _background(self, name: str, work: Any) -> None:
        threading.Thread(target=work, name=f"tailbox-gui-{name}", daemon=True).start()

    # -- GUI thread ----------------------------------------------------------------------

    def start(self, configs: list[PipelineConfig]) -> None:
        self.agent.start(configs)
        self._sampler.start()
        self._timer.start()

    def apply(self, configs: list[PipelineConfig]) -> None:
        """Apply in the background (stopping a pipeline takes its final flush); the
        outcome — per-pipeline results or the ConfigError — arrives in a later Tick."""

        def work() -> None:
            result: dict[str, str] | Exception
            try:
                result = self.agent.apply(configs)
            except Exception as e:  # reported to the user in the window, not lost
                result = e
            with self._lock:
                self._applied.append(result)

        self._background("apply", work)

    def shutdown(self) -> None:
        """Stop the agent with its final flush in the background; Tick.stopped follows."""
        if self.stopping:
            return
        self.stopping = True
        self._timer.start()  # the result comes by tick, even if the agent never started

        def work() -> None:
            ok = self.agent.stop()
            with self._lock:
                self._stopped = ok

        self._background("stop", work)

    def close(self) -> None:
        """Detach from logging and the event bus; the agent must have stopped."""
        self._timer.stop()
        self._sampler_stop.set()
        self._unsubscribe()
        agent_logger = logging.getLogger("tailbox")
        agent_logger.removeHandler(self._log_handler)
        agent_logger.setLevel(self._logger_level)

    @Slot()
    def drain(self) -> None:
        with self._lock:
            tick = Tick(
                groups=list(self._groups),
                groups_not_kept=self._groups_not_kept,
                events=list(self._events),
                events_not_kept=self._events_not_kept,
                log_lines=list(self._log_lines),
                status=self._status,
                applied=self._applied,
                stopped=self._stopped,
            )
            self._groups.clear()
            self._events.clear()
            self._log_lines.clear()
            self._groups_not_kept = self._events_not_kept = 0
            self._status = None
            self._applied = []
            self._stopped = None
        if (
            tick.groups
            or tick.groups_not_kept
            or tick.events
            or tick.log_lines
            or tick.status is not None
            or tick.applied
            or tick.stopped is not None
        ):
            with foreground.section():  # the receivers' Qt calls need not queue for the GIL
                self.ticked.emit(tick)
