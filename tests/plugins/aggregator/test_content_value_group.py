"""aggregator_content_value_group: iLogtail's vectors, and its defects fixed."""

from __future__ import annotations

import pytest

from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import PACK_ID_TAG, Log, LogBatch, LogContext, LogTag
from agent.queue import LogGroupQueue, QueueFullError
from plugins.aggregator.content_value_group import AggregatorContentValueGroup
from tests.plugins.aggregator.conftest import ListQueue, check_groups, make


def tags_of(group) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in group.log_tags if t.key != PACK_ID_TAG]


def drain(queue: LogGroupQueue) -> list:
    groups = []
    while (group := queue.get(timeout=0)) is not None:
        groups.append(group)
    return groups


def with_reports(queue, metrics=None, **config):
    reports: list[dict] = []
    agg = AggregatorContentValueGroup.create(config)
    context = Context("p", metrics=metrics, report=lambda kind, data: reports.append(data))
    agg.init(context, queue)
    return agg, reports


# iLogtail's aggregator_content_value_group_test.go


def test_group_keys_are_required():
    with pytest.raises(ConfigError) as err:
        AggregatorContentValueGroup.create({})
    assert (err.value.plugin, err.value.key) == ("aggregator_content_value_group", "GroupKeys")
    with pytest.raises(ConfigError, match="at least one"):
        AggregatorContentValueGroup.create({"GroupKeys": []})
    with pytest.raises(ConfigError, match="twice"):
        AggregatorContentValueGroup.create({"GroupKeys": ["a", "a"]})
    AggregatorContentValueGroup.create({"GroupKeys": ["a", "b"]})


def test_100_logs_mixed_make_2_groups_of_50():
    queue = ListQueue()
    agg = make(AggregatorContentValueGroup, queue, GroupKeys=["ka", "kb"])
    for i in range(100):
        agg.add(Log(i, {"ka": "a"} if i % 2 == 0 else {"kb": "b"}))
    groups = agg.flush()
    assert queue.groups == []
    assert len(groups) == 2
    for group in groups:
        assert len(group) == 50
        # iLogtail's findFirstNoneEmptyLogTag: the tag that is set names the logs' key.
        key = next(k for k, v in tags_of(group) if v)
        assert all(next(iter(log.contents)) == key for log in group.logs)
    assert [tags_of(g) for g in groups] == [[("ka", "a"), ("kb", "")], [("ka", ""), ("kb", "b")]]


def test_4097_same_logs_quick_flush_1024_and_flush_3073():
    queue = ListQueue()
    agg = make(AggregatorContentValueGroup, queue, GroupKeys=["ka", "kb"])
    for i in range(4097):
        agg.add(Log(i, {"ka": "a"}))
    assert [len(g) for g in queue.groups] == [1024]
    groups = agg.flush()
    assert len(groups) == 4
    assert sum(len(g) for g in groups) == 3073
    assert all(tags_of(g) == [("ka", "a"), ("kb", "")] for g in queue.groups + groups)
    check_groups(queue.groups + groups, 1024, 3 * 1024 * 1024)


# The defects iLogtail has


def ilogtail_group_key(log: Log, keys: list[str]) -> str:
    """iLogtail's buildGroupKey: the values joined by "_"."""
    return "_".join(log.contents.get(k, "") for k in keys)


def test_group_keys_that_ilogtail_joins_alike_stay_apart():
    keys = ["a", "b"]
    one, two = Log(1, {"a": "a_b", "b": "c"}), Log(2, {"a": "a", "b": "b_c"})
    assert ilogtail_group_key(one, keys) == ilogtail_group_key(two, keys)  # the defect
    agg = make(AggregatorContentValueGroup, GroupKeys=keys)
    agg.add(one)
    agg.add(two)
    groups = agg.flush()
    assert [tags_of(g) for g in groups] == [[("a", "a_b"), ("b", "c")], [("a", "a"), ("b", "b_c")]]
    assert [g.logs for g in groups] == [[one], [two]]
    assert len({g.tag(PACK_ID_TAG).split("-")[0] for g in groups}) == 2


def ilogtail_add_group_tags(tags: list[LogTag], group_kvs: dict[str, str]) -> None:
    """iLogtail's addGroupTags (with the map's order fixed): stops at a tag already there."""
    for k, v in group_kvs.items():
        if any(t.key == k for t in tags):
            return
        tags.append(LogTag(k, v))


