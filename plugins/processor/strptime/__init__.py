"""processor_strptime: set a log's time from one of its fields, parsed with a strptime format."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import OK, LogProcessor, cut, not_empty

__all__ = ["StrptimeProcessor"]

EPOCH_FORMAT = "%s"
# Formats without any of these take the current year (syslog's "Dec  4 04:47:44").
_YEAR_DIRECTIVES = ("%Y", "%y", "%G", "%c", "%x")
_SAMPLE = datetime(2001, 2, 3, 4, 5, 6, 7000, tzinfo=UTC)
# Python's %f takes at most 6 digits; nanosecond timestamps carry up to 3 more.
_EXTRA_DIGITS = re.compile(r"([.,]\d{6})(\d{1,3})(?!\d)")
# Up to 10 digits of seconds; more digits (iLogtail reads the first 10) or ".digits" are
# the fraction.
_EPOCH = re.compile(r"(\d{1,10})(?:\.(\d+)|(\d{1,9}))?", re.ASCII)
_FUTURE_SLACK = 86400  # a yearless time further ahead than this is from last year


def _needs_year(fmt: str) -> bool:
    return fmt != EPOCH_FORMAT and not any(d in fmt for d in _YEAR_DIRECTIVES)


def _format_problem(fmt: str) -> str | None:
    if fmt == EPOCH_FORMAT:
        return None
    if "%" not in fmt:
        return "has no % directive"
    suffix = " %Y" if _needs_year(fmt) else ""
    try:
        datetime.strptime(_SAMPLE.strftime(fmt + suffix), fmt + suffix)
    except ValueError as e:
        reason = str(e).replace(fmt + suffix, fmt)
        return f"is not a format strptime can read back ({reason})"
    return None


def _epoch(value: str) -> tuple[int, int]:
    """Seconds and nanoseconds of "1690000000", "1690000000.123" or "1690000000123" (ms)."""
    m = _EPOCH.fullmatch(value.strip())
    if m is None:
        raise ValueError("not a Unix timestamp")
    whole, fraction = m.group(1), m.group(2) or m.group(3) or ""
    return int(whole), int(fraction[:9].ljust(9, "0")) if fraction else 0


@register
class StrptimeProcessor(LogProcessor):
    type_name = "processor_strptime"
    aliases = ("processor_parse_timestamp_native",)
    summary = "Sets each log's time from a field, parsed with a strptime format."
    params = (
        Param("SourceKey", "str", description="The field holding the time.", check=not_empty),
        Param(
            "Format",
            "str",
            description='strptime format, e.g. "%Y-%m-%d %H:%M:%S.%f" (%f takes up to 9 '
            'digits; %z reads a zone); "%s" alone reads a Unix timestamp in s, ms, us or ns.',
            check=_format_problem,
        ),
        Param(
            "AdjustUTCOffset",
            "bool",
            False,
            "Times without a zone are at UTCOffset; false: they are local time.",
        ),
        Param(
            "UTCOffset",
            "int",
            0,
            "Seconds east of UTC for times without a zone (28800 = UTC+8); needs AdjustUTCOffset.",
            min=-12 * 3600,
            max=14 * 3600,
        ),
        Param(
            "AlarmIfFail",
            "bool",
            True,
            "Count a time that does not parse as a pipeline error and warn about it.",
        ),
        Param("KeepSource", "bool", True, "Keep the source field after a successful parse."),
    )

    SourceKey: str
    Format: str
    AdjustUTCOffset: bool
    UTCOffset: int
    AlarmIfFail: bool
    KeepSource: bool

    def check_config(self) -> None:
        if self.UTCOffset and not self.AdjustUTCOffset:
            raise ConfigError("is only used with AdjustUTCOffset: true", key="UTCOffset")
        fmt = self.Format
        self._unix = fmt == EPOCH_FORMAT
        self._add_year = _needs_year(fmt)
        self._format = f"{fmt} %Y" if self._add_year else fmt
        self._nanoseconds = "%f" in fmt
        self._zone = timezone(timedelta(seconds=self.UTCOffset)) if self.AdjustUTCOffset else None
        # Neighbouring lines mostly share their time text: remember the last one parsed.
        self._last: tuple[str | None, int, int] = (None, 0, 0)
        self.unmatched_is_error = self.AlarmIfFail

    def process_log(self, log: Log) -> int:
        contents = log.contents
        source = self.SourceKey
        value = contents.get(source)
        if value is None:
            return self.absent(source)
        last = self._last
        if value == last[0]:
            seconds, nanoseconds = last[1], last[2]
        else:
            try:
                seconds, nanoseconds = self._parse(value)
            # OverflowError, OSError: a date outside what the platform's time functions take.
            except (ValueError, OverflowError, OSError) as e:
                return self.unparsed(
                    contents, source, True, f"{source} {cut(value)} does not fit {self.Format}: {e}"
                )
            self._last = (value, seconds, nanoseconds)
        log.time = seconds
        log.time_ns = nanoseconds
        if not self.KeepSource:
            del contents[source]
        return OK

    def _parse(self, value: str) -> tuple[int, int]:
        """Seconds since the epoch and nanoseconds within the second."""
        if self._unix:
            return _epoch(value)
        extra_ns = 0
        if self._nanoseconds and (m := _EXTRA_DIGITS.search(value)):
            extra_ns = int(m.group(2).ljust(3, "0"))
            value = value[: m.end(1)] + value[m.end() :]
        if self._add_year:
            now = time.time()
            year = time.localtime(now).tm_year
            seconds, micro = self._read(f"{value} {year}")
            if seconds > now + _FUTURE_SLACK:
                seconds, micro = self._read(f"{value} {year - 1}")
        else:
            seconds, micro = self._read(value)
        return seconds, micro * 1000 + extra_ns

    def _read(self, text: str) -> tuple[int, int]:
        parsed = datetime.strptime(text, self._format)
        if parsed.tzinfo is None and self._zone is not None:
            parsed = parsed.replace(tzinfo=self._zone)
        # A naive datetime's timestamp() is local time, daylight saving included.
        return int(parsed.replace(microsecond=0).timestamp()), parsed.microsecond
