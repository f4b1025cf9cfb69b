"""processor_regex: extract fields from one field with a regular expression (iLogtail's)."""

from __future__ import annotations

import re

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import DROPPED, OK, LogProcessor, cut, not_empty

__all__ = ["RegexProcessor"]


@register
class RegexProcessor(LogProcessor):
    type_name = "processor_regex"
    aliases = ("processor_parse_regex", "processor_parse_regex_native", "processor_regex_native")
    summary = "Extracts fields from a field with a regular expression; each group becomes a key."
    params = (
        Param("SourceKey", "str", "content", "The field to parse.", check=not_empty),
        Param(
            "Regex",
            "regex",
            description="Python regular expression; each group (...) captures one value. "
            "`.` also matches line breaks, as in iLogtail.",
        ),
        Param(
            "Keys",
            "list",
            [],
            "Names for the groups, in order. Empty: use the names of the named groups "
            "(?P<name>...).",
            items="str",
        ),
        Param(
            "FullMatch",
            "bool",
            True,
            "The whole value must match; false: the first match anywhere is used.",
        ),
        Param("KeepSource", "bool", False, "Keep the source field after a successful parse."),
        Param(
            "KeepSourceIfParseError",
            "bool",
            True,
            "Keep a line that does not match unchanged; false: remove its source field "
            "(a log left without fields is dropped).",
        ),
        Param(
            "NoMatchError",
            "bool",
            True,
            "Count a line that does not match as a pipeline error and warn about it.",
        ),
        Param("NoKeyError", "bool", False, "Warn when a log has no SourceKey field."),
    )

    SourceKey: str
    Regex: str
    Keys: list[str]
    FullMatch: bool
    KeepSource: bool
    KeepSourceIfParseError: bool
    NoMatchError: bool
    NoKeyError: bool

    def check_config(self) -> None:
        pattern = re.compile(self.Regex, re.DOTALL)
        if pattern.groups == 0:
            raise ConfigError("has no group (...) to extract a value with", key="Regex")
        if self.Keys:
            if len(self.Keys) > pattern.groups:
                raise ConfigError(
                    f"names {len(self.Keys)} keys but Regex has only {pattern.groups} group(s)",
                    key="Keys",
                )
            keys: list[str | None] = list(self.Keys)
        else:
            if not pattern.groupindex:
                raise ConfigError(
                    "is empty and Regex has no named group (?P<name>...); name the values "
                    "in Keys or in the Regex",
                    key="Keys",
                )
            names = {index: name for name, index in pattern.groupindex.items()}
            keys = [names.get(i) for i in range(1, pattern.groups + 1)]
        self._match = pattern.fullmatch if self.FullMatch else pattern.search
        self._keys = keys
        # With Keys, zip() goes straight into the contents when every group took part.
        self._names: list[str] | None = self.Keys or None
        self.unmatched_is_error = self.NoMatchError
        self.missing_is_error = self.NoKeyError

    def process_log(self, log: Log) -> int:
        contents = log.contents
        source = self.SourceKey
        value = contents.get(source)
        if value is None:
            return self.absent(source)
        m = self._match(value)
        if m is None:
            return self.unparsed(
                contents,
                source,
                self.KeepSourceIfParseError,
                f"{source} does not match Regex: {cut(value)}",
            )
        values = m.groups()
        if not self.KeepSource:
            del contents[source]
        names = self._names
        if names is not None and None not in values:
            contents.update(zip(names, values, strict=False))
        else:
            contents.update(
                {
                    k: v
                    for k, v in zip(self._keys, values, strict=False)
                    if k is not None and v is not None
                }
            )
        return OK if contents else DROPPED
