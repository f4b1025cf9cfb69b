"""Every registered aggregator, random logs, random queue refusals: exact and bounded.

Logs come with random fields, sources and context tags; the queue refuses at random and
the caller retries as the runner does. Whatever comes out (queued, then flushed) must
be every log that went in, once, in input order within each group identity (category,
source, topic and tags but the pack id: a key of any aggregator), while the groups held
stay within the aggregator's caps after every call.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import aggregation
from agent.aggregation import GroupPool
from agent.protocol import PACK_ID_TAG, Log, LogBatch, LogContext, LogGroup, LogTag, log_size
from agent.queue import QueueFullError
from agent.registry import load_registry
from tests.plugins.aggregator.conftest import (
    ListQueue,
    group_size,
    make,
    normalised,
    ops_strategy,
    refusal_script,
)

GROUP_BYTES = 1000
POOL_BYTES = 1500  # below two groups, so that it binds often
AGGREGATORS = load_registry().names("aggregator")
VALUES = ["", "a", "a_b", "b", "b_c", "error", "warn", "info"]

# Small limits so that every rule binds within a few dozen logs; {} for the rest.
CONFIGS: dict[str, dict[str, Any]] = {
    "aggregator_base": {"MaxLogCount": 4, "MaxLogGroupCount": 2},
    "aggregator_context": {"MaxLogCount": 4},
    "aggregator_default": {"MaxLogCount": 4},
    "aggregator_content_value_group": {"GroupKeys": ["level", "host"], "MaxGroupKeys": 3},
    "aggregator_metadata_group": {
        "GroupMetadataKeys": ["env", "host"],
        "GroupMaxEventLength": 4,
        "GroupMaxByteLength": GROUP_BYTES,
        "DropOversizeEvent": False,
        "MaxGroupKeys": 1,
    },
    "aggregator_shardhash": {"SourceKeys": ["host"], "ShardCount": 4},
    "aggregator_logstore_router": {
        "SourceKey": "level",
        "RouterRegex": ["e.*", "w.*"],
        "RouterLogstore": ["errors", "warnings"],
        "MaxLogCount": 4,
        "MaxLogGroupCount": 2,
    },
}
# The batch path gives logs one field, "content": group on that.
BATCH_CONFIGS: dict[str, dict[str, Any]] = {
    "aggregator_content_value_group": {"GroupKeys": ["content"], "MaxGroupKeys": 3},
    "aggregator_shardhash": {"SourceKeys": ["content"], "ShardCount": 4},
    "aggregator_logstore_router": {
        "RouterRegex": ["é.*", r"\d*[02468]:.*"],
        "RouterLogstore": ["wide", "even"],
        "MaxLogCount": 4,
        "MaxLogGroupCount": 2,
    },
}


@contextmanager
def small_limits(cls: type) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(aggregation, "MAX_GROUP_BYTES", GROUP_BYTES)
        for klass in cls.__mro__:
            module = sys.modules[klass.__module__]
            if hasattr(module, "MAX_POOL_BYTES"):
                mp.setattr(module, "MAX_POOL_BYTES", POOL_BYTES)
        yield


def create(name: str, queue: ListQueue, configs: dict[str, dict[str, Any]]) -> Any:
    cls = load_registry().get(name)
    config = configs.get(name, CONFIGS.get(name, {}))
    return make(cls, queue, **config)


# Random logs


def log_ops() -> st.SearchStrategy[list[Any]]:
    size = st.one_of(
        st.integers(0, 40),
        st.integers(GROUP_BYTES // 3 - 40, GROUP_BYTES // 3),
        st.integers(GROUP_BYTES - 60, GROUP_BYTES + 20),
    )
    fields = st.dictionaries(st.sampled_from(["level", "host"]), st.sampled_from(VALUES))
    tag = st.builds(LogTag, st.sampled_from(["env", "host"]), st.sampled_from(VALUES))
    ctx = st.one_of(
        st.none(),
        st.builds(
            LogContext,
            source=st.sampled_from(["", "s1", "s2"]),
            topic=st.sampled_from(["", "file"]),
            tags=st.lists(tag, max_size=3),
        ),
    )
    batch = st.tuples(ctx, st.lists(st.tuples(size, fields), max_size=20))
    return st.lists(st.one_of(batch, batch, batch, st.none()), max_size=10).map(_numbered)


def _numbered(specs: list[Any]) -> list[Any]:
    """Ops of (ctx, [Log]) or None (a flush); each log's content starts with its number."""
    ops: list[Any] = []
    n = 0
    for spec in specs:
        if spec is None:
            ops.append(None)
            continue
        ctx, logs = spec
        batch = []
        for size, fields in logs:
            batch.append(Log(n, {"content": f"{n:05d}:" + "x" * size, **fields}))
            n += 1
        ops.append((ctx, batch))
    return ops


