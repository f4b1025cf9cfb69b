"""processor_strptime: formats, zones, sub-second parts, yearless times and config errors."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace

import pytest

import plugins.processor.strptime as strptime_module
from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log
from agent.registry import Registry
from plugins.processor.strptime import StrptimeProcessor

UTC = {"AdjustUTCOffset": True, "UTCOffset": 0}


def parse(value: str, fmt: str, **config: object) -> Log:
    processor = StrptimeProcessor.create({"SourceKey": "t", "Format": fmt} | config)
    [log] = processor.process_logs([Log(5, {"t": value}, 77)])
    return log


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC+8 (no daylight saving), as in iLogtail's README examples."""
    if sys.platform == "win32":
        pytest.skip("time.tzset() is POSIX only")
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_offset_zero() -> None:
    log = parse("2016/01/02 12:59:59", "%Y/%m/%d %H:%M:%S", **UTC)
    assert (log.time, log.time_ns) == (1451739599, 0)
    assert log.contents == {"t": "2016/01/02 12:59:59"}


def test_ilogtail_utc_offset_example() -> None:
    log = parse("2016/01/02 12:59:59", "%Y/%m/%d %H:%M:%S", AdjustUTCOffset=True, UTCOffset=25200)
    assert log.time == 1451714399


@pytest.mark.usefixtures("shanghai")
def test_times_without_a_zone_are_local_time() -> None:
    # iLogtail's README example 1: local zone UTC+8.
    assert parse("2016/01/02 12:59:59", "%Y/%m/%d %H:%M:%S").time == 1451710799


@pytest.mark.parametrize("config", [{}, {"AdjustUTCOffset": True, "UTCOffset": -3600}])
def test_a_zone_in_the_text_wins(config: dict[str, object]) -> None:
    for text in ("2016-01-02 12:59:59 +0700", "2016-01-02 12:59:59 +07:00"):
        assert parse(text, "%Y-%m-%d %H:%M:%S %z", **config).time == 1451714399
    assert parse("2016-01-02T05:59:59Z", "%Y-%m-%dT%H:%M:%S%z", **config).time == 1451714399


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2016-01-02 12:59:59.5", 500_000_000),
        ("2016-01-02 12:59:59.123456", 123_456_000),
        ("2016-01-02 12:59:59.1234567", 123_456_700),
        ("2016-01-02 12:59:59.123456789", 123_456_789),
    ],
)
def test_fractions_fill_time_ns(text: str, ns: int) -> None:
    log = parse(text, "%Y-%m-%d %H:%M:%S.%f", **UTC)
    assert (log.time, log.time_ns) == (1451739599, ns)


def test_a_comma_fraction_of_nine_digits() -> None:
    log = parse("2016-01-02 12:59:59,000000001", "%Y-%m-%d %H:%M:%S,%f", **UTC)
    assert (log.time, log.time_ns) == (1451739599, 1)


def test_without_a_fraction_time_ns_is_reset() -> None:
    assert parse("2016-01-02 12:59:59", "%Y-%m-%d %H:%M:%S", **UTC).time_ns == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1451739599", (1451739599, 0)),
        ("1451739599123", (1451739599, 123_000_000)),
        ("1451739599123456789", (1451739599, 123_456_789)),
        ("1451739599.25", (1451739599, 250_000_000)),
        (" 99 ", (99, 0)),
    ],
)
def test_unix_timestamps(text: str, expected: tuple[int, int]) -> None:
    log = parse(text, "%s")
    assert (log.time, log.time_ns) == expected


@pytest.mark.parametrize("text", ["", "abc", "12a", "1.2.3", "١٢٣"])
def test_bad_unix_timestamps_do_not_parse(text: str) -> None:
    assert parse(text, "%s").time == 5


def freeze_now(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    fake = SimpleNamespace(time=lambda: now.timestamp(), localtime=time.localtime)
    monkeypatch.setattr(strptime_module, "time", fake)


def test_yearless_times_take_this_year_or_last(monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_now(monkeypatch, datetime(2026, 1, 10, 12, 0, 0))
    fmt = "%b %d %H:%M:%S"
    assert parse("Jan 09 10:00:00", fmt).time == int(datetime(2026, 1, 9, 10).timestamp())
    assert parse("Jan 11 10:00:00", fmt).time == int(datetime(2026, 1, 11, 10).timestamp())
    assert parse("Dec 31 23:00:00", fmt).time == int(datetime(2025, 12, 31, 23).timestamp())


def test_february_29_without_a_year(monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_now(monkeypatch, datetime(2024, 3, 1))
    assert parse("Feb 29 00:00:00", "%b %d %H:%M:%S").time == int(datetime(2024, 2, 29).timestamp())


def test_a_time_that_does_not_parse_is_kept_counted_and_reported(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    processor = StrptimeProcessor.create(
        {"SourceKey": "t", "Format": "%Y-%m-%d", "KeepSource": False}
    )
    processor.init(context)
    logs = [Log(5, {"t": "2016-01-02 trailing"}, 7), Log(6, {"t": "2016-01-02"})]
    out = processor.process_logs(logs)
    assert [(log.time, log.time_ns, log.contents) for log in out[:1]] == [
        (5, 7, {"t": "2016-01-02 trailing"})
    ]
    assert "t" not in out[1].contents
    assert (processor.parsed, processor.unmatched) == (1, 1)
    assert context.metrics.errors == 1
    assert "2016-01-02 trailing" in str(reports[0][1]["message"])


def test_alarm_if_fail_false(
    context: Context, reports: list[tuple[str, dict[str, object]]]
) -> None:
    processor = StrptimeProcessor.create({"SourceKey": "t", "Format": "%Y", "AlarmIfFail": False})
    processor.init(context)
    processor.process_logs([Log(5, {"t": "x"})])
    assert (processor.unmatched, context.metrics.errors, reports) == (1, 0, [])


def test_repeated_times_and_missing_fields() -> None:
    processor = StrptimeProcessor.create({"SourceKey": "t", "Format": "%Y-%m-%d"} | UTC)
    logs = [Log(0, {"t": "2016-01-02"}), Log(0, {"t": "2016-01-02"}), Log(0, {"u": "x"})]
    assert [log.time for log in processor.process_logs(logs)] == [1451692800, 1451692800, 0]
    assert (processor.parsed, processor.missing) == (2, 1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Format": "%Y"}, "processor_strptime: SourceKey: is required"),
        ({"SourceKey": "t"}, "processor_strptime: Format: is required"),
        (
            {"SourceKey": "t", "Format": "%Y %Q"},
            "processor_strptime: Format: is not a format strptime can read back "
            "('Q' is a bad directive in format '%Y %Q')",
        ),
        ({"SourceKey": "t", "Format": "%s.%f"}, "Format: is not a format strptime can read"),
        ({"SourceKey": "t", "Format": "yyyy-MM-dd"}, "Format: has no % directive"),
        (
            {"SourceKey": "t", "Format": "%Y", "AdjustUTCOffset": True, "UTCOffset": 50401},
            "processor_strptime: UTCOffset: must be at most 50400, got 50401",
        ),
        (
            {"SourceKey": "t", "Format": "%Y", "UTCOffset": 28800},
            "processor_strptime: UTCOffset: is only used with AdjustUTCOffset: true",
        ),
    ],
)
def test_config_errors_name_plugin_and_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        StrptimeProcessor.create(config)
    assert message in str(e.value)


def test_alias(registry: Registry) -> None:
    processor = registry.create(
        "processor_parse_timestamp_native", {"SourceKey": "t", "Format": "%Y"}
    )
    assert isinstance(processor, StrptimeProcessor)
