"""aggregator_logstore_router: routes by regex to categories, the default route, drops."""

from __future__ import annotations

import re

import pytest

from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import PACK_ID_TAG, Log, LogBatch
from plugins.aggregator.logstore_router import AggregatorLogstoreRouter
from tests.plugins.aggregator.conftest import (
    ListQueue,
    check_groups,
    feed,
    make,
    normalised,
    refusal_script,
)

ROUTES = {"RouterRegex": ["error|fatal", "warn(ing)?"], "RouterLogstore": ["errors", "warnings"]}


def by_category(groups) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for group in groups:
        out.setdefault(group.category, []).extend(x.time for x in group.logs)
    return out


def levels(*values: str | None) -> list[Log]:
    return [Log(i, {} if v is None else {"level": v, "msg": "m"}) for i, v in enumerate(values)]


def test_defaults():
    agg = AggregatorLogstoreRouter.create()
    assert (agg.MaxLogGroupCount, agg.MaxLogCount, agg.PackFlag, agg.DropDisMatch) == (
        4,
        1024,
        True,
        False,
    )
    assert (agg.SourceKey, agg.RouterRegex, agg.RouterLogstore) == ("", [], [])


def test_routes_set_the_category_and_the_rest_goes_to_the_default_route():
    agg = make(AggregatorLogstoreRouter, SourceKey="level", Topic="t", **ROUTES)
    for log in levels("error", "info", "warn", "fatal", None, "warning", "debug"):
        agg.add(log)
    groups = agg.flush()
    assert by_category(groups) == {"errors": [0, 3], "": [1, 4, 6], "warnings": [2, 5]}
    assert all(g.topic == "t" and g.source == "" for g in groups)
    assert len({g.tag(PACK_ID_TAG).split("-")[0] for g in groups}) == 3


def test_empty_source_key_matches_the_first_field():
    agg = make(AggregatorLogstoreRouter, **ROUTES)
    agg.add(Log(0, {"level": "warn", "msg": "error"}))
    agg.add(Log(1, {"msg": "error", "level": "warn"}))
    agg.add(Log(2, {}))
    assert by_category(agg.flush()) == {"warnings": [0], "errors": [1], "": [2]}


def test_drop_dis_match_drops_and_no_match_error_warns():
    metrics = PipelineMetrics("p")
    reports: list[dict] = []
    config = {"SourceKey": "level", "DropDisMatch": True, "NoMatchError": True, **ROUTES}
    agg = AggregatorLogstoreRouter.create(config)
    agg.init(Context("p", metrics=metrics, report=lambda k, d: reports.append(d)), ListQueue())
    for log in levels("error", "info", None, "warn", "debug"):
        agg.add(log)
    assert by_category(agg.flush()) == {"errors": [0], "warnings": [3]}
    assert (agg.dropped, agg.unmatched.total, metrics.errors, len(reports)) == (3, 3, 3, 1)
    quiet = make(AggregatorLogstoreRouter, SourceKey="level", DropDisMatch=True, **ROUTES)
    quiet.add(levels("info")[0])
    assert (quiet.dropped, quiet.unmatched.total, quiet.flush()) == (1, 0, [])


def test_a_route_needs_the_whole_value():
    agg = make(AggregatorLogstoreRouter, SourceKey="level", **ROUTES)
    for log in levels("errors", "error!", "an error", "warnin", "warning"):
        agg.add(log)
    assert by_category(agg.flush()) == {"": [0, 1, 2, 3], "warnings": [4]}


def test_a_whole_value_match_behind_a_shorter_alternative_routes():
    # iLogtail takes a route only when the regex's first match spans the value.
    regex = "error|errors"
    first = re.search(regex, "errors")
    assert first is not None and first.span() != (0, len("errors"))  # iLogtail: no route
    agg = make(
        AggregatorLogstoreRouter, SourceKey="level", RouterRegex=[regex], RouterLogstore=["e"]
    )
    agg.add(levels("errors")[0])
    assert by_category(agg.flush()) == {"e": [0]}


def test_invalid_routes_are_config_errors():
    with pytest.raises(ConfigError) as err:
        AggregatorLogstoreRouter.create({"RouterRegex": ["a"], "RouterLogstore": []})
    assert (err.value.plugin, err.value.key) == ("aggregator_logstore_router", "RouterLogstore")
    with pytest.raises(ConfigError) as err:
        AggregatorLogstoreRouter.create({"RouterRegex": ["(a"], "RouterLogstore": ["x"]})
    assert err.value.key == "RouterRegex"
    assert "not a valid regular expression" in str(err.value)


def test_quick_flush_per_route_keeps_order_and_pack_seqs():
    queue = ListQueue()
    agg = make(
        AggregatorLogstoreRouter,
        queue,
        SourceKey="level",
        MaxLogCount=2,
        MaxLogGroupCount=1,
        **ROUTES,
    )
    values = ["error", "info", "warn"] * 7
    for log in levels(*values):
        agg.add(log)
    assert len(queue.groups) == 9  # per route: groups 1-3 went, group 4 waits
    out = queue.pop_all() + agg.flush()
    check_groups(out, 2, 3 * 1024 * 1024)
    assert by_category(out) == {
        c: list(range(n, 21, 3)) for n, c in enumerate(["errors", "", "warnings"])
    }


@pytest.mark.parametrize("source_key", ["", "content", "other"])
@pytest.mark.parametrize("drop", [False, True])
def test_batch_path_equals_per_log_path(source_key, drop):
    config = {"SourceKey": source_key, "DropDisMatch": drop, "MaxLogCount": 3}
    config |= {"MaxLogGroupCount": 2, "RouterRegex": ["a.*", "b.*"], "RouterLogstore": ["A", "B"]}
    lines = [bytes([c]) for c in b"abcaabxcccabbbac"] * 5
    ops = [(None, LogBatch(lines, time=1)), None, (None, LogBatch(lines[::-1], time=2))]
    results = []
    for use_batch in (False, True):
        queue = ListQueue(refusal_script([False, True, False]))
        agg = make(AggregatorLogstoreRouter, queue, **config)
        groups = feed(agg, queue, ops, use_batch)
        categories = [g.category for g in groups]
        results.append((normalised(groups), categories, queue.refused, agg.dropped))
    (
        (per_log, cat_log, refused_log, dropped_log),
        (by_batch, cat_batch, refused_batch, dropped_batch),
    ) = results
    assert by_batch == per_log
    assert cat_batch == cat_log
    assert refused_batch == refused_log
    assert dropped_batch == dropped_log
    kept = sum(len(g[3]) for g in by_batch)
    assert kept + dropped_batch == 2 * len(lines)
