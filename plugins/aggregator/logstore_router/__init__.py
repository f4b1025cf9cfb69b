"""aggregator_logstore_router: iLogtail's — routes logs by regex to logstores (group category)."""

from __future__ import annotations

import re
from collections.abc import Hashable

from agent.aggregation import (
    FLUSH_INTERVAL,
    MAX_POOL_BYTES,
    SKIP,
    Alarm,
    GroupPool,
    PackSeqMap,
    Queue,
)
from agent.params import ConfigError, Param
from agent.plugin import Context, Plugin, register
from agent.protocol import Log, LogBatch, LogContext, LogGroup
from agent.queue import QueueFullError

DEFAULT_ROUTE = -1  # the group key of logs no route takes (when they are kept)


def _regexes(value: list[str]) -> str | None:
    for regex in value:
        try:
            re.compile(regex)
        except re.error as e:
            return f"{regex!r} is not a valid regular expression ({e})"
    return None


@register
class AggregatorLogstoreRouter(Plugin):
    type_name = "aggregator_logstore_router"
    summary = "Routes logs by a regular expression on one field to logstores (the group category)."
    params = (
        Param(
            "MaxLogGroupCount",
            "int",
            4,
            "Groups held per route before the oldest is sent to the queue at once (quick flush).",
            min=1,
        ),
        Param("MaxLogCount", "int", 1024, "The most logs in one group.", min=1),
        Param("PackFlag", "bool", True, "Tag each group with a __pack_id__ (a prefix per route)."),
        Param("Topic", "str", "", "The topic of every group; empty leaves it unset."),
        Param(
            "DropDisMatch",
            "bool",
            False,
            "Drop the logs no route takes; false: they go to groups without a category.",
        ),
        Param("SourceKey", "str", "", "The field the routes match; empty: each log's first field."),
        Param(
            "NoMatchError",
            "bool",
            False,
            "With DropDisMatch, count each dropped log as a pipeline error and warn about it.",
        ),
        Param(
            "RouterRegex",
            "list",
            [],
            "Python regular expressions, tried in order; the first that matches the whole "
            "SourceKey value routes the log.",
            items="str",
            check=_regexes,
        ),
        Param(
            "RouterLogstore",
            "list",
            [],
            "The logstore (group category) of each RouterRegex, in the same order.",
            items="str",
        ),
        FLUSH_INTERVAL,
    )

    MaxLogGroupCount: int
    MaxLogCount: int
    PackFlag: bool
    Topic: str
    DropDisMatch: bool
    SourceKey: str
    NoMatchError: bool
    RouterRegex: list[str]
    RouterLogstore: list[str]
    FlushIntervalMs: int

    def check_config(self) -> None:
        if len(self.RouterRegex) != len(self.RouterLogstore):
            raise ConfigError(
                f"lists {len(self.RouterLogstore)} logstores for "
                f"{len(self.RouterRegex)} RouterRegex; they must pair up",
                key="RouterLogstore",
            )

    def init(self, context: Context, queue: Queue) -> int:
        self._routes = [re.compile(regex) for regex in self.RouterRegex]
        self.pack_seqs = PackSeqMap(context.pipeline)
        self._pool = GroupPool(
            queue, self._new_group, self.MaxLogCount, self.MaxLogGroupCount, MAX_POOL_BYTES
        )
        self.dropped = 0
        self._context = context
        self.unmatched = Alarm(context, self.type_name, "logs no route took, dropped", "errors")
        return self.FlushIntervalMs

    def _new_group(self, route: Hashable, ctx: LogContext | None) -> LogGroup:
        assert isinstance(route, int)
        tags = [self.pack_seqs.next_tag(route)] if self.PackFlag else []
        category = self.RouterLogstore[route] if route != DEFAULT_ROUTE else ""
        return LogGroup(category=category, topic=self.Topic, log_tags=tags)

    def _route(self, value: str | None) -> Hashable:
        if value is not None:
            for i, regex in enumerate(self._routes):
                # iLogtail takes a route when its first match spans the value; fullmatch
                # also finds a whole-value match behind a shorter alternative ("a|ab").
                if regex.fullmatch(value):
                    return i
        return SKIP if self.DropDisMatch else DEFAULT_ROUTE

    def _value(self, contents: dict[str, str]) -> str | None:
        if self.SourceKey:
            return contents.get(self.SourceKey)
        return next(iter(contents.values()), None)

    def _drop(self, dropped: LogGroup) -> None:
        logs = len(dropped)
        if not logs:
            return
        self.dropped += logs
        self._context.dropped(dropped)  # so that checkpoints can pass them
        if self.NoMatchError:
            self.unmatched(logs, "no route matched, or no SourceKey field")

    def add(self, log: Log, ctx: LogContext | None = None) -> None:
        route = self._route(self._value(log.contents))
        if route is SKIP:
            self._drop(LogGroup(logs=[log]))
        else:
            self._pool.add_log(route, log)

    def add_batch(self, batch: LogBatch, ctx: LogContext | None = None) -> None:
        if self.SourceKey in ("", batch.key):
            routes = [self._route(text) for text in batch.texts()]
        else:
            routes = [self._route(None)] * len(batch)
        try:
            self._pool.add_keyed(batch, routes)
        except QueueFullError as e:
            self._drop(_skipped(batch, routes, e.consumed))
            raise
        self._drop(_skipped(batch, routes, len(routes)))

    def flush(self) -> list[LogGroup]:
        return self._pool.drain()

    def reset(self) -> None:
        self._pool.clear()


def _skipped(batch: LogBatch, routes: list[Hashable], stop: int) -> LogGroup:
    """The lines of batch[:stop] that no route took, as a group of slices."""
    dropped = LogGroup()
    for i in range(stop):
        if routes[i] is SKIP:
            dropped.extend_batch(batch, i, i + 1)
    return dropped
