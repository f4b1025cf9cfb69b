"""processor_split_char: splitting, CSV-style quoting, malformed lines and config errors."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from agent.registry import Registry
from plugins.processor.split_char import PRESERVE_KEY, SplitCharProcessor

KEYS = ["a", "b", "c"]


def split(value: str, **config: object) -> Log:
    processor = SplitCharProcessor.create({"SplitSep": ",", "SplitKeys": KEYS} | config)
    [log] = processor.process_logs([Log(1, {"content": value})])
    return log


def test_plain_split() -> None:
    assert split("1,2,3").contents == {"a": "1", "b": "2", "c": "3"}


def test_the_rest_is_preserved_unsplit_by_default() -> None:
    assert split("1,2,3,4,5").contents == {"a": "1", "b": "2", "c": "3", PRESERVE_KEY: "4,5"}
    assert split("1,2,3,4,5", PreserveOthers=False).contents == {"a": "1", "b": "2", "c": "3"}


def test_empty_fields_count_including_a_trailing_one() -> None:
    assert split(",,").contents == {"a": "", "b": "", "c": ""}
    assert split("1,2,").contents == {"a": "1", "b": "2", "c": ""}


def test_fewer_fields_than_keys() -> None:
    assert split("1,2").contents == {"a": "1", "b": "2"}
    strict = split("1,2", AllowingShortenedFields=False)
    assert strict.contents == {"content": "1,2"}


def test_quoted_fields_hold_separators_and_doubled_quotes() -> None:
    log = split('"x,y","say ""hi""",z', QuoteFlag=True)
    assert log.contents == {"a": "x,y", "b": 'say "hi"', "c": "z"}


def test_quoted_rest_is_preserved_as_written() -> None:
    log = split('1,2,3,"4,4",5', QuoteFlag=True)
    assert log.contents[PRESERVE_KEY] == '"4,4",5'


def test_a_quote_inside_an_unquoted_field_is_literal_like_ilogtail() -> None:
    assert split('ab"c,d,e', QuoteFlag=True).contents == {"a": 'ab"c', "b": "d", "c": "e"}


def test_quotes_are_ordinary_characters_without_quote_flag() -> None:
    assert split('"x,y",z').contents == {"a": '"x', "b": 'y"', "c": "z"}


def test_other_separator_and_quote_characters() -> None:
    log = split("'p\tq'\tr\ts", SplitSep="\t", QuoteFlag=True, Quote="'")
    assert log.contents == {"a": "p\tq", "b": "r", "c": "s"}


@pytest.mark.parametrize("value", ['"never closed,1,2', '"x"y,1,2', '1,"a""b,2'])
def test_malformed_quoting_is_kept_and_counted(
    context: Context, reports: list[tuple[str, dict[str, object]]], value: str
) -> None:
    processor = SplitCharProcessor.create(
        {"SplitSep": ",", "SplitKeys": KEYS, "QuoteFlag": True, "NoMatchError": True}
    )
    processor.init(context)
    [log] = processor.process_logs([Log(1, {"content": value})])
    assert log.contents == {"content": value}
    assert (processor.parsed, processor.unmatched) == (0, 1)
    assert context.metrics.errors == 1
    assert reports[0][1]["plugin"] == "processor_split_char"


def test_unmatched_lines_are_no_error_by_default(context: Context) -> None:
    processor = SplitCharProcessor.create({"SplitSep": ",", "SplitKeys": KEYS, "QuoteFlag": True})
    processor.init(context)
    processor.process_logs([Log(1, {"content": '"open'})])
    assert (processor.unmatched, context.metrics.errors) == (1, 0)


def test_without_keep_source_if_parse_error_a_bare_line_is_dropped() -> None:
    processor = SplitCharProcessor.create(
        {"SplitSep": ",", "SplitKeys": KEYS, "QuoteFlag": True, "KeepSourceIfParseError": False}
    )
    out = processor.process_logs([Log(1, {"content": '"open'}), Log(2, {"content": "1,2,3"})])
    assert [log.time for log in out] == [2]
    assert (processor.parsed, processor.unmatched, processor.dropped) == (1, 1, 1)


