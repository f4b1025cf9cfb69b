"""aggregator_shardhash: iLogtail's bucket vectors, the __shardhash__ tag, its padding fixed."""

from __future__ import annotations

import pytest

from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import PACK_ID_TAG, Log, LogBatch
from plugins.aggregator.shardhash import SHARD_HASH_TAG, AggregatorShardHash, shard_hash
from tests.plugins.aggregator.conftest import (
    ListQueue,
    check_groups,
    feed,
    make,
    normalised,
    refusal_script,
)

VALUES = ["hello", "hello ", "hello w", "hello wo", "hello wor", "hello worl", "hello world"]
# iLogtail's TestSelectShardAggFrom{8,16,512}Shard: xxhash(value) % ShardCount.
BUCKETS = {
    8: [3, 2, 2, 5, 3, 1, 0],
    16: [3, 2, 10, 5, 3, 9, 8],
    512: [419, 466, 250, 501, 163, 329, 360],
}


def ilogtail_shard_hash(bucket: int, shard_count: int) -> str:
    """iLogtail's initShardAggs: binary bucket id, zeros to 128 bits, hex padded on the right."""
    bits = len(format(shard_count - 1, "b"))
    binary = format(bucket, "b").rjust(bits, "0") + "0" * (128 - bits)
    return format(int(binary, 2), "x").ljust(32, "0")


# iLogtail's aggregator_shardhash_test.go


def test_hashes_of_8_shards():
    agg = make(AggregatorShardHash, SourceKeys=["test"], ShardCount=8)
    assert agg.hashes == [d + "0" * 31 for d in "02468ace"]


@pytest.mark.parametrize("shard_count", sorted(BUCKETS))
def test_bucket_vectors(shard_count):
    agg = make(AggregatorShardHash, SourceKeys=["test"], ShardCount=shard_count)
    assert [agg.bucket(v) for v in VALUES] == BUCKETS[shard_count]


def test_groups_carry_their_bucket_hash_and_the_topic():
    agg = make(AggregatorShardHash, SourceKeys=["test"], ShardCount=8, Topic="topic")
    for value in VALUES:
        agg.add(Log(0, {"test": value}))
    groups = agg.flush()
    assert len(groups) == 5
    for group in groups:
        assert group.topic == "topic"
        bucket = agg.bucket(group.logs[0].contents["test"])
        assert group.tag(SHARD_HASH_TAG) == agg.hashes[bucket]
        assert all(agg.bucket(x.contents["test"]) == bucket for x in group.logs)


def test_multiple_source_keys_are_joined_by_the_connector():
    agg = make(AggregatorShardHash, SourceKeys=["k1", "k2", "k3"], Connector="+")
    for values in (["v1", "v2", "v3"], ["v11", "v22", "v33"], ["v111", "v222", "v333"]):
        agg.add(Log(0, dict(zip(["k1", "k2", "k3"], values, strict=True))))
        (group,) = agg.flush()
        assert group.tag(SHARD_HASH_TAG) == agg.hashes[agg.bucket("+".join(values))]


def test_shard_count_must_be_a_power_of_2_from_1_to_512():
    for bad in (0, 3, 12, 1024):
        with pytest.raises(ConfigError) as err:
            AggregatorShardHash.create({"SourceKeys": ["k"], "ShardCount": bad})
        assert (err.value.plugin, err.value.key) == ("aggregator_shardhash", "ShardCount")
    for good in (1, 2, 64, 512):
        AggregatorShardHash.create({"SourceKeys": ["k"], "ShardCount": good})
    with pytest.raises(ConfigError, match="SourceKeys"):
        AggregatorShardHash.create({"SourceKeys": []})


def test_hashes_match_ilogtail_up_to_16_shards():
    for shard_count in (1, 2, 4, 8, 16):
        assert [shard_hash(b, shard_count) for b in range(shard_count)] == [
            ilogtail_shard_hash(b, shard_count) for b in range(shard_count)
        ]


# The defect iLogtail has: the hex string is padded on the right


def test_512_shards_give_512_distinct_hashes():
    assert len({ilogtail_shard_hash(b, 512) for b in range(512)}) == 481  # the defect
    agg = make(AggregatorShardHash, SourceKeys=["k"], ShardCount=512)
    assert len(set(agg.hashes)) == 512
    assert all(len(h) == 32 for h in agg.hashes)
    for shard_count in (32, 64, 128, 256):
        assert len({shard_hash(b, shard_count) for b in range(shard_count)}) == shard_count
    # The value still sorts the buckets in order, the bucket in the top bits.
    assert agg.hashes == sorted(agg.hashes)
    assert int(agg.hashes[1], 16) == 1 << (128 - 9)


# Grouping, pack ids, missing keys, back-pressure


def test_quick_flush_and_pack_ids_per_bucket():
    queue = ListQueue()
    agg = make(AggregatorShardHash, queue, SourceKeys=["k"])
    for i in range(4097 * 2):
        agg.add(Log(i, {"k": "hello" if i % 2 else "hello world"}))
    assert [len(g) for g in queue.groups] == [1024, 1024]
    out = queue.pop_all() + agg.flush()
    check_groups(out, 1024, 3 * 1024 * 1024)
    by_hash: dict[str, list[int]] = {}
    for group in out:
        assert [t.key for t in group.log_tags] == [SHARD_HASH_TAG, PACK_ID_TAG]
        by_hash.setdefault(group.tag(SHARD_HASH_TAG), []).extend(x.time for x in group.logs)
    assert by_hash == {
        agg.hashes[3]: list(range(1, 4097 * 2, 2)),
        agg.hashes[0]: list(range(0, 4097 * 2, 2)),
    }


def test_missing_key_hashes_as_empty_and_is_counted():
    metrics = PipelineMetrics("p")
    reports: list[dict] = []
    agg = AggregatorShardHash.create({"SourceKeys": ["a", "b"], "ErrIfKeyNotFound": True})
    agg.init(Context("p", metrics=metrics, report=lambda k, d: reports.append(d)), ListQueue())
    agg.add(Log(0, {"a": "x"}))
    agg.add(Log(1, {"a": "x", "b": ""}))
    (group,) = agg.flush()
    assert group.tag(SHARD_HASH_TAG) == agg.hashes[agg.bucket("x_")]
    assert (agg.missing.total, metrics.errors, len(reports)) == (1, 1, 1)
    assert "no field 'b'" in reports[0]["message"]


def test_batch_path_equals_per_log_path_under_refusals():
    # "0" and "2" land in buckets 0 and 3, 6,000 lines each before the flush: each
    # bucket quick-flushes twice.
    lines = [b"02"[i % 2 : i % 2 + 1] for i in range(16000)]
    ops = [(None, LogBatch(lines[:12000], time=1)), None, (None, LogBatch(lines[12000:], time=2))]
    results = []
    for use_batch in (False, True):
        queue = ListQueue(refusal_script([False, True, True, False]))
        agg = make(AggregatorShardHash, queue, SourceKeys=["content"], ShardCount=4)
        results.append((normalised(feed(agg, queue, ops, use_batch)), queue.refused))
    (per_log, refused_per_log), (by_batch, refused_by_batch) = results
    assert by_batch == per_log
    assert refused_by_batch == refused_per_log > 0
    assert sum(len(g[3]) for g in by_batch) == 16000
    assert len({g[2][0] for g in by_batch}) == 2  # two __shardhash__ values
