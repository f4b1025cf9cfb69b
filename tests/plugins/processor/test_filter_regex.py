"""processor_filter_regex: Include/Exclude semantics, counters and config errors."""

from __future__ import annotations

from typing import Any

import pytest

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from agent.registry import Registry
from plugins.processor.filter_regex import FilterRegexProcessor

LOGS = [
    {"level": "error", "message": "mod_jk child workerEnv in error state 6"},
    {"level": "notice", "message": "workerEnv.init() ok"},
    {"level": "error", "message": "health check failed"},
    {"message": "no level at all"},
]


def kept(config: dict[str, Any]) -> list[dict[str, str]]:
    processor = FilterRegexProcessor.create(config)
    return [log.contents for log in processor.process_logs([Log(1, dict(c)) for c in LOGS])]


def test_readme_example() -> None:
    config = {"Include": {"level": "^(error|warn)$"}, "Exclude": {"message": "health check"}}
    assert kept(config) == [LOGS[0]]


def test_include_needs_every_field_present_and_matching() -> None:
    assert kept({"Include": {"level": "error", "message": "state"}}) == [LOGS[0]]
    # Like Go's MatchString: a match anywhere in the value counts.
    assert kept({"Include": {"message": "Env"}}) == [LOGS[0], LOGS[1]]


def test_exclude_drops_on_any_match_and_ignores_missing_fields() -> None:
    assert kept({"Exclude": {"level": "notice", "message": "^health"}}) == [LOGS[0], LOGS[3]]


def test_dropped_logs_are_counted_but_are_no_errors(context: Context) -> None:
    processor = FilterRegexProcessor.create({"Include": {"level": "error"}})
    processor.init(context)
    processor.process_logs([Log(1, dict(c)) for c in LOGS])
    assert (processor.parsed, processor.dropped, context.metrics.errors) == (2, 2, 0)


def test_an_exception_in_one_log_loses_no_other() -> None:
    processor = FilterRegexProcessor.create({"Include": {"level": "error"}})
    broken = Log(1, {"level": 3})  # type: ignore[dict-item]
    out = processor.process_logs([broken, Log(2, {"level": "error"}), Log(3, {"level": "info"})])
    assert [log.time for log in out] == [1, 2]
    assert (processor.parsed, processor.dropped, processor.errors) == (1, 1, 1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "processor_filter_regex: Include: and Exclude are both empty"),
        (
            {"Include": {"level": "(error"}},
            "processor_filter_regex: Include: the regular expression for 'level' is not valid",
        ),
        (
            {"Exclude": {"level": "[a-"}},
            "processor_filter_regex: Exclude: the regular expression for 'level' is not valid",
        ),
        ({"Include": ["level"]}, "processor_filter_regex: Include: must be a mapping"),
        (
            {"Include": {"level": 1}},
            "processor_filter_regex: Include: every item must be a regular expression",
        ),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        FilterRegexProcessor.create(config)
    assert message in str(e.value)


def test_alias(registry: Registry) -> None:
    processor = registry.create("processor_filter_regex_native", {"Exclude": {"k": "v"}})
    assert isinstance(processor, FilterRegexProcessor)
