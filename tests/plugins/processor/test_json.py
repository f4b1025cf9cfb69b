"""processor_json: flattening, value rendering, unparsable values and config errors."""

from __future__ import annotations

import json

import pytest

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from agent.registry import Registry
from plugins.processor.json import JsonProcessor

NESTED = {
    "k1": {"k2": {"k3": {"k4": {"k51": "51", "k52": "52"}, "k41": "41"}}},
    "k6": [{"x": "a"}, {"x": "b"}],
    "k7": [],
}


def parse(config: dict[str, object], value: object, context: Context | None = None) -> Log:
    processor = JsonProcessor.create({"KeepSource": False} | config)
    if context is not None:
        processor.init(context)
    text = value if isinstance(value, str) else json.dumps(value)
    [log] = processor.process_logs([Log(1, {"content": text})])
    return log


def test_nested_objects_are_flattened_with_the_connector() -> None:
    log = parse({}, {"a": {"b": {"c": "x"}, "d": "y"}, "e": "z"})
    assert log.contents == {"a_b_c": "x", "a_d": "y", "e": "z"}


def test_top_level_keys_get_no_leading_connector() -> None:
    assert parse({}, {"key1": 123456, "key2": "abcd"}).contents == {
        "key1": "123456",
        "key2": "abcd",
    }


def test_non_string_values_are_json_text() -> None:
    log = parse({}, {"n": 1, "f": 1.5, "t": True, "no": None, "list": [1, "two", {"x": 3}]})
    assert log.contents == {
        "n": "1",
        "f": "1.5",
        "t": "true",
        "no": "null",
        "list": '[1,"two",{"x":3}]',
    }


def test_unicode_and_escapes_survive() -> None:
    log = parse({}, '{"msg": "caf\\u00e9 \\"quoted\\"\\n", "日本": "語"}')
    assert log.contents == {"msg": 'café "quoted"\n', "日本": "語"}


def test_expand_depth_one_keeps_nested_objects_as_json_text() -> None:
    log = parse({"ExpandDepth": 1}, {"a": {"b": {"c": 1}}, "d": 2})
    assert log.contents == {"a": '{"b":{"c":1}}', "d": "2"}


def test_expand_depth_two() -> None:
    log = parse({"ExpandDepth": 2}, {"a": {"b": {"c": 1}, "e": 3}})
    assert log.contents == {"a_b": '{"c":1}', "a_e": "3"}


def test_ilogtail_source_key_prefix_vector() -> None:
    # iLogtail's processor_json_test.go TestSourceKey, with SourceKey "content".
    config = {"ExpandConnector": "-", "Prefix": "j", "UseSourceKeyAsPrefix": True}
    log = parse(config, NESTED)
    assert log.contents == {
        "jcontent-k1-k2-k3-k4-k51": "51",
        "jcontent-k1-k2-k3-k4-k52": "52",
        "jcontent-k1-k2-k3-k41": "41",
        "jcontent-k6": '[{"x":"a"},{"x":"b"}]',
        "jcontent-k7": "[]",
    }
    joined = parse(config | {"IgnoreFirstConnector": True}, {"k1": {"k2": "v"}})
    assert joined.contents == {"jcontentk1-k2": "v"}


def test_ilogtail_ignore_first_connector_vector() -> None:
    config = {"ExpandConnector": "-", "Prefix": "j", "IgnoreFirstConnector": True}
    log = parse(config, NESTED)
    assert log.contents["jk1-k2-k3-k4-k51"] == "51"
    assert log.contents["jk1-k2-k3-k41"] == "41"


def test_expand_array() -> None:
    log = parse({"ExpandArray": True}, {"k6": [{"x": "a"}, {"x": "b"}], "n": [1, [2, 3]]})
    assert log.contents == {"k6[0]_x": "a", "k6[1]_x": "b", "n[0]": "1", "n[1]": "[2,3]"}


def test_keep_source_is_the_default() -> None:
    processor = JsonProcessor.create({})
    [log] = processor.process_logs([Log(1, {"content": '{"a": "b"}'})])
    assert log.contents == {"content": '{"a": "b"}', "a": "b"}


