"""processor_drop: removing fields, dropping emptied logs, and config errors."""

from __future__ import annotations

import pytest

from agent.params import ConfigError
from agent.protocol import Log
from plugins.processor.drop import DropProcessor


def test_named_fields_are_removed() -> None:
    processor = DropProcessor.create({"DropKeys": ["password", "token"]})
    logs = [Log(1, {"level": "notice", "password": "hunter2"}), Log(2, {"level": "error"})]
    out = processor.process_logs(logs)
    assert [log.contents for log in out] == [{"level": "notice"}, {"level": "error"}]
    assert (processor.parsed, processor.dropped) == (2, 0)


def test_a_log_left_without_fields_is_dropped_and_counted() -> None:
    processor = DropProcessor.create({"DropKeys": ["content"]})
    out = processor.process_logs([Log(1, {"content": "x"}), Log(2, {"content": "y", "k": "v"})])
    assert [(log.time, log.contents) for log in out] == [(2, {"k": "v"})]
    assert (processor.parsed, processor.dropped) == (1, 1)


def test_an_exception_in_one_log_loses_no_other() -> None:
    processor = DropProcessor.create({"DropKeys": ["a"]})
    broken = Log(1, None)  # type: ignore[arg-type]
    out = processor.process_logs([broken, Log(2, {"a": "1", "b": "2"})])
    assert out == [broken, Log(2, {"b": "2"})]
    assert processor.errors == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "processor_drop: DropKeys: is required"),
        ({"DropKeys": []}, "processor_drop: DropKeys: must not be empty"),
        ({"DropKeys": "password"}, "processor_drop: DropKeys: must be a list"),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        DropProcessor.create(config)
    assert message in str(e.value)
