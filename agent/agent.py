"""The Agent: runs several pipelines side by side and applies configuration changes."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable

from agent.config import PipelineConfig
from agent.events import EventBus
from agent.params import ConfigError, ConfigProblem
from agent.pipeline import Pipeline
from agent.protocol import Log, LogBatch, LogContext, LogGroup
from agent.registry import Registry, load_registry

__all__ = ["GC_YOUNG_THRESHOLD", "Agent", "tune_gc"]

_log = logging.getLogger("tailbox.agent")
_PAUSE_STEP = 0.25  # seconds between checks for a stop while inputs are paused
_LIVE_GLOBALS = ("AggregatIntervalMs",)  # globals a running pipeline takes without a restart
_LIVE_AGGREGATOR_KEYS = ("FlushIntervalMs",)  # and aggregator keys (the interval override)
# CPython collects its youngest generation every 700 container allocations. Pipelines
# with processors make two per line (a Log and its dict) and next to no cycles, so the
# collector traversed the same pooled logs over and over: 7 % of a processor_regex
# backfill (0.15 s of 2.1 s), 9 % grouped by field values. At 10,000 it is 0.5 %.
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """For the process that runs the agent headless (`tailbox run`): collect young
    objects every GC_YOUNG_THRESHOLD allocations, the threshold the window's collector
    (gui/collector.py) uses. Garbage without cycles is unaffected."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


class _PausablePipeline(Pipeline):
    """A Pipeline whose inputs wait while the agent is paused (the tray's "Pause all").

    The input thread blocks in the collector call like it does under back-pressure, so
    nothing is read, dropped or re-read; a stop releases it and the held chunk is kept.
    """

    def __init__(
        self,
        config: PipelineConfig,
        registry: Registry,
        events: EventBus,
        *,
        once: bool,
        on_group: Callable[[LogGroup], None] | None,
        running: threading.Event,
    ) -> None:
        super().__init__(config, registry, events, once=once, on_group=on_group)
        self._running = running

    def _wait_while_paused(self) -> None:
        while not self._running.wait(_PAUSE_STEP) and not self._stop.is_set():
            pass

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        self._wait_while_paused()
        return super().add_batch(batch, ctx)

    def add_logs(self, logs: list[Log], ctx: LogContext) -> bool:
        self._wait_while_paused()
        return super().add_logs(logs, ctx)


def _same_but_live(old: PipelineConfig, new: PipelineConfig) -> bool:
    """Whether `new` differs from `old` at most in settings a running pipeline takes live."""

    def fixed(config: PipelineConfig) -> dict[str, object]:
        data = config.to_dict()
        data["global"] = {k: v for k, v in config.globals.items() if k not in _LIVE_GLOBALS}
        data["aggregators"] = [
            {k: v for k, v in a.to_dict().items() if k not in _LIVE_AGGREGATOR_KEYS}
            for a in config.aggregators
        ]
        return data

    return fixed(old) == fixed(new)


def _interval_of(config: PipelineConfig) -> tuple[int, int]:
    """The aggregator's own flush interval (0: none) and the pipeline's default."""
    own = config.aggregators[0].params.get("FlushIntervalMs", 0) if config.aggregators else 0
    return int(own), int(config.global_value("AggregatIntervalMs"))


