"""aggregator_default: the context aggregator under its own name."""

from __future__ import annotations

from agent.plugin import registered_in
from agent.protocol import LogBatch, LogContext
from plugins.aggregator.context import AggregatorContext
from plugins.aggregator.default import AggregatorDefault
from tests.plugins.aggregator.conftest import (
    ListQueue,
    check_result,
    expected_by_source,
    feed,
    generate_logs,
    lines_by_source,
    make,
    normalised,
)


def test_registered_with_its_own_name_and_the_context_options():
    assert registered_in("plugins.aggregator.default") == [AggregatorDefault]
    assert AggregatorDefault.type_name == "aggregator_default"
    assert AggregatorDefault.summary and AggregatorDefault.summary != AggregatorContext.summary
    assert AggregatorDefault.params == AggregatorContext.params
    assert AggregatorDefault.defaults() == {
        "MaxLogGroupCount": 2,
        "MaxLogCount": 1024,
        "Topic": "",
        "PackFlag": True,
        "ContextPreservationToleranceSize": 10,
        "FlushIntervalMs": 0,
    }


def test_ilogtail_context_vectors():
    agg = make(AggregatorDefault)
    numbers = [0, 0, 0]
    generate_logs(agg, 900, numbers)
    groups = agg.flush()
    generate_logs(agg, 1800, numbers)
    groups += agg.flush()
    assert len(groups) == 6
    check_result(groups, 2700)

    queue = ListQueue()
    agg = make(AggregatorDefault, queue)
    generate_logs(agg, 18432, [0, 0, 0])
    groups = queue.pop_all() + agg.flush()
    assert len(groups) == 18
    check_result(groups, 18432)


def test_batches_group_per_source():
    sources = [("a", 1500), ("b", 10), ("a", 600), ("", 3)]
    ops = [
        (LogContext(s, "file") if s else None, LogBatch([f"{s} {i}".encode() for i in range(n)], 1))
        for s, n in sources
    ]
    results = []
    for use_batch in (False, True):
        queue = ListQueue()
        results.append(feed(make(AggregatorDefault, queue), queue, ops, use_batch))
    per_log, by_batch = results
    assert normalised(by_batch) == normalised(per_log)
    # Source a's first group was quick-flushed when it needed a third one.
    assert [(g.source, len(g)) for g in by_batch] == [
        ("a", 1024),
        ("a", 1024),
        ("a", 52),
        ("b", 10),
        ("", 3),
    ]
    assert lines_by_source(by_batch) == expected_by_source(ops)
