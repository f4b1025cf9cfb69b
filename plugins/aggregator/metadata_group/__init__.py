"""aggregator_metadata_group: iLogtail's — groups logs by selected tags of their context."""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress

from agent.aggregation import (
    FLUSH_INTERVAL,
    MAX_GROUP_BYTES,
    MAX_POOL_BYTES,
    Alarm,
    GroupPool,
    Queue,
)
from agent.params import Param
from agent.plugin import Context, Plugin, register
from agent.protocol import (
    FIELD_OVERHEAD,
    LOG_OVERHEAD,
    Log,
    LogBatch,
    LogContext,
    LogGroup,
    LogTag,
    log_size,
)
from agent.queue import QueueFullError


@register
class AggregatorMetadataGroup(Plugin):
    type_name = "aggregator_metadata_group"
    summary = "Groups logs by selected tags of their input (metadata); only those tags are kept."
    params = (
        Param(
            "GroupMetadataKeys",
            "list",
            [],
            "The context tags whose values make a group; they are the only tags of its groups. "
            "Empty: all logs share one group.",
            items="str",
        ),
        Param("GroupMaxEventLength", "int", 1024, "The most logs in one group.", min=1),
        Param(
            "GroupMaxByteLength",
            "int",
            MAX_GROUP_BYTES,
            "The most bytes in one group (iLogtail's size estimate of each log).",
            min=1,
        ),
        Param(
            "DropOversizeEvent",
            "bool",
            True,
            "Drop a log larger than GroupMaxByteLength (counted and warned about); "
            "false: send it at once in a group of its own.",
        ),
        Param(
            "MaxGroupKeys",
            "int",
            10_000,
            "Group keys held at once; a new key beyond this sends the group of the key "
            "started longest ago to the queue first.",
            min=1,
        ),
        FLUSH_INTERVAL,
    )

    GroupMetadataKeys: list[str]
    GroupMaxEventLength: int
    GroupMaxByteLength: int
    DropOversizeEvent: bool
    MaxGroupKeys: int
    FlushIntervalMs: int

    def init(self, context: Context, queue: Queue) -> int:
        self._context = context
        # One group per key, as iLogtail: a full group leaves when the next log arrives.
        self._pool = GroupPool(
            queue,
            self._new_group,
            self.GroupMaxEventLength,
            1,
            max(MAX_POOL_BYTES, self.GroupMaxByteLength),
            max_group_bytes=self.GroupMaxByteLength,
            max_keys=self.MaxGroupKeys,
        )
        self.oversize = Alarm(
            context, self.type_name, "logs over GroupMaxByteLength dropped", "dropped"
        )
        self.evictions = Alarm(context, self.type_name, "group keys sent early (MaxGroupKeys)")
        return self.FlushIntervalMs

    @property
    def evicted_keys(self) -> int:
        """Keys whose group was sent before the flush because MaxGroupKeys was reached."""
        return self._pool.evicted_keys

    def _new_group(self, key: Hashable, ctx: LogContext | None) -> LogGroup:
        assert isinstance(key, tuple)
        return LogGroup(
            log_tags=[LogTag(k, v) for k, v in zip(self.GroupMetadataKeys, key, strict=True)]
        )

    def _key(self, ctx: LogContext | None) -> tuple[str, ...]:
        # A tuple, not iLogtail's "_"-joined string, so that ("a_b", "c") != ("a", "b_c").
        # A tag the context lacks counts as empty, as in iLogtail.
        tags = {t.key: t.value for t in ctx.tags} if ctx is not None else {}
        return tuple([tags.get(k, "") for k in self.GroupMetadataKeys])

    def _send_now(self, key: tuple[str, ...]) -> None:
        """Send the key's group, which holds one oversize log alone (iLogtail's direct output)."""
        # The log was taken either way: if refused, its group leaves with the key's next
        # log or at flush.
        with suppress(QueueFullError):
            self._pool.send_key(key)

    def add(self, log: Log, ctx: LogContext | None = None) -> None:
        key = self._key(ctx)
        size = log_size(log)
        if size <= self.GroupMaxByteLength:
            self._pool.add_log(key, log)
        elif self.DropOversizeEvent:
            self.oversize(1, f"a log of {size} bytes")
            self._context.dropped(LogGroup(logs=[log]))
        else:
            self._pool.add_log(key, log)
            self._send_now(key)

    def add_batch(self, batch: LogBatch, ctx: LogContext | None = None) -> None:
        key = self._key(ctx)
        overhead = LOG_OVERHEAD + FIELD_OVERHEAD + len(batch.key)
        room = self.GroupMaxByteLength - overhead
        # All the lines together within a group's room: none is over it (and no split).
        if batch.line_bytes() <= room or max(map(len, batch.lines), default=0) <= room:
            self._pool.add_slice(key, batch)
            return
        lines = batch.lines
        # Rare: handle the oversize lines one by one, like the per-log path.
        pos = 0
        try:
            for i in [i for i, line in enumerate(lines) if len(line) > room]:
                self._pool.add_slice(key, batch, pos, i)
                pos = i
                if self.DropOversizeEvent:
                    self.oversize(1, f"a log of {overhead + len(lines[i])} bytes")
                    dropped = LogGroup()
                    dropped.extend_batch(batch, i, i + 1)
                    self._context.dropped(dropped)
                else:
                    self._pool.add_slice(key, batch, i, i + 1)
                    self._send_now(key)
                pos = i + 1
            self._pool.add_slice(key, batch, pos)
        except QueueFullError as e:
            raise QueueFullError(str(e), consumed=pos + e.consumed) from None

    def flush(self) -> list[LogGroup]:
        self.evictions(self.evicted_keys - self.evictions.total, f"{self.MaxGroupKeys} keys held")
        return self._pool.drain()

    def reset(self) -> None:
        self._pool.clear()
