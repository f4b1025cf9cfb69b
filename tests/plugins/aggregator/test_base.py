"""aggregator_base: one list for everything, quick flush, Topic, pack ids, batches."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import aggregation
from agent.aggregation import MAX_GROUP_BYTES, fnv1a_64
from agent.params import ConfigError
from agent.protocol import PACK_ID_TAG, Log, LogContext, LogTag
from agent.queue import LogGroupQueue, QueueFullError
from plugins.aggregator.base import AggregatorBase
from tests.plugins.aggregator.conftest import (
    ListQueue,
    check_groups,
    feed,
    make,
    normalised,
    ops_strategy,
    refusal_script,
)


def logs(n: int, start: int = 0) -> list[Log]:
    return [Log(i, {"content": f"log {i}"}) for i in range(start, start + n)]


def test_defaults():
    agg = AggregatorBase.create()
    assert (agg.MaxLogGroupCount, agg.MaxLogCount, agg.PackFlag, agg.Topic) == (4, 1024, True, "")


def test_quick_flush_when_max_log_group_count_groups_are_held():
    queue = ListQueue()
    agg = make(AggregatorBase, queue, MaxLogCount=10, MaxLogGroupCount=2)
    sent = logs(25)
    for log in sent:
        agg.add(log)
    # The 21st log needs a third group: the oldest went to the queue.
    assert [len(g) for g in queue.groups] == [10]
    groups = queue.pop_all() + agg.flush()
    assert [len(g) for g in groups] == [10, 10, 5]
    assert [x for g in groups for x in g.logs] == sent
    assert agg.flush() == []


def test_one_group_at_most():
    queue = ListQueue()
    agg = make(AggregatorBase, queue, MaxLogCount=2, MaxLogGroupCount=1)
    for log in logs(5):
        agg.add(log)
    assert [len(g) for g in queue.groups] == [2, 2]
    assert [len(g) for g in agg.flush()] == [1]


def test_context_is_ignored():
    agg = make(AggregatorBase)
    agg.add(logs(1)[0], LogContext("a.log", "file", [LogTag("host", "h")]))
    agg.add(logs(1, 1)[0], LogContext("b.log"))
    agg.add(logs(1, 2)[0])
    (group,) = agg.flush()
    assert (len(group), group.source, group.topic) == (3, "", "")
    assert [t.key for t in group.log_tags] == [PACK_ID_TAG]


def test_topic_overrides():
    agg = make(AggregatorBase, Topic="mytopic", MaxLogCount=1)
    for log in logs(3):
        agg.add(log, LogContext("s", "file"))
    assert [g.topic for g in agg.flush()] == ["mytopic"] * 3


def test_pack_ids_count_from_one_under_a_new_prefix():
    queue = ListQueue()
    agg = make(AggregatorBase, queue, MaxLogCount=1, MaxLogGroupCount=2)
    for log in logs(12):
        agg.add(log)
    ids = [g.tag(PACK_ID_TAG) for g in queue.pop_all() + agg.flush()]
    prefix = ids[0].split("-")[0]
    assert re.fullmatch(r"[0-9A-F]{1,16}", prefix)
    assert ids == [f"{prefix}-{seq:X}" for seq in range(1, 13)]
    other = make(AggregatorBase, pipeline="p")
    other.add(logs(1)[0])
    assert other.flush()[0].tag(PACK_ID_TAG).split("-")[0] != prefix


def test_pack_flag_false_adds_no_tag():
    agg = make(AggregatorBase, PackFlag=False)
    agg.add(logs(1)[0])
    assert agg.flush()[0].log_tags == []


def test_fnv1a_64_matches_the_reference_vectors():
    assert fnv1a_64(b"") == 0xCBF29CE484222325
    assert fnv1a_64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a_64(b"foobar") == 0x85944171F73967E8


def test_oversize_log_first_after_flush_is_kept():
    # iLogtail leaves an empty group before the oversize log, and its Flush stops at
    # that empty group: everything after the flush would be dropped.
    agg = make(AggregatorBase)
    agg.add(Log(0, {"content": "before"}))
    assert len(agg.flush()) == 1
    huge = Log(1, {"content": "h" * MAX_GROUP_BYTES})
    after = logs(3, 2)
    agg.add(huge)
    for log in after:
        agg.add(log)
    groups = agg.flush()
    assert [len(g) for g in groups] == [1, 3]
    assert [x for g in groups for x in g.logs] == [huge, *after]


def test_refused_quick_flush_then_retry_loses_nothing():
    queue = LogGroupQueue(1)
    agg = make(AggregatorBase, queue, MaxLogCount=2, MaxLogGroupCount=1)
    sent = logs(7)
    out = []
    for log in sent:
        try:
            agg.add(log)
        except QueueFullError:
            # Not taken: adding it again once the queue has room must not duplicate it.
            out.append(queue.get(timeout=0))
            agg.add(log)
    while (group := queue.get(timeout=0)) is not None:
        out.append(group)
    out += agg.flush()
    assert [x for g in out for x in g.logs] == sent
    check_groups(out, 2, MAX_GROUP_BYTES)


def test_invalid_config():
    with pytest.raises(ConfigError) as err:
        AggregatorBase.create({"MaxLogCount": 0})
    assert (err.value.plugin, err.value.key) == ("aggregator_base", "MaxLogCount")
    with pytest.raises(ConfigError, match="PackFlag"):
        AggregatorBase.create({"PackFlag": "yes"})


def test_reset_drops_pending_groups():
    agg = make(AggregatorBase)
    agg.add(logs(1)[0])
    agg.reset()
    assert agg.flush() == []


GROUP_BYTES = 1000


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    max_log_count=st.integers(1, 12),
    max_group_count=st.integers(1, 4),
    answers=st.lists(st.booleans(), max_size=8),
)
def test_batch_path_equals_per_log_path(data, max_log_count, max_group_count, answers):
    ops = data.draw(ops_strategy(GROUP_BYTES))
    results = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aggregation, "MAX_GROUP_BYTES", GROUP_BYTES)
        for use_batch in (False, True, "logs"):
            queue = ListQueue(refusal_script(answers))
            agg = make(
                AggregatorBase, queue, MaxLogCount=max_log_count, MaxLogGroupCount=max_group_count
            )
            results.append(feed(agg, queue, ops, use_batch))
    per_log, by_batch, by_list = results
    assert normalised(by_batch) == normalised(per_log) == normalised(by_list)
    expected = [text for op in ops if op is not None for text in op[1].texts()]
    assert [x.contents["content"] for g in by_batch for x in g.logs] == expected
    check_groups(by_batch, max_log_count, GROUP_BYTES)
