"""aggregator_metadata_group: iLogtail's test cases, oversize logs, keys, batches."""

from __future__ import annotations

import pytest

from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log, LogBatch, LogContext, LogGroup, LogTag, log_size
from agent.queue import LogGroupQueue, QueueFullError
from plugins.aggregator.metadata_group import AggregatorMetadataGroup
from tests.plugins.aggregator.conftest import ListQueue, feed, make, normalised, refusal_script

RAW_DATA = "cpu.load.short,host=server01,region=cn value=0.64"  # iLogtail's RawData
RAW_LOG_SIZE = log_size(Log(0, {"content": RAW_DATA}))


def ctx_of(**tags: str) -> LogContext:
    return LogContext("src", "topic", [LogTag(k, v) for k, v in tags.items()])


def record(agg, count: int, **tags: str) -> None:
    """iLogtail's generate*Events + Record: `count` logs under one set of metadata."""
    for i in range(count):
        agg.add(Log(i, {"content": RAW_DATA}), ctx_of(**tags))


def tags_of(group) -> dict[str, str]:
    return {t.key: t.value for t in group.log_tags}


# iLogtail's aggregator_metadata_group_test.go


def test_defaults_and_invalid_limits():
    agg = AggregatorMetadataGroup.create()
    assert (agg.GroupMetadataKeys, agg.GroupMaxEventLength, agg.GroupMaxByteLength) == (
        [],
        1024,
        3 * 1024 * 1024,
    )
    assert agg.DropOversizeEvent is True
    for key in ("GroupMaxEventLength", "GroupMaxByteLength"):
        with pytest.raises(ConfigError) as err:
            AggregatorMetadataGroup.create({key: -1})
        assert err.value.key == key


@pytest.mark.parametrize("limit", ["bytes", "events"])
def test_a_full_group_leaves_when_the_next_log_of_its_metadata_arrives(limit):
    queue = ListQueue()
    config = {"GroupMetadataKeys": ["a", "b"]}
    if limit == "bytes":
        config["GroupMaxByteLength"] = RAW_LOG_SIZE * 5
    else:
        config["GroupMaxEventLength"] = 5
    agg = make(AggregatorMetadataGroup, queue, **config)
    record(agg, 5, a="1", b="2", c="3")
    assert queue.groups == []
    record(agg, 4, a="1", b="1", c="3")
    assert queue.groups == []
    record(agg, 5, a="1", b="2", c="3")
    (group,) = queue.groups
    assert len(group) == 5
    assert group.log_tags == [LogTag("a", "1"), LogTag("b", "2")]  # c is not kept
    assert (group.source, group.topic) == ("", "")


def test_a_missing_metadata_key_is_an_empty_tag():
    queue = ListQueue()
    agg = make(
        AggregatorMetadataGroup,
        queue,
        GroupMetadataKeys=["nonexistentKEY"],
        GroupMaxByteLength=RAW_LOG_SIZE * 5,
    )
    record(agg, 5, a="1")
    assert queue.groups == []
    record(agg, 4, b="1")
    (group,) = queue.groups
    assert len(group) == 5
    assert tags_of(group) == {"nonexistentKEY": ""}


def test_flush_returns_one_group_per_metadata():
    agg = make(AggregatorMetadataGroup, GroupMetadataKeys=["a", "b"])
    record(agg, 5, a="1", b="2", c="3")
    record(agg, 5, a="1", b="1", c="3")
    groups = agg.flush()
    assert [len(g) for g in groups] == [5, 5]
    assert [tags_of(g) for g in groups] == [{"a": "1", "b": "2"}, {"a": "1", "b": "1"}]


def test_104_logs_in_groups_of_5_leave_20_groups():
    queue = ListQueue()
    agg = make(AggregatorMetadataGroup, queue, GroupMaxEventLength=5)
    record(agg, 104)
    assert len(queue.groups) == 20
    assert all(g.log_tags == [] for g in queue.groups)
    assert [len(g) for g in agg.flush()] == [4]


def test_only_the_selected_tags_survive():
    queue = ListQueue()
    agg = make(AggregatorMetadataGroup, queue, GroupMaxEventLength=5, GroupMetadataKeys=["meta"])
    record(agg, 104, meta="metaval", tag="tagval")
    assert len(queue.groups) == 20
    assert all(g.log_tags == [LogTag("meta", "metaval")] for g in queue.groups)


def test_timer_flush_takes_everything():
    queue = ListQueue()
    agg = make(AggregatorMetadataGroup, queue, GroupMaxEventLength=500)
    record(agg, 104)
    assert queue.groups == []
    assert [len(g) for g in agg.flush()] == [104]


def test_oversize_logs_are_dropped_counted_and_warned():
    metrics = PipelineMetrics("p")
    reports: list[dict] = []
    agg = AggregatorMetadataGroup.create({"GroupMaxEventLength": 500, "GroupMaxByteLength": 1})
    queue = ListQueue()
    agg.init(Context("p", metrics=metrics, report=lambda k, d: reports.append(d)), queue)
    record(agg, 5, a="1", b="2", c="3")
    assert queue.groups == []
    assert agg.flush() == []
    assert (agg.oversize.total, metrics.dropped, len(reports)) == (5, 5, 1)
    assert "logs over GroupMaxByteLength dropped" in reports[0]["message"]


