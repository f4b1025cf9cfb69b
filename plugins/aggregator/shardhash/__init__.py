"""aggregator_shardhash: iLogtail's — groups logs into ShardCount buckets by a hash of fields."""

from __future__ import annotations

from collections.abc import Hashable

import xxhash

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

SHARD_HASH_TAG = "__shardhash__"
MAX_SHARD_COUNT = 512
# iLogtail gives each shard an AggregatorBase with these fixed limits.
MAX_LOG_COUNT = 1024
MAX_LOG_GROUP_COUNT = 4


def _power_of_two(value: int) -> str | None:
    return None if value & (value - 1) == 0 else f"must be a power of 2, got {value}"


def _not_empty(value: list[str]) -> str | None:
    return None if value else "must name at least one field"


def shard_hash(bucket: int, shard_count: int) -> str:
    """The `__shardhash__` value of a bucket: its bits on top of 128, as 32 hex digits.

    iLogtail pads the hex text on the right instead, so from 32 shards on buckets whose
    first hex digit would be 0 collide with others (512 shards give 481 values).
    """
    bits = max(1, (shard_count - 1).bit_length())
    return f"{bucket << (128 - bits):032x}"


@register
class AggregatorShardHash(ContentKeyed, Plugin):
    type_name = "aggregator_shardhash"
    summary = "Groups logs into ShardCount buckets by a hash of some of their fields."
    params = (
        Param(
            "SourceKeys",
            "list",
            description="The fields whose values, joined by Connector, are hashed.",
            items="str",
            check=_not_empty,
        ),
        Param(
            "ShardCount",
            "int",
            8,
            "The number of buckets, a power of 2.",
            min=1,
            max=MAX_SHARD_COUNT,
            check=_power_of_two,
        ),
        Param("Topic", "str", "", "The topic of every group."),
        Param("Connector", "str", "_", "What joins the SourceKeys values before hashing."),
        Param(
            "ErrIfKeyNotFound",
            "bool",
            False,
            "Count a log that lacks one of the SourceKeys as a pipeline error and warn about it "
            "(it is hashed either way, with an empty value for that field).",
        ),
        Param(
            "EnablePackID",
            "bool",
            True,
            "Tag each group with a __pack_id__: a prefix per bucket and a sequence number.",
        ),
        FLUSH_INTERVAL,
    )

    SourceKeys: list[str]
    ShardCount: int
    Topic: str
    Connector: str
    ErrIfKeyNotFound: bool
    FlushIntervalMs: int
    EnablePackID: bool

    def init(self, context: Context, queue: Queue) -> int:
        self.hashes = [shard_hash(b, self.ShardCount) for b in range(self.ShardCount)]
        self.pack_seqs = PackSeqMap(context.pipeline)
        self._pool = GroupPool(
            queue, self._new_group, MAX_LOG_COUNT, MAX_LOG_GROUP_COUNT, MAX_POOL_BYTES
        )
        self.missing = Alarm(context, self.type_name, "logs without a SourceKeys field", "errors")
        return self.FlushIntervalMs

    def bucket(self, value: str) -> int:
        """xxhash64 of the UTF-8 value modulo ShardCount, as iLogtail."""
        return xxhash.xxh64_intdigest(value.encode("utf-8", "surrogatepass")) % self.ShardCount

    def _group_key(self, contents: dict[str, str]) -> int:
        get = contents.get
        return self.bucket(self.Connector.join([get(k, "") for k in self.SourceKeys]))

    def _new_group(self, bucket: Hashable, ctx: LogContext | None) -> LogGroup:
        assert isinstance(bucket, int)
        tags = [LogTag(SHARD_HASH_TAG, self.hashes[bucket])]
        if self.EnablePackID:
            tags.append(self.pack_seqs.next_tag(bucket))
        return LogGroup(topic=self.Topic, log_tags=tags)

    def _fields(self) -> list[str]:
        return self.SourceKeys

    def flush(self) -> list[LogGroup]:
        return self._pool.drain()

    def reset(self) -> None:
        self._pool.clear()
