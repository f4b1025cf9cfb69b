"""processor_rename: renaming, swaps, missing keys and the SourceKeys/DestKeys check."""

from __future__ import annotations

import pytest

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from plugins.processor.rename import RenameProcessor


def rename(contents: dict[str, str], sources: list[str], dests: list[str]) -> dict[str, str]:
    processor = RenameProcessor.create({"SourceKeys": sources, "DestKeys": dests})
    [log] = processor.process_logs([Log(1, contents)])
    return log.contents


def test_ilogtail_readme_example() -> None:
    contents = {"aaa1": "value1", "aaa2": "value2", "aaa3": "value3"}
    assert rename(contents, ["aaa1", "aaa2"], ["bbb1", "bbb2"]) == {
        "aaa3": "value3",
        "bbb1": "value1",
        "bbb2": "value2",
    }


def test_swaps_and_chains_rename_at_once() -> None:
    assert rename({"a": "1", "b": "2"}, ["a", "b"], ["b", "a"]) == {"b": "1", "a": "2"}
    assert rename({"a": "1", "b": "2"}, ["a", "b"], ["b", "c"]) == {"b": "1", "c": "2"}


def test_a_renamed_field_replaces_one_with_the_new_name() -> None:
    assert rename({"a": "1", "b": "2"}, ["a"], ["b"]) == {"b": "1"}


def test_missing_keys_are_counted_and_only_reported_with_no_key_error(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    quiet = RenameProcessor.create({"SourceKeys": ["a", "x"], "DestKeys": ["b", "y"]})
    quiet.init(context)
    [log] = quiet.process_logs([Log(1, {"a": "1"})])
    assert log.contents == {"b": "1"}
    assert (quiet.missing, context.metrics.errors, reports) == (1, 0, [])

    noisy = RenameProcessor.create(
        {"SourceKeys": ["a", "x"], "DestKeys": ["b", "y"], "NoKeyError": True}
    )
    noisy.init(context)
    noisy.process_logs([Log(1, {"a": "1"})])
    assert context.metrics.errors == 1
    assert "no field 'x'" in str(reports[0][1]["message"])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"DestKeys": ["b"]}, "processor_rename: SourceKeys: is required"),
        ({"SourceKeys": ["a"]}, "processor_rename: DestKeys: is required"),
        (
            {"SourceKeys": ["a", "b"], "DestKeys": ["c"]},
            "processor_rename: DestKeys: names 1 keys but SourceKeys names 2",
        ),
        (
            {"SourceKeys": ["a", "a"], "DestKeys": ["b", "c"]},
            "processor_rename: SourceKeys: names 'a' twice",
        ),
        ({"SourceKeys": [], "DestKeys": []}, "processor_rename: SourceKeys: must not be empty"),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        RenameProcessor.create(config)
    assert message in str(e.value)