def test_oversize_logs_go_out_alone_at_once_without_drop():
    queue = ListQueue()
    agg = make(
        AggregatorMetadataGroup,
        queue,
        GroupMaxEventLength=500,
        GroupMaxByteLength=1,
        DropOversizeEvent=False,
    )
    record(agg, 5, a="1", b="2", c="3")
    assert [len(g) for g in queue.groups] == [1] * 5
    assert agg.flush() == []


def test_oversize_log_keeps_its_place_among_its_keys_logs():
    queue = ListQueue()
    limit = RAW_LOG_SIZE * 3
    agg = make(AggregatorMetadataGroup, queue, GroupMaxByteLength=limit, DropOversizeEvent=False)
    big = Log(2, {"content": "x" * limit})
    logs = [Log(0, {"content": RAW_DATA}), Log(1, {"content": RAW_DATA}), big]
    logs += [Log(3, {"content": RAW_DATA})]
    for log in logs:
        agg.add(log)
    out = queue.pop_all() + agg.flush()
    assert [[x.time for x in g.logs] for g in out] == [[0, 1], [2], [3]]


def test_refused_direct_output_keeps_the_oversize_log_for_later():
    queue = LogGroupQueue(1)
    agg = make(AggregatorMetadataGroup, queue, GroupMaxByteLength=100, DropOversizeEvent=False)
    queue.add(LogGroup(category="filler"))
    agg.add(Log(1, {"content": "x" * 200}))  # taken, though it cannot leave yet
    with pytest.raises(QueueFullError):
        agg.add(Log(2, {"content": "small"}))  # the big one must leave first
    assert queue.get(timeout=0).category == "filler"
    agg.add(Log(2, {"content": "small"}))
    assert [x.time for x in queue.get(timeout=0).logs] == [1]
    assert [[x.time for x in g.logs] for g in agg.flush()] == [[2]]


# The defects iLogtail has


def test_metadata_values_that_ilogtail_joins_alike_stay_apart():
    agg = make(AggregatorMetadataGroup, GroupMetadataKeys=["a", "b"])
    assert "_".join(["a_b", "c"]) == "_".join(["a", "b_c"])  # iLogtail's buildGroupKey
    agg.add(Log(1, {"content": "one"}), ctx_of(a="a_b", b="c"))
    agg.add(Log(2, {"content": "two"}), ctx_of(a="a", b="b_c"))
    groups = agg.flush()
    assert [tags_of(g) for g in groups] == [{"a": "a_b", "b": "c"}, {"a": "a", "b": "b_c"}]


def test_max_group_keys_bounds_the_keys_held():
    queue = ListQueue()
    agg = make(AggregatorMetadataGroup, queue, GroupMetadataKeys=["path"], MaxGroupKeys=10)
    for i in range(1000):
        agg.add(Log(i, {"content": "x"}), ctx_of(path=f"/logs/{i % 100}.log"))
        assert len(agg._pool.lists) <= 10
    out = queue.pop_all() + agg.flush()
    assert sorted(x.time for g in out for x in g.logs) == list(range(1000))
    assert agg.evicted_keys == 990


# The batch path


def batch_ops(sizes: list[int]) -> list:
    lines = [b"%03d:" % n + b"x" * max(0, size - 4) for n, size in enumerate(sizes)]
    half = len(lines) // 2
    return [
        (ctx_of(a="1"), LogBatch(lines[:half], time=1)),
        (ctx_of(a="2"), LogBatch(lines[half:], time=2)),
        (ctx_of(a="1"), LogBatch(lines, time=3)),
    ]


@pytest.mark.parametrize("drop", [True, False])
def test_batch_path_equals_per_log_path_with_oversize_lines(drop):
    sizes = [10, 50, 300, 20, 20, 301, 400, 5, 290, 60, 60, 60, 1000, 1]
    config = {
        "GroupMetadataKeys": ["a"],
        "GroupMaxEventLength": 3,
        "GroupMaxByteLength": 300,
        "DropOversizeEvent": drop,
    }
    results = []
    for use_batch in (False, True):
        queue = ListQueue(refusal_script([False, True, False, False, True]))
        agg = make(AggregatorMetadataGroup, queue, **config)
        results.append((normalised(feed(agg, queue, batch_ops(sizes), use_batch)), agg))
    (per_log, agg_log), (by_batch, agg_batch) = results
    assert by_batch == per_log
    oversize = 2 * sum(1 for s in sizes if log_size(Log(0, {"content": "x" * max(4, s)})) > 300)
    assert oversize > 0
    assert agg_batch.oversize.total == agg_log.oversize.total == (oversize if drop else 0)
    assert sum(len(g[3]) for g in by_batch) == 2 * len(sizes) - agg_batch.oversize.total
