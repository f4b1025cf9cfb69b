"""processor_split_char: split a field at a one-character separator, with CSV-style quotes."""

from __future__ import annotations

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import OK, LogProcessor, cut, not_empty

__all__ = ["PRESERVE_KEY", "SplitCharProcessor", "split_quoted"]

PRESERVE_KEY = "_split_preserve_"


def _one_char(value: str) -> str | None:
    return None if len(value) == 1 else f"must be exactly one character, got {len(value)}"


def split_quoted(value: str, sep: str, quote: str, limit: int) -> tuple[list[str], str] | str:
    """Split `value` into at most `limit` fields; the rest of the line comes back unsplit.

    A field that starts with `quote` runs to the next lone quote, which must end the
    line or stand before `sep`; a doubled quote inside it is one quote character (CSV).
    A quote elsewhere in a field is an ordinary character, as in iLogtail. Returns
    (fields, rest) or, for malformed quoting, the reason as a string.
    """
    fields: list[str] = []
    add = fields.append
    find = value.find
    end = len(value)
    i = 0
    while len(fields) < limit:
        if value.startswith(quote, i):
            parts: list[str] = []
            start = i + 1
            while True:
                close = find(quote, start)
                if close < 0:
                    return f"the quote opened at column {i + 1} is never closed"
                parts.append(value[start:close])
                if value.startswith(quote, close + 1):
                    parts.append(quote)
                    start = close + 2
                    continue
                break
            add("".join(parts))
            i = close + 1
            if i == end:
                return fields, ""
            if value[i] != sep:
                return f"column {i + 1}: a closing quote must be followed by the separator"
            i += 1
        else:
            stop = find(sep, i)
            if stop < 0:
                add(value[i:])
                return fields, ""
            add(value[i:stop])
            i = stop + 1
    return fields, value[i:]


@register
class SplitCharProcessor(LogProcessor):
    type_name = "processor_split_char"
    aliases = ("processor_parse_delimiter_native", "processor_split_char_native")
    summary = "Splits a field at a one-character separator (optionally with quotes) into keys."
    params = (
        Param("SourceKey", "str", "content", "The field to split.", check=not_empty),
        Param(
            "SplitSep",
            "str",
            description='The separator: exactly one character (e.g. ",", "|", "\\t", "\\u0001").',
            check=_one_char,
        ),
        Param(
            "SplitKeys",
            "list",
            description="Names for the fields, in order.",
            items="str",
            check=not_empty,
        ),
        Param(
            "QuoteFlag",
            "bool",
            False,
            "Fields may be quoted, so they can hold the separator; a doubled quote inside "
            "a quoted field is one quote character.",
        ),
        Param("Quote", "str", '"', "The quote character (with QuoteFlag).", check=_one_char),
        Param(
            "PreserveOthers",
            "bool",
            True,
            f"Keep what follows the last of SplitKeys, unsplit, as {PRESERVE_KEY}; "
            "false: discard it.",
        ),
        Param(
            "AllowingShortenedFields",
            "bool",
            True,
            "Accept a line with fewer fields than SplitKeys (the missing keys are left out); "
            "false: such a line does not parse.",
        ),
        Param("KeepSource", "bool", False, "Keep the source field after a successful split."),
        Param(
            "KeepSourceIfParseError",
            "bool",
            True,
            "Keep a line that does not parse unchanged; false: remove its source field "
            "(a log left without fields is dropped).",
        ),
        Param(
            "NoMatchError",
            "bool",
            False,
            "Count a line that does not parse as a pipeline error and warn about it.",
        ),
        Param("NoKeyError", "bool", False, "Warn when a log has no SourceKey field."),
    )

    SourceKey: str
    SplitSep: str
    SplitKeys: list[str]
    QuoteFlag: bool
    Quote: str
    PreserveOthers: bool
    AllowingShortenedFields: bool
    KeepSource: bool
    KeepSourceIfParseError: bool
    NoMatchError: bool
    NoKeyError: bool

    def check_config(self) -> None:
        if self.QuoteFlag and self.Quote == self.SplitSep:
            raise ConfigError("must differ from SplitSep", key="Quote")
        self._limit = len(self.SplitKeys)
        self.unmatched_is_error = self.NoMatchError
        self.missing_is_error = self.NoKeyError

    def process_log(self, log: Log) -> int:
        contents = log.contents
        source = self.SourceKey
        value = contents.get(source)
        if value is None:
            return self.absent(source)
        keys = self.SplitKeys
        limit = self._limit
        if self.QuoteFlag and self.Quote in value:
            split = split_quoted(value, self.SplitSep, self.Quote, limit)
            if isinstance(split, str):
                return self.unparsed(
                    contents,
                    source,
                    self.KeepSourceIfParseError,
                    f"{source}: {split}: {cut(value)}",
                )
            fields, rest = split
        else:
            fields = value.split(self.SplitSep, limit)
            rest = fields.pop() if len(fields) > limit else ""
        if len(fields) < limit and not self.AllowingShortenedFields:
            return self.unparsed(
                contents,
                source,
                self.KeepSourceIfParseError,
                f"{source} has {len(fields)} of {limit} fields: {cut(value)}",
            )
        if not self.KeepSource:
            del contents[source]
        contents.update(zip(keys, fields, strict=False))
        if rest and self.PreserveOthers:
            contents[PRESERVE_KEY] = rest
        return OK
