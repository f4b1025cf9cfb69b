"""processor_filter_regex: keep or drop logs by regular expressions on their fields (iLogtail's)."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import DROPPED, OK, LogProcessor

__all__ = ["FilterRegexProcessor"]

_Search = Callable[[str], re.Match[str] | None]


def _compile(key: str, patterns: dict[str, str]) -> tuple[tuple[str, _Search], ...]:
    compiled = []
    for field, pattern in patterns.items():
        try:
            compiled.append((field, re.compile(pattern).search))
        except re.error as e:
            raise ConfigError(
                f"the regular expression for {field!r} is not valid ({e})", key=key
            ) from None
    return tuple(compiled)


@register
class FilterRegexProcessor(LogProcessor):
    type_name = "processor_filter_regex"
    aliases = ("processor_filter_regex_native",)
    summary = "Keeps logs whose fields match every Include regex and none of the Exclude ones."
    params = (
        Param(
            "Include",
            "dict",
            {},
            "Field -> regex: a log is kept only when it has every one of these fields and "
            "each matches (anywhere in the value).",
            items="regex",
        ),
        Param(
            "Exclude",
            "dict",
            {},
            "Field -> regex: a log is dropped when any of these fields matches.",
            items="regex",
        ),
    )

    Include: dict[str, str]
    Exclude: dict[str, str]

    def check_config(self) -> None:
        if not self.Include and not self.Exclude:
            raise ConfigError(
                "and Exclude are both empty: the filter would keep every log", key="Include"
            )
        self._include = _compile("Include", self.Include)
        self._exclude = _compile("Exclude", self.Exclude)

    def process_log(self, log: Log) -> int:
        get = log.contents.get
        for field, search in self._include:
            value = get(field)
            if value is None or search(value) is None:
                return DROPPED
        for field, search in self._exclude:
            value = get(field)
            if value is not None and search(value) is not None:
                return DROPPED
        return OK