class Agent:
    """Owns the running pipelines; Qt-free, driven by the CLI or the GUI's bridge."""

    def __init__(
        self,
        registry: Registry | None = None,
        events: EventBus | None = None,
        on_group: Callable[[str, LogGroup], None] | None = None,
    ) -> None:
        self.registry = registry or load_registry()
        self.events = events or EventBus()
        self.pipelines: dict[str, Pipeline] = {}
        self._on_group = on_group
        self._lock = threading.Lock()
        self._apply_lock = threading.Lock()  # one apply/stop at a time; they take seconds
        self._running = threading.Event()
        self._running.set()

    def _build(self, config: PipelineConfig, once: bool) -> Pipeline:
        on_group = None
        if self._on_group is not None:
            callback, name = self._on_group, config.name

            def on_group(group: LogGroup) -> None:
                callback(name, group)

        return _PausablePipeline(
            config,
            self.registry,
            self.events,
            once=once,
            on_group=on_group,
            running=self._running,
        )

    def start(self, configs: list[PipelineConfig], once: bool = False) -> None:
        with self._lock:
            for config in configs:
                if not config.enable:
                    _log.info("pipeline %s is disabled", config.name)
                    continue
                if config.name in self.pipelines:
                    raise ValueError(f"two pipelines are named {config.name!r}")
                pipeline = self._build(config, once)
                self.pipelines[config.name] = pipeline
                pipeline.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop every pipeline (in parallel) with a final flush; True if all was delivered."""
        with self._apply_lock:
            with self._lock:
                pipelines = list(self.pipelines.values())
                self.pipelines.clear()
            return _stop_all(pipelines, timeout)

    def run_once(self, configs: list[PipelineConfig]) -> bool:
        """Read every pipeline's inputs to their current end, deliver, stop."""
        self.start(configs, once=True)
        for pipeline in list(self.pipelines.values()):
            pipeline.inputs_done()
        return self.stop()

    # -- changing what runs ----------------------------------------------------------

    def validate(self, configs: list[PipelineConfig]) -> None:
        """ConfigError listing every problem that would stop `configs` from running."""
        problems: list[ConfigProblem] = []
        seen: set[str] = set()
        for config in configs:
            if config.name in seen:
                problems.append(ConfigProblem(f"two pipelines are named {config.name!r}"))
            seen.add(config.name)
            for section in ("inputs", "processors", "aggregators", "flushers"):
                for plugin in config.section(section):
                    try:
                        self.registry.create(plugin.type, plugin.params)
                    except ConfigError as e:
                        problems.extend(e.located(config.file or config.name).problems)
        if problems:
            raise ConfigError(problems=problems)

    def apply(self, configs: list[PipelineConfig]) -> dict[str, str]:
        """Make the running pipelines match `configs`; what happened to each, by name.

        Everything is validated before anything changes (ConfigError otherwise). A
        pipeline whose only change is its flush interval keeps running with the new
        interval; any other change stops it with its final flush and starts it anew.
        A restarted input resumes where its checkpoints say, so no-loss/no-duplicate
        across a restart rests on input checkpoints.
        """
        self.validate(configs)
        wanted = {c.name: c for c in configs if c.enable}
        outcome: dict[str, str] = {}
        with self._apply_lock:
            with self._lock:
                current = dict(self.pipelines)
            retired: list[Pipeline] = []
            for name, pipeline in current.items():
                config = wanted.get(name)
                if config is None:
                    retired.append(pipeline)
                    outcome[name] = "stopped"
                elif _same_but_live(pipeline.config, config):
                    (old_own, old_default), (own, default) = (
                        _interval_of(pipeline.config),
                        _interval_of(config),
                    )
                    if (old_own, old_default) != (own, default):
                        # Only a changed override replaces what the plugin's init asked for.
                        pipeline.aggregator.set_interval(
                            interval_ms=own if own != old_own else None, default_ms=default
                        )
                        outcome[name] = "updated live"
                    else:
                        outcome[name] = "unchanged"
                    pipeline.config = config
                else:
                    retired.append(pipeline)
                    outcome[name] = "restarted"
            with self._lock:
                for pipeline in retired:
                    del self.pipelines[pipeline.name]
            _stop_all(retired, None)
            for name, config in wanted.items():
                if outcome.setdefault(name, "started") not in ("started", "restarted"):
                    continue
                try:
                    pipeline = self._build(config, once=False)
                except Exception as e:
                    _log.exception("pipeline %s could not start", name)
                    self.events.publish("error", name, plugin="", message=f"not started: {e}")
                    outcome[name] = "failed"
                    continue
                with self._lock:
                    self.pipelines[name] = pipeline
                pipeline.start()
        return outcome

    # -- pausing ---------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop reading inputs; what was read keeps being flushed and delivered."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def retry_now(self, pipeline: str) -> int:
        """Ask the pipeline's failing flushers to retry at once; how many were asked."""
        running = self.pipelines.get(pipeline)
        if running is None:
            return 0
        return sum(lane.retry_now() for lane in running.delivery.lanes if lane.failing_since)


def _stop_all(pipelines: Iterable[Pipeline], timeout: float | None) -> bool:
    """Stop pipelines in parallel, each with its final flush; True if all was delivered."""
    results: dict[str, bool] = {}

    def stop(p: Pipeline) -> None:
        results[p.name] = p.stop(timeout)

    threads = [
        threading.Thread(target=stop, args=(p,), name=f"tailbox-stop-{p.name}") for p in pipelines
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return all(results.values())
