"""aggregator_content_value_group: iLogtail's — groups logs by the values of GroupKeys."""

from __future__ import annotations

from collections.abc import Hashable

from agent.aggregation import (
    FLUSH_INTERVAL,
    MAX_POOL_BYTES,
    Alarm,
    ContentKeyed,
    GroupPool,
    PackSeqMap,
    Queue,
)
from agent.params import Param
from agent.plugin import Context, Plugin, register
from agent.protocol import LogContext, LogGroup, LogTag

# iLogtail gives each group key an AggregatorBase with these fixed limits.
MAX_LOG_COUNT = 1024
MAX_LOG_GROUP_COUNT = 4


def _distinct_keys(value: list[str]) -> str | None:
    if not value:
        return "must name at least one field"
    if len(set(value)) != len(value):
        return "names a field twice"
    return None


@register
class AggregatorContentValueGroup(ContentKeyed, Plugin):
    type_name = "aggregator_content_value_group"
    summary = "Groups logs by the values of some of their fields; those become the groups' tags."
    params = (
        Param(
            "GroupKeys",
            "list",
            description="The fields whose values make a group; each becomes a tag of its groups.",
            items="str",
            check=_distinct_keys,
        ),
        Param("Topic", "str", "", "The topic of every group; empty leaves it unset."),
        Param(
            "ErrIfKeyNotFound",
            "bool",
            False,
            "Count a log that lacks one of the GroupKeys as a pipeline error and warn about it "
            "(it is grouped either way, with an empty value for that field).",
        ),
        Param(
            "EnablePackID",
            "bool",
            True,
            "Tag each group with a __pack_id__: a prefix per group key and a sequence number.",
        ),
        Param(
            "MaxGroupKeys",
            "int",
            10_000,
            "Group keys held at once; a new key beyond this sends the groups of the key "
            "started longest ago to the queue first.",
            min=1,
        ),
        FLUSH_INTERVAL,
    )

    GroupKeys: list[str]
    Topic: str
    ErrIfKeyNotFound: bool
    EnablePackID: bool
    MaxGroupKeys: int
    FlushIntervalMs: int

    def init(self, context: Context, queue: Queue) -> int:
        self.pack_seqs = PackSeqMap(context.pipeline)
        self._pool = GroupPool(
            queue,
            self._new_group,
            MAX_LOG_COUNT,
            MAX_LOG_GROUP_COUNT,
            MAX_POOL_BYTES,
            max_keys=self.MaxGroupKeys,
        )
        self.missing = Alarm(context, self.type_name, "logs without a GroupKeys field", "errors")
        self.evictions = Alarm(context, self.type_name, "group keys sent early (MaxGroupKeys)")
        return self.FlushIntervalMs

    @property
    def evicted_keys(self) -> int:
        """Keys whose groups were sent before the flush because MaxGroupKeys was reached."""
        return self._pool.evicted_keys

    def _new_group(self, key: Hashable, ctx: LogContext | None) -> LogGroup:
        assert isinstance(key, tuple)
        tags = [LogTag(k, v) for k, v in zip(self.GroupKeys, key, strict=True)]
        # Last, so that a GroupKeys field named __pack_id__ cannot hide the real one.
        if self.EnablePackID:
            tags.append(self.pack_seqs.next_tag(key))
        return LogGroup(topic=self.Topic, log_tags=tags)

    def _group_key(self, contents: dict[str, str]) -> tuple[str, ...]:
        # A tuple, not iLogtail's "_"-joined string, so that ("a_b", "c") != ("a", "b_c").
        get = contents.get
        return tuple([get(k, "") for k in self.GroupKeys])

    def _fields(self) -> list[str]:
        return self.GroupKeys

    def flush(self) -> list[LogGroup]:
        self.evictions(self.evicted_keys - self.evictions.total, f"{self.MaxGroupKeys} keys held")
        groups = self._pool.drain()
        self.pack_seqs.prune()
        return groups

    def reset(self) -> None:
        self._pool.clear()
