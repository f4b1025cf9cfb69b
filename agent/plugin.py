"""The plugin API: Context, the four plugin interfaces, and `register`.

The interfaces are the seed's Go interfaces in Python spelling. Every plugin is a class
with a `type_name` (``aggregator_context``), a one-sentence `summary`, a `params`
declaration, and the methods of its kind. It registers itself with `@register`, which
checks all of that at import time and fails naming the plugin when something is off.

When each method is called:

Aggregator
    ``init(context, queue) -> int`` once, before anything else; returns its flush
    interval in ms (0: the pipeline's ``AggregatIntervalMs``). ``add(log, ctx)`` per log;
    it may raise ``QueueFullError`` (from a quick flush), in which case the log was not
    taken and the runner calls again later. ``flush()`` on the timer and at stop;
    returns the groups to deliver. ``reset()`` drops caches. The runner guarantees these
    never run concurrently, so plugins need no locks. Optional
    ``add_batch(batch, ctx)``: takes a LogBatch whole; on ``QueueFullError`` its
    ``consumed`` says how many lines were taken, the rest is offered again. Optional
    ``add_logs(logs, ctx)``: the same for a list of Logs (what processors return),
    with the groups ``add`` would make one log at a time.
Processor
    ``init(context)``; ``process_logs(logs) -> logs`` per chunk of logs.
Input
    ``init(context)``; ``run(collector, stop, once)`` on the input's own thread until
    `stop` is set, or — with `once` — until every source was read to its current end.
    Hands data over with ``collector.add_batch`` / ``collector.add_logs``, which block
    while the pipeline applies back-pressure and return False when it is stopping.
Flusher
    ``init(context)``; ``flush(groups)`` delivers or raises (retried with backoff;
    ``DeliveryRejected`` is not retried); ``stop()`` once at the end.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, runtime_checkable

from agent.params import REQUIRED, ConfigError, ConfigProblem, Param, validate_params
from agent.protocol import Log, LogBatch, LogContext, LogGroup
from agent.queue import LogGroupQueue, QueueFullError

__all__ = [
    "KINDS",
    "REQUIRED",
    "Aggregator",
    "Collector",
    "ConfigError",
    "ConfigProblem",
    "Context",
    "DeliveryRejected",
    "Flusher",
    "Input",
    "Param",
    "Plugin",
    "PluginDefinitionError",
    "Processor",
    "QueueFullError",
    "register",
    "registered_in",
]

KINDS = ("input", "processor", "aggregator", "flusher")


class DeliveryRejected(Exception):
    """A flusher's permanent failure (e.g. HTTP 400): retrying cannot help."""


class PluginDefinitionError(TypeError):
    """A plugin class does not honour its interface (raised when it registers)."""


