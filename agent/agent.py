"""The Agent: runs several pipelines side by side and applies configuration changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from agent.config import PipelineConfig
from agent.events import EventBus
from agent.pipeline import Pipeline
from agent.protocol import LogGroup
from agent.registry import Registry, load_registry

__all__ = ["Agent"]

_log = logging.getLogger("tailbox.agent")


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

    def _build(self, config: PipelineConfig, once: bool) -> Pipeline:
        on_group = None
        if self._on_group is not None:
            callback, name = self._on_group, config.name

            def on_group(group: LogGroup) -> None:
                callback(name, group)

        return Pipeline(config, self.registry, self.events, once=once, on_group=on_group)

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
        with self._lock:
            pipelines = list(self.pipelines.values())
            self.pipelines.clear()
        results: dict[str, bool] = {}

        def stop(p: Pipeline) -> None:
            results[p.name] = p.stop(timeout)

        threads = [
            threading.Thread(target=stop, args=(p,), name=f"tailbox-stop-{p.name}")
            for p in pipelines
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return all(results.values())

    def run_once(self, configs: list[PipelineConfig]) -> bool:
        """Read every pipeline's inputs to their current end, deliver, stop."""
        self.start(configs, once=True)
        for pipeline in list(self.pipelines.values()):
            pipeline.inputs_done()
        return self.stop()