def test_every_group_has_every_tag_in_group_keys_order():
    # iLogtail adds the pack id first, then the group's tags, and returns at the first
    # one already present: a group key named like the pack id tag loses the others.
    keys = [PACK_ID_TAG, "level", "host"]
    ilogtail_tags = [LogTag(PACK_ID_TAG, "ABC-1")]
    ilogtail_add_group_tags(ilogtail_tags, {k: "x" for k in keys})
    assert [t.key for t in ilogtail_tags] == [PACK_ID_TAG]  # the defect
    queue = LogGroupQueue(1)
    agg = make(AggregatorContentValueGroup, queue, GroupKeys=keys)
    out = []
    refused = 0
    for i in range(6000):  # quick flushes at 4,097 and 5,121; the second is refused once
        log = Log(i, {PACK_ID_TAG: "x", "level": "error", "host": "h1"})
        while True:
            try:
                agg.add(log)
                break
            except QueueFullError:
                refused += 1
                out += drain(queue)
    out += drain(queue) + agg.flush()
    assert refused == 1
    assert [len(g) for g in out] == [1024] * 5 + [880]
    for n, group in enumerate(out, 1):
        assert [(t.key, t.value) for t in group.log_tags[:-1]] == [
            (PACK_ID_TAG, "x"),
            ("level", "error"),
            ("host", "h1"),
        ]
        # The real pack id comes last, where LogGroup.tag() finds it.
        assert group.log_tags[-1].key == PACK_ID_TAG
        assert group.tag(PACK_ID_TAG).endswith(f"-{n:X}")


def test_missing_key_groups_as_empty_and_is_counted_and_warned_once_per_interval():
    metrics = PipelineMetrics("p")
    agg, reports = with_reports(ListQueue(), metrics, GroupKeys=["level"], ErrIfKeyNotFound=True)
    agg.add(Log(1, {"level": ""}))
    agg.add(Log(2, {"content": "no level"}))
    agg.add(Log(3, {"content": "no level either"}))
    (group,) = agg.flush()
    assert tags_of(group) == [("level", "")]
    assert [x.time for x in group.logs] == [1, 2, 3]
    assert agg.missing.total == 2
    assert metrics.errors == 2
    assert len(reports) == 1  # the second waits for the interval to pass
    assert "no field 'level'" in reports[0]["message"]


def test_missing_key_is_not_counted_without_err_if_key_not_found():
    metrics = PipelineMetrics("p")
    agg, reports = with_reports(ListQueue(), metrics, GroupKeys=["level"])
    agg.add(Log(1, {"content": "x"}))
    assert (agg.missing.total, metrics.errors, reports) == (0, 0, [])


def test_topic_pack_ids_and_no_context():
    agg = make(AggregatorContentValueGroup, GroupKeys=["k"], Topic="t")
    agg.add(Log(1, {"k": "v"}), LogContext("/var/log/a.log", "file", [LogTag("host", "h")]))
    (group,) = agg.flush()
    assert (group.topic, group.source, tags_of(group)) == ("t", "", [("k", "v")])
    agg = make(AggregatorContentValueGroup, GroupKeys=["k"], EnablePackID=False)
    agg.add(Log(1, {"k": "v"}))
    assert agg.flush()[0].log_tags == [LogTag("k", "v")]


# Bounded state


def test_idle_keys_leave_at_flush_and_their_pack_seq_continues():
    agg = make(AggregatorContentValueGroup, GroupKeys=["k"])
    ids = []
    for i in range(3):
        agg.add(Log(i, {"k": "a"}))
        ids += [g.tag(PACK_ID_TAG) for g in agg.flush()]
        assert agg._pool.lists == {}
    prefix = ids[0].split("-")[0]
    assert ids == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]


def test_max_group_keys_sends_the_oldest_key_first_and_counts_it():
    queue = ListQueue()
    agg, reports = with_reports(queue, GroupKeys=["k"], MaxGroupKeys=3)
    for i in range(10):
        agg.add(Log(i, {"k": str(i % 5)}))
        assert len(agg._pool.lists) <= 3
    # Keys 0,1,2 fill the cap; 3 sends 0, 4 sends 1, 0 sends 2, ...
    assert [tags_of(g) for g in queue.groups] == [[("k", str(i % 5))] for i in range(7)]
    assert agg.evicted_keys == 7
    out = queue.pop_all() + agg.flush()
    assert [x.time for g in out for x in g.logs] == list(range(10))
    assert len(reports) == 1 and "7 group keys sent early" in reports[0]["message"]


