"""processor_regex: extraction, unmatched lines, config errors, and Apache error logs."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from agent.registry import Registry
from plugins.processor._base import LogProcessor
from plugins.processor.regex import RegexProcessor, groups_always_set
from plugins.processor.strptime import StrptimeProcessor

APACHE_ERROR = r"\[([^\]]+)\] \[(\w+)\] (.*)"
# Lines 1-8 of loghub's Apache_2k.log.
APACHE_LINES = [
    "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
    "[Sun Dec 04 04:51:08 2005] [notice] jk2_init() Found child 6725 in scoreboard slot 10",
    "[Sun Dec 04 04:51:09 2005] [notice] jk2_init() Found child 6726 in scoreboard slot 8",
    "[Sun Dec 04 04:51:09 2005] [notice] jk2_init() Found child 6728 in scoreboard slot 6",
    "[Sun Dec 04 04:51:14 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    "[Sun Dec 04 04:51:14 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    "[Sun Dec 04 04:51:18 2005] [error] mod_jk child workerEnv in error state 6",
]


def lines(*texts: str) -> list[Log]:
    return [Log(100, {"content": t}) for t in texts]


def make(context: Context, **config: object) -> RegexProcessor:
    processor = RegexProcessor.create(
        {"Regex": APACHE_ERROR, "Keys": ["time", "level", "message"]} | config
    )
    processor.init(context)
    return processor


def test_groups_become_the_keys_and_the_source_goes(context: Context) -> None:
    [log] = make(context).process_logs(lines(APACHE_LINES[1]))
    assert log.contents == {
        "time": "Sun Dec 04 04:47:44 2005",
        "level": "error",
        "message": "mod_jk child workerEnv in error state 6",
    }
    assert log.time == 100


def test_named_groups_name_the_fields_when_keys_is_empty(context: Context) -> None:
    processor = RegexProcessor.create({"Regex": r"(?P<a>\w+) (\w+) (?P<c>\w+)"})
    [log] = processor.process_logs(lines("x y z"))
    assert log.contents == {"a": "x", "c": "z"}


def test_keep_source(context: Context) -> None:
    [log] = make(context, KeepSource=True).process_logs(lines(APACHE_LINES[0]))
    assert log.contents["content"] == APACHE_LINES[0]
    assert log.contents["level"] == "notice"


def test_a_line_that_does_not_match_is_kept_counted_and_reported(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    processor = make(context)
    out = processor.process_logs(lines(APACHE_LINES[0], "no brackets here", APACHE_LINES[1]))
    assert [log.contents.get("content") for log in out] == [None, "no brackets here", None]
    assert (processor.parsed, processor.unmatched, processor.dropped) == (2, 1, 0)
    assert context.metrics.errors == 1
    [(kind, data)] = reports
    assert kind == "warning"
    assert data["plugin"] == "processor_regex"
    assert "no brackets here" in str(data["message"])


def test_warnings_are_rate_limited(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    processor = make(context)
    for _ in range(3):
        processor.process_logs(lines("bad", "worse"))
    assert processor.unmatched == 6
    assert context.metrics.errors == 6
    assert len(reports) == 1


def test_no_match_error_false_counts_but_does_not_report(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    processor = make(context, NoMatchError=False)
    processor.process_logs(lines("nope"))
    assert processor.unmatched == 1
    assert context.metrics.errors == 0
    assert reports == []


def test_without_keep_source_if_parse_error_the_source_goes(context: Context) -> None:
    processor = make(context, KeepSourceIfParseError=False)
    logs = [Log(1, {"content": "nope"}), Log(2, {"content": "nope", "host": "a"})]
    out = processor.process_logs(logs)
    # The first log had nothing else to carry: it is dropped, and counted as such.
    assert [(log.time, log.contents) for log in out] == [(2, {"host": "a"})]
    assert (processor.unmatched, processor.dropped) == (2, 1)


def test_full_match_is_anchored_by_default(context: Context) -> None:
    processor = RegexProcessor.create({"Regex": r"(\d+)", "Keys": ["n"]})
    assert processor.process_logs(lines("abc 42"))[0].contents == {"content": "abc 42"}
    partial = RegexProcessor.create({"Regex": r"(\d+)", "Keys": ["n"], "FullMatch": False})
    assert partial.process_logs(lines("abc 42 7"))[0].contents == {"n": "42"}


def test_dot_matches_line_breaks_like_ilogtail(context: Context) -> None:
    [log] = make(context).process_logs(lines("[t] [error] first line\n  second line"))
    assert log.contents["message"] == "first line\n  second line"


def test_a_group_that_takes_no_part_adds_no_field() -> None:
    processor = RegexProcessor.create({"Regex": r"(\w+)(?: (\d+))?", "Keys": ["word", "num"]})
    assert processor.process_logs(lines("abc"))[0].contents == {"word": "abc"}
    assert processor.process_logs(lines("abc 1"))[0].contents == {"word": "abc", "num": "1"}


def test_extra_groups_beyond_keys_are_ignored() -> None:
    processor = RegexProcessor.create({"Regex": r"(\w) (\w) (\w)", "Keys": ["a", "b"]})
    assert processor.process_logs(lines("x y z"))[0].contents == {"a": "x", "b": "y"}


def test_a_log_without_the_source_key_passes(context: Context) -> None:
    processor = make(context)
    [log] = processor.process_logs([Log(1, {"other": "x"})])
    assert log.contents == {"other": "x"}
    assert (processor.missing, context.metrics.errors) == (1, 0)
    noisy = make(context, NoKeyError=True)
    noisy.process_logs([Log(1, {"other": "x"})])
    assert context.metrics.errors == 1


def test_an_exception_in_one_log_loses_no_other(context: Context) -> None:
    processor = make(context)
    broken = Log(1, {"content": 42})  # type: ignore[dict-item]
    out = processor.process_logs([*lines(APACHE_LINES[0]), broken, *lines(APACHE_LINES[1])])
    assert len(out) == 3
    assert out[1] is broken
    assert out[2].contents["level"] == "error"
    assert (processor.parsed, processor.errors) == (2, 1)
    assert context.metrics.errors == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "processor_regex: Regex: is required"),
        ({"Regex": "(unclosed"}, "processor_regex: Regex: is not a valid regular expression"),
        ({"Regex": r"\d+", "Keys": ["n"]}, "processor_regex: Regex: has no group"),
        (
            {"Regex": r"(\d+)", "Keys": ["a", "b"]},
            "processor_regex: Keys: names 2 keys but Regex has only 1 group(s)",
        ),
        ({"Regex": r"(\d+)"}, "processor_regex: Keys: is empty and Regex has no named group"),
        ({"Regex": r"(\d+)", "Keys": "n"}, "processor_regex: Keys: must be a list"),
        ({"Regex": r"(\d+)", "Keys": ["n"], "SourceKey": ""}, "SourceKey: must not be empty"),
        ({"Regex": r"(\d+)", "Keys": ["n"], "Keep": True}, "Keep: unknown key"),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        RegexProcessor.create(config)
    assert message in str(e.value)
    assert e.value.plugin == "processor_regex"


@pytest.mark.parametrize(
    "alias",
    ["processor_parse_regex", "processor_parse_regex_native", "processor_regex_native"],
)
def test_aliases(registry: Registry, alias: str) -> None:
    processor = registry.create(alias, {"Regex": r"(\w+)", "Keys": ["w"]})
    assert isinstance(processor, RegexProcessor)


def test_apache_error_log_into_time_level_message(context: Context) -> None:
    regex = make(context)
    strptime = StrptimeProcessor.create(
        {
            "SourceKey": "time",
            "Format": "%a %b %d %H:%M:%S %Y",
            "AdjustUTCOffset": True,
            "KeepSource": False,
        }
    )
    strptime.init(context)
    logs = lines(*APACHE_LINES[:4], "-- a line that is not Apache's --", *APACHE_LINES[4:])
    out = strptime.process_logs(regex.process_logs(logs))

    assert len(out) == 9
    assert out[4].contents == {"content": "-- a line that is not Apache's --"}
    parsed = [log for log in out if "level" in log.contents]
    assert [log.contents["level"] for log in parsed] == ["notice", "error"] + ["notice"] * 5 + [
        "error"
    ]
    assert parsed[2].contents == {
        "level": "notice",
        "message": "jk2_init() Found child 6725 in scoreboard slot 10",
    }
    # 2005-12-04 04:47:44 UTC and 04:51:18 UTC.
    assert parsed[0].time == 1133671664
    assert parsed[-1].time == 1133671664 + 214
    assert (regex.parsed, regex.unmatched, strptime.parsed, strptime.missing) == (8, 1, 8, 1)
    assert context.metrics.errors == 1


@pytest.mark.parametrize(
    ("regex", "always"),
    [
        (r"(a)(b+)(?:c)", True),
        (r"(a)(\d+|-)", True),
        (r"(a)+(?=(b))(?>(c))", True),
        (r"(a)|(b)", False),
        (r"(a)(b)?", False),
        (r"(a)(b)*", False),
        (r"(a)(?:(b)|c)", False),
        (r"(a)(?!(b))", False),
        (r"(a)(?(1)(b)|c)", False),
        (r"(?P<x>a)(?P<y>b){0,2}", False),
    ],
)
def test_groups_always_set(regex: str, always: bool) -> None:
    assert groups_always_set(regex) is always


# Regexes whose groups may or may not take part; texts built from their pieces.
FAST_PATH_REGEXES = [
    r"(\w+) (\w+)",
    r"(?P<a>\w+)-(?P<b>\d*)(x)?",
    r"(\w+)(?:-(\d+))?",
    r"(?P<content>\w+) (?P<k>\w+)",
    r"(\w)(\w)|(\d)",
]


@given(
    regex=st.sampled_from(FAST_PATH_REGEXES),
    keys=st.sampled_from([None, ["a"], ["a", "b"], ["content", "b"], ["a", "a"], ["x", "y", "z"]]),
    keep_source=st.booleans(),
    full_match=st.booleans(),
    texts=st.lists(
        st.one_of(
            st.builds("".join, st.lists(st.sampled_from(["ab", "x", "1", "12", " ", "-"]))),
            st.text(alphabet="ab1-x ", max_size=8),
        ),
        max_size=12,
    ),
    extra=st.booleans(),
)
def test_the_fast_path_gives_what_process_log_gives(
    regex: str,
    keys: list[str] | None,
    keep_source: bool,
    full_match: bool,
    texts: list[str],
    extra: bool,
) -> None:
    config: dict[str, object] = {
        "Regex": regex,
        "KeepSource": keep_source,
        "FullMatch": full_match,
        "NoMatchError": False,
    }
    if keys is not None:
        config["Keys"] = keys
    try:
        fast = RegexProcessor.create(config)
        slow = RegexProcessor.create(config)
    except ConfigError:
        return
    logs = [
        Log(i, {"content": t} | ({"other": "o"} if extra and i % 2 else {}))
        for i, t in enumerate(texts)
    ]
    expected = LogProcessor.process_logs(slow, copy.deepcopy(logs))
    got = fast.process_logs(logs)
    assert [(log.time, list(log.contents.items())) for log in got] == [
        (log.time, list(log.contents.items())) for log in expected
    ]
    assert (fast.parsed, fast.unmatched, fast.dropped, fast.errors) == (
        slow.parsed,
        slow.unmatched,
        slow.dropped,
        slow.errors,
    )