def test_keep_source_and_missing_source() -> None:
    assert split("1,2,3", KeepSource=True).contents["content"] == "1,2,3"
    processor = SplitCharProcessor.create({"SplitSep": ",", "SplitKeys": KEYS})
    [log] = processor.process_logs([Log(1, {"msg": "1,2,3"})])
    assert log.contents == {"msg": "1,2,3"}
    assert processor.missing == 1


def test_readme_example() -> None:
    processor = SplitCharProcessor.create(
        {"SplitSep": ",", "QuoteFlag": True, "SplitKeys": ["ip", "request", "status", "note"]}
    )
    line = '127.0.0.1,"GET /a,b HTTP/1.1",200,"say ""hi""",extra,more'
    [log] = processor.process_logs([Log(1, {"content": line})])
    assert log.contents == {
        "ip": "127.0.0.1",
        "request": "GET /a,b HTTP/1.1",
        "status": "200",
        "note": 'say "hi"',
        PRESERVE_KEY: "extra,more",
    }


def csv_line(fields: list[str], sep: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, quotechar='"', lineterminator="").writerow(fields)
    return out.getvalue()


@given(
    fields=st.lists(st.text(), min_size=1, max_size=8),
    sep=st.sampled_from([",", "|", "\t", ";", " ", "\x01"]),
)
def test_csv_written_fields_split_back(fields: list[str], sep: str) -> None:
    keys = [f"k{i}" for i in range(len(fields))]
    processor = SplitCharProcessor.create({"SplitSep": sep, "SplitKeys": keys, "QuoteFlag": True})
    [log] = processor.process_logs([Log(1, {"content": csv_line(fields, sep)})])
    assert log.contents == dict(zip(keys, fields, strict=True))
    assert processor.unmatched == 0


@given(
    fields=st.lists(st.text(), min_size=1, max_size=8),
    extra=st.lists(st.text(), min_size=1, max_size=4),
)
def test_fields_beyond_the_keys_come_back_as_written(fields: list[str], extra: list[str]) -> None:
    keys = [f"k{i}" for i in range(len(fields))]
    processor = SplitCharProcessor.create({"SplitSep": ",", "SplitKeys": keys, "QuoteFlag": True})
    rest = csv_line(extra, ",")
    [log] = processor.process_logs([Log(1, {"content": csv_line(fields, ",") + "," + rest})])
    expected = dict(zip(keys, fields, strict=True))
    if rest:
        expected[PRESERVE_KEY] = rest
    assert log.contents == expected


@given(fields=st.lists(st.text().filter(lambda t: "," not in t), min_size=1, max_size=8))
def test_unquoted_fields_split_back(fields: list[str]) -> None:
    keys = [f"k{i}" for i in range(len(fields))]
    processor = SplitCharProcessor.create({"SplitSep": ",", "SplitKeys": keys})
    [log] = processor.process_logs([Log(1, {"content": ",".join(fields)})])
    assert log.contents == dict(zip(keys, fields, strict=True))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SplitKeys": KEYS}, "processor_split_char: SplitSep: is required"),
        (
            {"SplitSep": "::", "SplitKeys": KEYS},
            "processor_split_char: SplitSep: must be exactly one character, got 2",
        ),
        ({"SplitSep": "", "SplitKeys": KEYS}, "SplitSep: must be exactly one character, got 0"),
        ({"SplitSep": ","}, "processor_split_char: SplitKeys: is required"),
        ({"SplitSep": ",", "SplitKeys": []}, "processor_split_char: SplitKeys: must not be empty"),
        ({"SplitSep": ",", "SplitKeys": [1]}, "SplitKeys: every item must be a string"),
        (
            {"SplitSep": ",", "SplitKeys": KEYS, "QuoteFlag": True, "Quote": ","},
            "processor_split_char: Quote: must differ from SplitSep",
        ),
        ({"SplitSep": ",", "SplitKeys": KEYS, "Quote": "''"}, "Quote: must be exactly one"),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        SplitCharProcessor.create(config)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "alias", ["processor_parse_delimiter_native", "processor_split_char_native"]
)
def test_aliases(registry: Registry, alias: str) -> None:
    processor = registry.create(alias, {"SplitSep": "|", "SplitKeys": ["a"]})
    assert isinstance(processor, SplitCharProcessor)