def test_an_extracted_key_named_like_the_source_wins() -> None:
    assert parse({}, {"content": "inner", "x": "1"}).contents == {"content": "inner", "x": "1"}


@pytest.mark.parametrize("value", ["not json", '{"a": ', "[1, 2]", '"text"', "42", ""])
def test_a_value_that_is_not_a_json_object_is_kept_and_counted(
    context: Context, reports: list[tuple[str, dict[str, object]]], value: str
) -> None:
    processor = JsonProcessor.create({"KeepSource": False})
    processor.init(context)
    [log] = processor.process_logs([Log(1, {"content": value})])
    assert log.contents == {"content": value}
    assert (processor.parsed, processor.unmatched) == (0, 1)
    assert context.metrics.errors == 1
    assert reports[0][1]["plugin"] == "processor_json"


def test_without_keep_source_if_parse_error_a_bare_line_is_dropped(context: Context) -> None:
    processor = JsonProcessor.create({"KeepSourceIfParseError": False})
    logs = [
        Log(1, {"content": "x"}),
        Log(2, {"content": "x", "host": "h"}),
        Log(3, {"content": "{}"}),
    ]
    out = processor.process_logs(logs)
    assert [(log.time, log.contents) for log in out] == [(2, {"host": "h"}), (3, {"content": "{}"})]
    assert (processor.parsed, processor.unmatched, processor.dropped) == (1, 2, 1)


def test_a_missing_source_key_is_an_error_by_default(context: Context) -> None:
    processor = JsonProcessor.create({})
    processor.init(context)
    out = processor.process_logs([Log(1, {"other": "{}"})])
    assert out[0].contents == {"other": "{}"}
    assert (processor.missing, context.metrics.errors) == (1, 1)


def test_an_exception_in_one_log_loses_no_other(context: Context) -> None:
    processor = JsonProcessor.create({"KeepSource": False})
    processor.init(context)
    broken = Log(1, None)  # type: ignore[arg-type]
    out = processor.process_logs([broken, Log(2, {"content": '{"a": 1}'})])
    assert out == [broken, Log(2, {"a": "1"})]
    assert processor.errors == 1


def test_readme_example() -> None:
    line = '{"level": "info", "user": {"id": 7, "name": "ana"}, "tags": ["a", "b"]}'
    assert parse({}, line).contents == {
        "level": "info",
        "user_id": "7",
        "user_name": "ana",
        "tags": '["a","b"]',
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"ExpandDepth": -1}, "processor_json: ExpandDepth: must be at least 0, got -1"),
        ({"ExpandDepth": "2"}, "processor_json: ExpandDepth: must be a whole number"),
        ({"SourceKey": ""}, "processor_json: SourceKey: must not be empty"),
        ({"KeepSource": "yes"}, "processor_json: KeepSource: must be true or false"),
        ({"Connector": "."}, "processor_json: Connector: unknown key"),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        JsonProcessor.create(config)
    assert message in str(e.value)


@pytest.mark.parametrize("alias", ["processor_parse_json_native", "processor_json_native"])
def test_aliases(registry: Registry, alias: str) -> None:
    assert isinstance(registry.create(alias, {}), JsonProcessor)


def test_without_keep_source_the_fields_follow_the_other_fields() -> None:
    processor = JsonProcessor.create({"KeepSource": False})
    logs = [
        Log(1, {"content": '{"b": 1, "a": {"c": "x"}}'}),
        Log(2, {"host": "h", "content": '{"b": 2}', "z": "last"}),
    ]
    out = processor.process_logs(logs)
    assert [list(log.contents.items()) for log in out] == [
        [("b", "1"), ("a_c", "x")],
        [("host", "h"), ("z", "last"), ("b", "2")],
    ]


def test_integers_are_their_digits_and_other_numbers_orjsons_text() -> None:
    log = parse({}, '{"big": 18446744073709551615, "neg": -9223372036854775808, "f": 1e16}')
    assert log.contents == {
        "big": "18446744073709551615",
        "neg": "-9223372036854775808",
        "f": "1e+16",
    }