def test_refused_eviction_keeps_the_log_out_until_retry():
    queue = LogGroupQueue(1)
    agg = make(AggregatorContentValueGroup, queue, GroupKeys=["k"], MaxGroupKeys=1)
    agg.add(Log(0, {"k": "a"}))
    agg.add(Log(1, {"k": "b"}))  # sends a's group
    with pytest.raises(QueueFullError):
        agg.add(Log(2, {"k": "c"}))  # b's group cannot go: c waits
    assert list(agg._pool.lists) == [("b",)]
    out = drain(queue)
    agg.add(Log(2, {"k": "c"}))
    out += drain(queue) + agg.flush()
    assert [(tags_of(g), [x.time for x in g.logs]) for g in out] == [
        ([("k", "a")], [0]),
        ([("k", "b")], [1]),
        ([("k", "c")], [2]),
    ]
    assert agg.evicted_keys == 2


def test_high_cardinality_keys_stay_bounded():
    queue = ListQueue()
    agg = make(AggregatorContentValueGroup, queue, GroupKeys=["id"], MaxGroupKeys=100)
    agg.pack_seqs.capacity = 1000
    n = 20_000
    for i in range(n):
        agg.add(Log(i, {"id": str(i)}))
        if i % 1000 == 0:
            assert len(agg._pool.lists) <= 100
            assert len(agg.pack_seqs) <= 1000
    out = queue.pop_all() + agg.flush()
    assert sorted(x.time for g in out for x in g.logs) == list(range(n))
    assert agg.evicted_keys == n - 100


# The batch path


def test_batch_path_groups_by_line_and_counts_only_lines_taken():
    metrics = PipelineMetrics("p")
    queue = LogGroupQueue(1)
    agg, _ = with_reports(queue, metrics, GroupKeys=["content", "level"], ErrIfKeyNotFound=True)
    # 6,000 "a" lines quick-flush twice; the queue holds one group, so the second waits.
    lines = [b"a", b"a", b"b", b"a"] * 2000
    batch = LogBatch(lines, time=1)
    out = []
    refused = 0
    while True:
        try:
            agg.add_batch(batch, None)
            break
        except QueueFullError as e:
            refused += 1
            batch = LogBatch(batch.lines[e.consumed :], time=1)
            out += drain(queue)
    out += drain(queue) + agg.flush()
    assert refused == 1
    assert agg.missing.total == len(lines) == metrics.errors  # each line once, retries aside
    assert [(tags_of(g)[0][1], len(g)) for g in out] == [("a", 1024)] * 5 + [
        ("a", 880),
        ("b", 1024),
        ("b", 976),
    ]
    assert {tuple(tags_of(g)) for g in out} == {(("content", v), ("level", "")) for v in "ab"}


# The list path (processed logs: the runner hands over a chunk's Logs in one call)


def test_list_path_counts_missing_fields_only_for_logs_taken():
    metrics = PipelineMetrics("p")
    queue = LogGroupQueue(1)
    agg, _ = with_reports(queue, metrics, GroupKeys=["level", "host"], ErrIfKeyNotFound=True)
    # 6,000 "error" logs quick-flush twice; the queue holds one group, so the second waits.
    logs = [Log(i, {"level": "error" if i % 4 != 2 else "warn"}) for i in range(8000)]
    out = []
    refused = 0
    pending = logs
    while True:
        try:
            agg.add_logs(pending)
            break
        except QueueFullError as e:
            refused += 1
            assert 0 < e.consumed < len(pending)
            pending = pending[e.consumed :]
            out += drain(queue)
    out += drain(queue) + agg.flush()
    assert refused == 1
    # Every log lacks "host": each counted once, the refused one too, but only once.
    assert agg.missing.total == len(logs) == metrics.errors
    assert [(tags_of(g)[0][1], len(g)) for g in out] == [("error", 1024)] * 5 + [
        ("error", 880),
        ("warn", 1024),
        ("warn", 976),
    ]
    assert sorted(x.time for g in out for x in g.logs) == list(range(8000))
