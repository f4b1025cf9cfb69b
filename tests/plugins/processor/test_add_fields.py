"""processor_add_fields: adding, IgnoreIfExist and config errors."""

from __future__ import annotations

import pytest

from agent.params import ConfigError
from agent.protocol import Log
from plugins.processor.add_fields import AddFieldsProcessor


def test_fields_are_added_and_overwrite_by_default() -> None:
    processor = AddFieldsProcessor.create({"Fields": {"service": "api", "env": "prod"}})
    logs = [Log(1, {"content": "a", "service": "web"}), Log(2, {"content": "b"})]
    out = processor.process_logs(logs)
    assert [log.contents for log in out] == [
        {"content": "a", "service": "api", "env": "prod"},
        {"content": "b", "service": "api", "env": "prod"},
    ]
    assert processor.parsed == 2


def test_ignore_if_exist_leaves_existing_fields() -> None:
    processor = AddFieldsProcessor.create(
        {"Fields": {"service": "api", "env": "prod"}, "IgnoreIfExist": True}
    )
    [log] = processor.process_logs([Log(1, {"content": "started", "service": "web"})])
    assert log.contents == {"content": "started", "service": "web", "env": "prod"}


def test_logs_do_not_share_the_added_values() -> None:
    processor = AddFieldsProcessor.create({"Fields": {"k": "v"}})
    first, second = processor.process_logs([Log(1, {}), Log(2, {})])
    first.contents["k"] = "changed"
    assert second.contents == {"k": "v"}
    assert processor.Fields == {"k": "v"}


def test_an_exception_in_one_log_loses_no_other() -> None:
    processor = AddFieldsProcessor.create({"Fields": {"k": "v"}})
    broken = Log(1, None)  # type: ignore[arg-type]
    out = processor.process_logs([broken, Log(2, {})])
    assert out == [broken, Log(2, {"k": "v"})]
    assert (processor.parsed, processor.errors) == (1, 1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "processor_add_fields: Fields: is required"),
        ({"Fields": {}}, "processor_add_fields: Fields: must not be empty"),
        ({"Fields": ["a"]}, "processor_add_fields: Fields: must be a mapping"),
        (
            {"Fields": {"a": 1}},
            "processor_add_fields: Fields: every item must be a string, got int 1",
        ),
        (
            {"Fields": {"a": "b"}, "IgnoreIfExists": True},
            "IgnoreIfExists: unknown key (did you mean IgnoreIfExist?)",
        ),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        AddFieldsProcessor.create(config)
    assert message in str(e.value)