# Running and checking


def run(
    agg: Any, queue: ListQueue, ops: list[Any], use_batch: bool, use_lists: bool = False
) -> list[LogGroup]:
    """Feed `ops` as the runner does (retrying refusals); check the caps after every call.

    Logs go one by one (`add`), or a batch at a time: as LogBatches (`use_batch`) or as
    lists of Logs (`use_lists`, the runner's path for processed logs)."""
    out: list[LogGroup] = []
    biggest = 0
    for op in ops:
        if op is None:
            out += queue.pop_all() + agg.flush()
            continue
        ctx, data = op
        if use_lists:
            logs = data if isinstance(data, list) else data.to_logs()
            biggest = max([biggest, *map(log_size, logs)])
            while True:
                try:
                    agg.add_logs(logs, ctx)
                    break
                except QueueFullError as e:
                    logs = logs[e.consumed :]
                finally:
                    check_bounded(agg, biggest)
        elif use_batch:
            biggest = max([biggest, *(LogBatch([x], 0).size() for x in data.lines)])
            while True:
                try:
                    agg.add_batch(data, ctx)
                    break
                except QueueFullError as e:
                    data = LogBatch(data.lines[e.consumed :], data.time, data.time_ns, data.key)
                finally:
                    check_bounded(agg, biggest)
        else:
            logs = data if isinstance(data, list) else data.to_logs()
            for log in logs:
                biggest = max(biggest, log_size(log))
                while True:
                    try:
                        agg.add(log, ctx)
                        break
                    except QueueFullError as e:
                        assert e.consumed == 0
                    finally:
                        check_bounded(agg, biggest)
    out += queue.pop_all() + agg.flush()
    # Every group leaves with the size its pool counted on the way in (the GUI's summary
    # and byte metrics read it instead of summing every line again).
    assert [g.nbytes for g in out] == [group_size(g) for g in out]
    return out


def check_bounded(agg: Any, biggest: int) -> None:
    pool = agg._pool
    assert isinstance(pool, GroupPool), "every aggregator keeps its groups in a GroupPool"
    # Keys that come from the data need a cap on keys or bytes.
    assert pool.limit is not None or pool.max_keys is not None or len(pool.lists) <= 1
    if pool.max_keys is not None:
        assert len(pool.lists) <= pool.max_keys
    if pool.limit is not None:
        assert pool.bytes <= pool.limit + biggest  # checked before each log is taken
    assert pool.bytes == sum(sum(lst.sizes) for lst in pool.lists.values())
    for lst in pool.lists.values():
        assert len(lst.groups) <= pool.max_group_count
        assert all(1 <= len(g) <= pool.max_log_count for g in lst.groups)
    pack_seqs = getattr(agg, "pack_seqs", None)
    if pack_seqs is not None:
        assert len(pack_seqs) <= pack_seqs.capacity


def identity(group: LogGroup) -> tuple[Any, ...]:
    tags = tuple((t.key, t.value) for t in group.log_tags if t.key != PACK_ID_TAG)
    return (group.category, group.source, group.topic, tags)


