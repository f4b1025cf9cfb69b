"""aggregator_base: iLogtail's AggregatorBase — one list of groups for every log."""

from __future__ import annotations

from collections.abc import Hashable

from agent.aggregation import FLUSH_INTERVAL, GroupPool, PackSeq, Queue, pack_id_prefix
from agent.params import Param
from agent.plugin import Context, Plugin, register
from agent.protocol import Log, LogBatch, LogContext, LogGroup


@register
class AggregatorBase(Plugin):
    type_name = "aggregator_base"
    summary = "Packs all logs, whatever their source, into groups of up to MaxLogCount logs."
    params = (
        Param(
            "MaxLogGroupCount",
            "int",
            4,
            "Groups held before the oldest is sent to the queue at once (quick flush).",
            min=1,
        ),
        Param("MaxLogCount", "int", 1024, "The most logs in one group.", min=1),
        Param("PackFlag", "bool", True, "Tag each group with a __pack_id__."),
        Param("Topic", "str", "", "The topic of every group; empty leaves it unset."),
        FLUSH_INTERVAL,
    )

    MaxLogGroupCount: int
    MaxLogCount: int
    PackFlag: bool
    FlushIntervalMs: int
    Topic: str

    def init(self, context: Context, queue: Queue) -> int:
        self._pack = PackSeq(pack_id_prefix(context.pipeline))
        self._pool = GroupPool(queue, self._new_group, self.MaxLogCount, self.MaxLogGroupCount)
        return self.FlushIntervalMs

    def _new_group(self, key: Hashable, ctx: LogContext | None) -> LogGroup:
        tags = [self._pack.next_tag()] if self.PackFlag else []
        return LogGroup(topic=self.Topic, log_tags=tags)

    def add(self, log: Log, ctx: LogContext | None = None) -> None:
        self._pool.add_log(None, log)

    def add_batch(self, batch: LogBatch, ctx: LogContext | None = None) -> None:
        self._pool.add_slice(None, batch)

    def add_logs(self, logs: list[Log], ctx: LogContext | None = None) -> None:
        self._pool.add_logs(None, logs)

    def flush(self) -> list[LogGroup]:
        return self._pool.drain()

    def reset(self) -> None:
        self._pool.clear()
