"""aggregator_context: iLogtail's vectors, quick flush, the pool limit, batches, bounded state."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugins.aggregator.context as context_module
from agent import aggregation
from agent.aggregation import MAX_GROUP_BYTES, PACK_SEQ_TIMEOUT
from agent.params import ConfigError
from agent.protocol import PACK_ID_TAG, Log, LogBatch, LogContext, LogTag
from agent.queue import LogGroupQueue, QueueFullError
from plugins.aggregator.context import AggregatorContext
from tests.plugins.aggregator.conftest import (
    ListQueue,
    check_groups,
    check_result,
    expected_by_source,
    feed,
    generate_logs,
    lines_by_source,
    make,
    normalised,
    ops_strategy,
    refusal_script,
)

MiB = 1024 * 1024


def drain(queue: LogGroupQueue) -> list:
    groups = []
    while (group := queue.get(timeout=0)) is not None:
        groups.append(group)
    return groups


# iLogtail's aggregator_context_test.go


def test_slow_small_logs_make_one_group_per_source_and_flush():
    agg = make(AggregatorContext)
    numbers = [0, 0, 0]
    generate_logs(agg, 900, numbers)
    groups = agg.flush()
    generate_logs(agg, 1800, numbers)
    groups += agg.flush()
    assert len(groups) == 6
    check_result(groups, 2700)


def test_fast_small_logs_quick_flush():
    queue = ListQueue()
    agg = make(AggregatorContext, queue)
    generate_logs(agg, 18432, [0, 0, 0])
    assert len(queue.groups) == 12  # 6 per source, MaxLogGroupCount 2 left behind each
    groups = queue.pop_all() + agg.flush()
    assert len(groups) == 18
    assert all(len(g) == 1024 for g in groups)
    check_result(groups, 18432)


def test_long_logs_hit_the_pool_limit():
    # Each log is ~3,655 bytes: 860 fit in a 3 MiB group, and the 10 MiB pool overflows
    # after 2,869 logs (~957 per source: one full group and one of ~96 per source), when
    # all 6 groups go to the queue. That happens 3 times (18 groups), and the last 609
    # logs make 3 more at flush: 21, as in iLogtail's current test (its older test,
    # written before the pool limit, expected 4 groups per source: 12).
    queue = ListQueue()
    agg = make(AggregatorContext, queue)
    generate_logs(agg, 9216, [0, 0, 0], short=False)
    groups = queue.pop_all() + agg.flush()
    assert len(groups) == 21
    assert [len(g) for g in groups[:6]] == [860, 97, 860, 96, 860, 96]
    check_result(groups, 9216)


def test_logs_without_context_all_come_out_with_pack_ids():
    queue = ListQueue()
    agg = make(AggregatorContext, queue)
    generate_logs(agg, 20000, [0, 0, 0], with_ctx=False)
    groups = queue.pop_all() + agg.flush()
    assert all(g.tag(PACK_ID_TAG) is not None for g in groups)
    assert sum(len(g) for g in groups) == 20000
    assert {g.source for g in groups} == {""}
    check_groups(groups, 1024, MAX_GROUP_BYTES)


def test_pack_flag_false_adds_no_pack_id():
    queue = ListQueue()
    agg = make(AggregatorContext, queue, PackFlag=False)
    generate_logs(agg, 20000, [0, 0, 0])
    groups = queue.pop_all() + agg.flush()
    assert all(g.tag(PACK_ID_TAG) is None for g in groups)
    assert sum(len(g) for g in groups) == 20000


# Groups, tags, topic


def test_group_takes_source_topic_and_tags_when_it_starts():
    agg = make(AggregatorContext, Topic="fallback")
    tags = [LogTag("host", "h1"), LogTag("path", "/var/log/a.log")]
    agg.add(Log(1, {"content": "a"}), LogContext("/var/log/a.log", "file", tags))
    # A later log of the same group does not change what the group started with.
    agg.add(Log(2, {"content": "b"}), LogContext("/var/log/a.log", "", [LogTag("x", "y")]))
    agg.add(Log(3, {"content": "c"}), LogContext("/var/log/b.log"))
    agg.add(Log(4, {"content": "d"}))
    a, b, default = agg.flush()
    assert (a.source, a.topic, len(a)) == ("/var/log/a.log", "file", 2)
    assert [t.key for t in a.log_tags] == [PACK_ID_TAG, "host", "path"]
    assert a.log_tags[1:] == tags
    assert (b.source, b.topic, b.log_tags[1:]) == ("/var/log/b.log", "fallback", [])
    assert (default.source, default.topic) == ("", "fallback")
    prefixes = {g.tag(PACK_ID_TAG).split("-")[0] for g in (a, b, default)}
    assert len(prefixes) == 3


def test_pack_seq_continues_across_flushes():
    agg = make(AggregatorContext)
    ctx = LogContext("s")
    ids = []
    for i in range(20):
        agg.add(Log(i, {"content": str(i)}), ctx)
        ids += [g.tag(PACK_ID_TAG) for g in agg.flush()]
    prefix = ids[0].split("-")[0]
    assert ids == [f"{prefix}-{seq:X}" for seq in range(1, 21)]
    assert "A" in ids[9] and "14" in ids[19]  # uppercase hex like Go's %X


def test_invalid_config_names_plugin_and_key():
    with pytest.raises(ConfigError) as err:
        AggregatorContext.create({"MaxLogGroupCount": 0})
    assert (err.value.plugin, err.value.key) == ("aggregator_context", "MaxLogGroupCount")
    with pytest.raises(ConfigError, match="MaxLogCount"):
        AggregatorContext.create({"MaxLogcount": 5})


# Quick flush and back-pressure


def test_quick_flush_refused_keeps_the_log_out_until_retry():
    queue = LogGroupQueue(1)
    agg = make(AggregatorContext, queue, MaxLogCount=3, MaxLogGroupCount=2)
    ctx = LogContext("s")
    logs = [Log(i, {"content": str(i)}) for i in range(12)]
    for log in logs[:9]:
        agg.add(log, ctx)  # the 7th quick-flushes the first group
    assert len(queue) == 1
    with pytest.raises(QueueFullError):
        agg.add(logs[9], ctx)
    out = drain(queue)
    for log in logs[9:]:
        agg.add(log, ctx)
    out += drain(queue) + agg.flush()
    assert [x for g in out for x in g.logs] == logs
    check_groups(out, 3, MAX_GROUP_BYTES)


def test_batch_refused_mid_way_reports_consumed():
    queue = LogGroupQueue(1)
    agg = make(AggregatorContext, queue, MaxLogCount=10, MaxLogGroupCount=1)
    ctx = LogContext("s")
    batch = LogBatch([b"%d" % i for i in range(35)], time=1)
    with pytest.raises(QueueFullError) as err:
        agg.add_batch(batch, ctx)
    assert err.value.consumed == 20  # line 20 needs the 2nd group queued; the 1st fills it
    out = drain(queue)
    rest = LogBatch(batch.lines[20:], time=1)
    with pytest.raises(QueueFullError) as err:
        agg.add_batch(rest, ctx)
    assert err.value.consumed == 10
    out += drain(queue)
    agg.add_batch(LogBatch(rest.lines[10:], time=1), ctx)
    out += drain(queue) + agg.flush()
    assert [x.contents["content"] for g in out for x in g.logs] == [str(i) for i in range(35)]
    assert [len(g) for g in out] == [10, 10, 10, 5]


def test_pool_limit_sends_groups_one_by_one_and_loses_nothing():
    queue = LogGroupQueue(2)
    agg = make(AggregatorContext, queue)
    body = "x" * (MiB - 100)  # three fit in a group
    sources = [LogContext(s) for s in "ABC"]
    for i in range(11):  # ~11 MiB held, over the pool limit only after the 11th
        agg.add(Log(i, {"content": body}), sources[i % 3])
    assert len(queue) == 0
    out = []
    refusals = 0
    for i in (11, 12):
        while True:
            try:
                agg.add(Log(i, {"content": body}), sources[i % 3])
                break
            except QueueFullError:
                refusals += 1
                assert len(queue) == 2
                out += drain(queue)
    # A's 2 groups fill the queue and B's first is refused: the log waits. Once A's are
    # delivered the pool is back under its limit, so B's and C's groups stay for flush.
    assert refusals == 1
    out += drain(queue) + agg.flush()
    assert [g.source for g in out] == ["A", "A", "B", "B", "C", "C", "A"]
    times = {s: [x.time for g in out if g.source == s for x in g.logs] for s in "ABC"}
    assert times == {s: list(range(n, 13, 3)) for n, s in enumerate("ABC")}
    check_groups(out, 1024, MAX_GROUP_BYTES)


# The defect iLogtail has: an oversize log first in a group


def test_oversize_log_first_after_flush_is_kept():
    queue = ListQueue()
    agg = make(AggregatorContext, queue, MaxLogGroupCount=1)
    ctx = LogContext("s")
    huge = Log(2, {"content": "h" * (3 * MiB + 1)})
    small = [Log(i, {"content": f"small {i}"}) for i in range(3, 6)]
    agg.add(Log(1, {"content": "before"}), ctx)
    out = agg.flush()
    agg.add(huge, ctx)  # iLogtail leaves an empty group behind here
    for log in small:
        agg.add(log, ctx)
    out += queue.pop_all() + agg.flush()
    assert [len(g) for g in out] == [1, 1, 3]
    assert [x for g in out for x in g.logs][1:] == [huge, *small]
    check_groups(out, 1024, MAX_GROUP_BYTES)


def test_real_limits_batch_equals_per_log():
    sizes = [100, 3 * MiB - 200, 50, 3 * MiB + 10, 10, MiB, MiB, MiB, 2 * MiB, 5]
    ops = []
    for n, source in enumerate(["a", "b", "a", "c"]):
        lines = [b"%d:" % n + b"x" * size for size in sizes]
        ops.append((LogContext(source), LogBatch(lines, time=n)))
    results = []
    for use_batch in (False, True, "logs"):
        queue = ListQueue(refusal_script([False, False, True]))
        agg = make(AggregatorContext, queue, MaxLogCount=4)
        results.append(feed(agg, queue, ops, use_batch))
    per_log, by_batch, by_list = results
    assert normalised(by_batch) == normalised(per_log) == normalised(by_list)
    assert lines_by_source(by_batch) == expected_by_source(ops)
    check_groups(by_batch, 4, MAX_GROUP_BYTES)


def test_group_filled_exactly_to_the_limit_across_batches():
    half = b"x" * (MAX_GROUP_BYTES // 2 - 18)  # with its 18 bytes of overhead: half a group
    ops = [(LogContext("s"), LogBatch([half], time=n)) for n in range(3)]
    for use_batch in (False, True, "logs"):
        queue = ListQueue()
        groups = feed(make(AggregatorContext, queue), queue, ops, use_batch)
        assert [len(g) for g in groups] == [2, 1]


# The batch path is the per-log path, exactly

GROUP_BYTES = 1000
POOL_BYTES = 1500  # below two groups, so that it binds often


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    max_log_count=st.integers(1, 12),
    max_group_count=st.integers(1, 3),
    pack_flag=st.booleans(),
    answers=st.lists(st.booleans(), max_size=8),
)
def test_batch_path_equals_per_log_path(data, max_log_count, max_group_count, pack_flag, answers):
    ops = data.draw(ops_strategy(GROUP_BYTES))
    config = {
        "MaxLogCount": max_log_count,
        "MaxLogGroupCount": max_group_count,
        "PackFlag": pack_flag,
        "Topic": "t",
    }
    results = []
    with pytest.MonkeyPatch.context() as mp:
        # Small limits put many lines next to them without megabytes per example.
        mp.setattr(aggregation, "MAX_GROUP_BYTES", GROUP_BYTES)
        mp.setattr(context_module, "MAX_POOL_BYTES", POOL_BYTES)
        for use_batch in (False, True, "logs"):
            queue = ListQueue(refusal_script(answers))
            agg = make(AggregatorContext, queue, **config)
            results.append((feed(agg, queue, ops, use_batch), queue.refused))
    (per_log, refused_per_log), (by_batch, refused_by_batch), (by_list, refused_by_list) = results
    assert refused_by_batch == refused_per_log == refused_by_list
    assert normalised(by_batch) == normalised(per_log) == normalised(by_list)
    assert lines_by_source(by_batch) == expected_by_source(ops)
    check_groups(by_batch, max_log_count, GROUP_BYTES)


# Bounded state


def test_pack_seq_map_stays_capped_with_many_sources():
    agg = make(AggregatorContext)
    agg.pack_seqs.capacity = 100
    pack_ids = []
    for round_ in range(2):
        for i in range(1000):
            agg.add(Log(round_, {"content": "x"}), LogContext(f"/logs/{i}.log"))
            assert len(agg.pack_seqs) <= 100
            if i % 50 == 49:
                pack_ids += [g.tag(PACK_ID_TAG) for g in agg.flush()]
    # A forgotten source comes back under a new prefix: no pack id repeats.
    assert len(pack_ids) == 2000
    assert len(set(pack_ids)) == 2000


def test_idle_pack_seqs_are_pruned_at_flush():
    agg = make(AggregatorContext, ContextPreservationToleranceSize=10)
    now = [time.monotonic()]
    agg.pack_seqs.clock = lambda: now[0]
    for i in range(20):
        agg.add(Log(0, {"content": "x"}), LogContext(f"s{i}"))
    agg.flush()
    assert len(agg.pack_seqs) == 20
    now[0] += PACK_SEQ_TIMEOUT + 1
    for i in range(5):
        agg.add(Log(1, {"content": "x"}), LogContext(f"s{i}"))
    agg.flush()
    assert len(agg.pack_seqs) == 5
    assert all(f"s{i}" in agg.pack_seqs for i in range(5))


def test_reset_drops_pending_groups():
    agg = make(AggregatorContext)
    agg.add(Log(0, {"content": "x"}), LogContext("s"))
    agg.reset()
    assert agg.flush() == []