class Context:
    """What a plugin learns about where it runs. `Context()` works with defaults.

    `pipeline` is the pipeline's (iLogtail: config's) name, `logger` a logger named after
    it, `checkpoints` the checkpoint store (None when the pipeline keeps none), `metrics`
    the pipeline's `agent.metrics.PipelineMetrics` (None in unit tests), `once` whether
    the agent reads to the end and exits.
    """

    def __init__(
        self,
        pipeline: str = "default",
        logger: logging.Logger | None = None,
        checkpoints: Any = None,
        metrics: Any = None,
        once: bool = False,
        report: Callable[[str, dict[str, Any]], None] | None = None,
        discard: Callable[[LogGroup], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.logger = logger or logging.getLogger(f"tailbox.pipeline.{pipeline}")
        self.checkpoints = checkpoints
        self.metrics = metrics
        self.once = once
        self._report = report
        self._discard = discard

    def get_config_name(self) -> str:
        return self.pipeline

    def dropped(self, group: LogGroup) -> None:
        """Hand over logs a plugin was given and drops on purpose (count them yourself).

        Inputs keep a file's checkpoint until every log read from it was delivered or
        dropped; logs dropped without saying so here would hold it back for ever.
        """
        if self._discard is not None and len(group):
            self._discard(group)

    def report(self, kind: str, **data: Any) -> None:
        """Send an event (e.g. a warning a user should see) to the GUI and the CLI."""
        if self._report is not None:
            self._report(kind, data)


class Plugin:
    """Base class with the declaration machinery; plugins may also just follow the Protocols."""

    type_name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()

    def configure(self, values: dict[str, Any]) -> None:
        """Take validated values: each becomes an attribute named as its config key."""
        for key, value in values.items():
            setattr(self, key, value)
        self.check_config()

    def check_config(self) -> None:
        """Cross-key checks: raise ConfigError(key=...) when a combination of values is wrong."""

    def description(self) -> str:
        return self.summary

    @classmethod
    def kind(cls) -> str:
        return cls.type_name.split("_", 1)[0]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {p.name: p.default_value() for p in cls.params if not p.required}

    @classmethod
    def create(cls, config: dict[str, Any] | None = None) -> Any:
        """A configured instance; ConfigError naming the plugin and key otherwise."""
        values = validate_params(cls.type_name, cls.params, config or {})
        plugin = cls()
        try:
            plugin.configure(values)
        except ConfigError as e:
            raise ConfigError(
                problems=[
                    ConfigProblem(p.reason, p.plugin or cls.type_name, p.key) for p in e.problems
                ]
            ) from None
        return plugin


@runtime_checkable
class Aggregator(Protocol):
    def init(self, context: Context, queue: LogGroupQueue) -> int: ...
    def description(self) -> str: ...
    def add(self, log: Log, ctx: LogContext | None = None) -> None: ...
    def flush(self) -> list[LogGroup]: ...
    def reset(self) -> None: ...


@runtime_checkable
class Processor(Protocol):
    def init(self, context: Context) -> None: ...
    def description(self) -> str: ...
    def process_logs(self, logs: list[Log]) -> list[Log]: ...


class Collector(Protocol):
    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool: ...
    def add_logs(self, logs: list[Log], ctx: LogContext) -> bool: ...


@runtime_checkable
class Input(Protocol):
    def init(self, context: Context) -> None: ...
    def description(self) -> str: ...
    def run(self, collector: Collector, stop: threading.Event, once: bool) -> None: ...


@runtime_checkable
class Flusher(Protocol):
    def init(self, context: Context) -> None: ...
    def description(self) -> str: ...
    def flush(self, groups: list[LogGroup]) -> None: ...
    def stop(self) -> None: ...


# Method name -> positional parameters after self, per kind (defaults allowed beyond).
_SIGNATURES: dict[str, dict[str, tuple[str, ...]]] = {
    "aggregator": {
        "init": ("context", "queue"),
        "description": (),
        "add": ("log", "ctx"),
        "flush": (),
        "reset": (),
    },
    "processor": {"init": ("context",), "description": (), "process_logs": ("logs",)},
    "input": {"init": ("context",), "description": (), "run": ("collector", "stop", "once")},
    "flusher": {"init": ("context",), "description": (), "flush": ("groups",), "stop": ()},
}
_OPTIONAL: dict[str, dict[str, tuple[str, ...]]] = {
    "aggregator": {"add_batch": ("batch", "ctx"), "add_logs": ("logs", "ctx")}
}

_registered: dict[str, list[type]] = {}


def registered_in(module: str) -> list[type]:
    """The plugin classes that `module` registered when it was imported."""
    return list(_registered.get(module, ()))


def register(cls: type) -> type:
    """Class decorator: check the plugin against its interface and record it."""
    name = getattr(cls, "type_name", "") or cls.__name__
    problems = _check_plugin(cls)
    if problems:
        raise PluginDefinitionError(f"plugin {name}: " + "; ".join(problems))
    _registered.setdefault(cls.__module__, []).append(cls)
    return cls


def _check_plugin(cls: type) -> list[str]:
    problems: list[str] = []
    name = getattr(cls, "type_name", "")
    kind = name.split("_", 1)[0] if name else ""
    if not name:
        return ["type_name is missing"]
    if kind not in KINDS:
        return [f"type_name must start with one of {', '.join(k + '_' for k in KINDS)}"]
    if not getattr(cls, "summary", ""):
        problems.append("summary (a one-sentence description) is missing")
    params = getattr(cls, "params", None)
    if not isinstance(params, tuple) or not all(isinstance(p, Param) for p in params):
        problems.append("params must be a tuple of agent.params.Param")
    elif len({p.name for p in params}) != len(params):
        problems.append("params declares a key twice")
    if not callable(getattr(cls, "create", None)) or not callable(getattr(cls, "configure", None)):
        problems.append("must derive from agent.plugin.Plugin (create/configure are missing)")
    for method, args in _SIGNATURES[kind].items():
        problems.extend(_check_method(cls, method, args, required=True))
    for method, args in _OPTIONAL.get(kind, {}).items():
        problems.extend(_check_method(cls, method, args, required=False))
    return problems


def _check_method(cls: type, method: str, args: tuple[str, ...], required: bool) -> list[str]:
    fn = getattr(cls, method, None)
    if fn is None:
        return [f"{method}() is missing"] if required else []
    if not callable(fn):
        return [f"{method} is not a method"]
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    positional = [
        p
        for p in list(sig.parameters.values())[1:]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    mandatory = [p for p in positional if p.default is p.empty]
    if len(mandatory) > len(args) or (len(positional) < len(args) and not has_varargs):
        wanted = ", ".join(("self", *args))
        got = ", ".join(["self", *(p.name for p in positional)])
        return [f"{method}() must take ({wanted}), it takes ({got})"]
    return []
