"""aggregator_context: iLogtail's AggregatorContext — groups per source, order kept per source."""

from __future__ import annotations

from collections.abc import Hashable

from agent.aggregation import FLUSH_INTERVAL, MAX_POOL_BYTES, GroupPool, PackSeqMap, Queue
from agent.params import Param
from agent.plugin import Context, Plugin, register
from agent.protocol import Log, LogBatch, LogContext, LogGroup


@register
class AggregatorContext(Plugin):
    type_name = "aggregator_context"
    summary = "Packs logs into groups per source, keeping each source's order and its context tags."
    params = (
        Param(
            "MaxLogGroupCount",
            "int",
            2,
            "Groups held per source before the oldest is sent to the queue at once (quick flush).",
            min=1,
        ),
        Param("MaxLogCount", "int", 1024, "The most logs in one group.", min=1),
        Param(
            "Topic",
            "str",
            "",
            "The topic of groups whose logs come without one from their input.",
        ),
        Param(
            "PackFlag",
            "bool",
            True,
            "Tag each group with a __pack_id__: a prefix per source and a sequence number.",
        ),
        Param(
            "ContextPreservationToleranceSize",
            "int",
            10,
            "Sources whose pack sequence is kept however long they are idle; beyond that, "
            "sources idle for 30 days (1 day when there are very many) are forgotten.",
            min=0,
        ),
        FLUSH_INTERVAL,
    )

    MaxLogGroupCount: int
    MaxLogCount: int
    Topic: str
    PackFlag: bool
    ContextPreservationToleranceSize: int
    FlushIntervalMs: int

    def init(self, context: Context, queue: Queue) -> int:
        self.pack_seqs = PackSeqMap(context.pipeline, self.ContextPreservationToleranceSize)
        self._pool = GroupPool(
            queue, self._new_group, self.MaxLogCount, self.MaxLogGroupCount, MAX_POOL_BYTES
        )
        return self.FlushIntervalMs

    def _new_group(self, source: Hashable, ctx: LogContext | None) -> LogGroup:
        tags = [self.pack_seqs.next_tag(source)] if self.PackFlag else []
        topic = self.Topic
        if ctx is not None:
            topic = ctx.topic or topic
            tags.extend(ctx.tags)
        return LogGroup(topic=topic, source=str(source), log_tags=tags)

    def add(self, log: Log, ctx: LogContext | None = None) -> None:
        self._pool.add_log(ctx.source if ctx is not None else "", log, ctx)

    def add_batch(self, batch: LogBatch, ctx: LogContext | None = None) -> None:
        self._pool.add_slice(ctx.source if ctx is not None else "", batch, ctx=ctx)

    def add_logs(self, logs: list[Log], ctx: LogContext | None = None) -> None:
        self._pool.add_logs(ctx.source if ctx is not None else "", logs, ctx)

    def flush(self) -> list[LogGroup]:
        groups = self._pool.drain()
        self.pack_seqs.prune()
        return groups

    def reset(self) -> None:
        self._pool.clear()