def check_exact(groups: list[LogGroup], expected: list[str]) -> None:
    """Every log once, and in input order within each group identity."""
    numbers = [int(x.contents["content"].lstrip("é")[:5]) for g in groups for x in g.logs]
    assert sorted(numbers) == sorted(int(c.lstrip("é")[:5]) for c in expected)
    assert len(set(numbers)) == len(numbers)
    by_identity: dict[tuple[Any, ...], list[int]] = {}
    for g in groups:
        by_identity.setdefault(identity(g), []).extend(
            int(x.contents["content"].lstrip("é")[:5]) for x in g.logs
        )
    for numbers in by_identity.values():
        assert numbers == sorted(numbers)


@pytest.mark.parametrize("name", AGGREGATORS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=log_ops(), answers=st.lists(st.booleans(), max_size=8))
def test_random_logs_come_out_once_in_order_with_bounded_state(name, ops, answers):
    cls = load_registry().get(name)
    with small_limits(cls):
        queue = ListQueue(refusal_script(answers))
        groups = run(create(name, queue, CONFIGS), queue, ops, use_batch=False)
    expected = [x.contents["content"] for op in ops if op is not None for x in op[1]]
    check_exact(groups, expected)
    assert all(len(g) >= 1 for g in groups)


BATCH_AGGREGATORS = [n for n in AGGREGATORS if hasattr(load_registry().get(n), "add_batch")]


@pytest.mark.parametrize("name", BATCH_AGGREGATORS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), answers=st.lists(st.booleans(), max_size=8))
def test_batch_path_equals_per_log_path(name, data, answers):
    ops = data.draw(ops_strategy(GROUP_BYTES))
    cls = load_registry().get(name)
    results = []
    with small_limits(cls):
        for use_batch in (False, True):
            queue = ListQueue(refusal_script(answers))
            groups = run(create(name, queue, BATCH_CONFIGS), queue, ops, use_batch)
            results.append((normalised(groups), [g.category for g in groups], queue.refused))
    assert results[1] == results[0]
    check_exact(groups, [t for op in ops if op is not None for t in op[1].texts()])


LIST_AGGREGATORS = [n for n in AGGREGATORS if hasattr(load_registry().get(n), "add_logs")]
CONTENT_KEYED = ("aggregator_content_value_group", "aggregator_shardhash")


@pytest.mark.parametrize("name", LIST_AGGREGATORS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=log_ops(), answers=st.lists(st.booleans(), max_size=8))
def test_list_path_equals_per_log_path(name, ops, answers):
    """`add_logs` (processed logs, a list per chunk) makes what `add` log by log makes:
    the same groups, the same refusals, every log once."""
    cls = load_registry().get(name)
    configs = {k: {**v, "ErrIfKeyNotFound": True} for k, v in CONFIGS.items()}
    configs = configs if name in CONTENT_KEYED else CONFIGS
    results = []
    with small_limits(cls):
        for use_lists in (False, True):
            queue = ListQueue(refusal_script(answers))
            agg = create(name, queue, configs)
            groups = run(agg, queue, ops, use_batch=False, use_lists=use_lists)
            counts = [getattr(agg, "evicted_keys", 0)]
            if name in CONTENT_KEYED:  # logs without a GroupKeys field: each taken log once
                counts.append(agg.missing.total)
            results.append(
                (normalised(groups), [g.category for g in groups], queue.refused, counts)
            )
    assert results[1] == results[0]
    check_exact(groups, [x.contents["content"] for op in ops if op is not None for x in op[1]])


def test_every_aggregator_is_covered():
    assert {
        "aggregator_content_value_group",
        "aggregator_metadata_group",
        "aggregator_shardhash",
        "aggregator_logstore_router",
    } <= set(AGGREGATORS)
    # The list path of the aggregators that group by field values is compared above.
    assert {"aggregator_content_value_group", "aggregator_shardhash"} <= set(LIST_AGGREGATORS)
