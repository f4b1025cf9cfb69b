"""Multiline: joining the lines of one file into records, iLogtail's `Multiline` option.

The option (iLogtail/LoongCollector's keys)::

    Multiline:
      Mode: custom                       # or JSON
      StartPattern: '\\d{4}-\\d{2}-\\d{2}'   # the first line of a record
      ContinuePattern: ...               # the lines after the first
      EndPattern: ...                    # the last line of a record
      UnmatchedContentTreatment: single_line   # or discard

Patterns match at the start of a line, like iLogtail's (boost `match_continuous`,
Python's `re.match`); a trailing `.*` is dropped as it changes nothing. The combinations
and what they mean follow iLogtail's splitter (ProcessorSplitMultilineLogStringNative):

- Start: a record runs from a start line to the line before the next start line.
- Start + Continue: a start line, then the lines that match Continue.
- Start + End: from a start line to the next line that matches End.
- Continue + End: lines that match Continue, then a line that matches End (an End
  line alone is a record too).
- End: every line up to and including the next line that matches End.
- Mode JSON: a record starts at a line whose first non-blank character is `{` or `[`
  and ends at the line where the brackets (outside strings) balance again.

Lines that belong to no record are sent one log each (`single_line`) or dropped
(`discard`). A record still open when the file stops growing for FlushTimeoutSecs is
sent as it is — as a record if there is no EndPattern, else as unmatched lines. Unlike
iLogtail, an invalid option is a configuration error, not a warning: Continue alone,
or all three patterns together (iLogtail silently ignores ContinuePattern then).

The state machine sees the lines of each chunk with the raw file offset where each
ends, so the reader can report as read only what ends before the record still being
assembled (a checkpoint then resumes at its first line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MULTILINE_KEYS", "Multiline", "MultilineRule", "check_multiline", "parse_multiline"]

MULTILINE_KEYS = (
    "Mode",
    "StartPattern",
    "ContinuePattern",
    "EndPattern",
    "UnmatchedContentTreatment",
)
_MODES = ("custom", "JSON")
_TREATMENTS = ("single_line", "discard")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')

_Matcher = Any  # a compiled pattern's `match` (bytes, or str for non-ASCII patterns)


class MultilineError(ValueError):
    """An invalid Multiline option; the message starts with the sub-key (`Multiline.X`)."""


@dataclass(frozen=True, slots=True)
class MultilineRule:
    """A validated Multiline option. A pattern is None when not set; "" matches any line."""

    mode: str = "custom"
    start: str | None = None
    cont: str | None = None
    end: str | None = None
    discard: bool = False


def _any(line: bytes) -> bool:
    return True


def _strip(pattern: str) -> str:
    """iLogtail drops a trailing `.*` (it cannot change a match at the start of a line)."""
    while pattern.endswith(".*") and not pattern.endswith("\\.*"):
        pattern = pattern[:-2]
    return pattern


def _compile(pattern: str) -> _Matcher:
    """The `match` of the pattern: over bytes when it is ASCII, else over decoded text.

    An emptied pattern (iLogtail's `.*`) matches any line. A bytes pattern cannot hold a
    non-ASCII character class (`[中文]` would become a set of bytes), so such a pattern
    runs on the line decoded as UTF-8.
    """
    if not pattern:
        return _any
    if pattern.isascii():
        return re.compile(pattern.encode("ascii")).match
    text_match = re.compile(pattern).match

    def match(line: bytes) -> object:
        return text_match(line.decode("utf-8", "replace"))

    return match


def parse_multiline(value: dict[str, Any]) -> MultilineRule | None:
    """The rule of a Multiline option, None when it is empty; MultilineError otherwise."""
    if not value:
        return None
    for key in value:
        if key not in MULTILINE_KEYS:
            close = [k for k in MULTILINE_KEYS if k.lower() == str(key).lower()]
            hint = (
                f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(MULTILINE_KEYS)
            )
            raise MultilineError(f"Multiline.{key}: unknown key ({hint})")
    strings: dict[str, str] = {}
    for key in MULTILINE_KEYS:
        v = value.get(key, "")
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise MultilineError(f"Multiline.{key}: must be a string, got {type(v).__name__} {v!r}")
        strings[key] = v
    mode = strings["Mode"] or "custom"
    if mode not in _MODES:
        raise MultilineError(f"Multiline.Mode: must be one of custom, JSON, got {mode!r}")
    treatment = strings["UnmatchedContentTreatment"] or "single_line"
    if treatment not in _TREATMENTS:
        raise MultilineError(
            "Multiline.UnmatchedContentTreatment: must be one of single_line, discard, "
            f"got {treatment!r}"
        )
    patterns: dict[str, str] = {}
    for key in ("StartPattern", "ContinuePattern", "EndPattern"):
        raw = strings[key]
        if not raw:
            continue
        if mode == "JSON":
            raise MultilineError(f"Multiline.{key}: is not used with Mode JSON; remove it")
        try:
            re.compile(raw)
        except re.error as e:
            raise MultilineError(
                f"Multiline.{key}: is not a valid regular expression ({e})"
            ) from None
        patterns[key] = _strip(raw)
    start, cont, end = (patterns.get(k) for k in ("StartPattern", "ContinuePattern", "EndPattern"))
    if mode == "custom":
        if start is None and end is None:
            raise MultilineError(
                "Multiline.StartPattern: a StartPattern or an EndPattern is required "
                + (
                    "(ContinuePattern alone cannot tell where a record begins)"
                    if cont is not None
                    else "(or Mode: JSON)"
                )
            )
        if start is not None and cont is not None and end is not None:
            raise MultilineError(
                "Multiline.ContinuePattern: cannot be used with both StartPattern and "
                "EndPattern (iLogtail ignores it then); remove one of the three"
            )
    return MultilineRule(mode=mode, start=start, cont=cont, end=end, discard=treatment == "discard")


def check_multiline(value: dict[str, Any]) -> str | None:
    """Param.check for Multiline: the error text, naming the sub-key, or None."""
    try:
        parse_multiline(value)
    except MultilineError as e:
        return str(e)
    return None


def _bracket_depth(line: bytes) -> int:
    """How many more brackets `line` opens than it closes, strings left out."""
    if b'"' in line:
        line = _JSON_STRING.sub(b"", line)
    return line.count(b"{") + line.count(b"[") - line.count(b"}") - line.count(b"]")


class Multiline:
    """The per-file state machine: lines (with their raw end offsets) in, records out.

    `feed` and `flush` return the records and other lines to send; `done` is then the
    raw offset up to which everything has been sent or discarded, which is the start
    of the record still being assembled when there is one.
    """

    def __init__(self, rule: MultilineRule, max_bytes: int) -> None:
        self.rule = rule
        self._start = _compile(rule.start) if rule.start is not None else None
        self._cont = _compile(rule.cont) if rule.cont is not None else None
        self._end = _compile(rule.end) if rule.end is not None else None
        self._json = rule.mode == "JSON"
        self._end_only = self._end is not None and self._start is None and self._cont is None
        self._head = self._start if self._start is not None else self._cont
        self._start_only = (
            not self._json and self._start is not None and self._cont is None and self._end is None
        )
        self._discard = rule.discard
        self._max = max_bytes
        self.split_records = 0  # records cut because they grew past max_bytes
        self.discarded = 0  # unmatched lines dropped
        self.done = 0
        self._last_unmatched = False  # what became of the last line: for its cut-off rest
        self._reset_record()
        self._partial = self._end_only  # with only EndPattern every line belongs to a record

    @property
    def pending(self) -> bool:
        return bool(self._lines)

    def reset(self, offset: int) -> None:
        """Forget the open record (the file was truncated); everything before `offset` is done."""
        self._reset_record()
        self._partial = self._end_only
        self.done = offset

    def _reset_record(self) -> None:
        self._lines: list[bytes] = []
        self._bytes = 0
        self._depth = 0
        self._record_start = 0

    # -- output helpers ---------------------------------------------------------------

    def _begin(self, line: bytes, start: int) -> None:
        self._lines = [line]
        self._bytes = len(line)
        self._record_start = start
        self._partial = True

    def _add(self, line: bytes, start: int, out: list[bytes]) -> None:
        """Append a line to the open record; a record past max_bytes is sent in pieces."""
        if not self._lines:
            self._record_start = start
        elif self._bytes + 1 + len(line) > self._max:
            out.append(b"\n".join(self._lines))
            self.split_records += 1
            self._lines = []
            self._bytes = 0
            self._record_start = start
        if self._lines:
            self._bytes += 1
        self._lines.append(line)
        self._bytes += len(line)

    def _emit(self, out: list[bytes]) -> None:
        if self._lines:
            out.append(b"\n".join(self._lines) if len(self._lines) > 1 else self._lines[0])
        self._reset_record()

    def _unmatched(self, lines: list[bytes], out: list[bytes]) -> None:
        self._last_unmatched = True
        if self._discard:
            self.discarded += len(lines)
        else:
            out.extend(lines)

    # -- the machine --------------------------------------------------------------------

    def feed(
        self,
        lines: list[bytes],
        ends: list[int],
        first_start: int,
        continued: list[int] | None = None,
    ) -> list[bytes]:
        """The records and lines completed by `lines`; `ends[i]` is where line i ends.

        `continued` lists the lines that are not lines of their own but the rest of an
        over-long line cut before them (MaxLineBytes).
        """
        out: list[bytes] = []
        start = first_start
        if continued:
            pieces = set(continued)
            step = self._json_line if self._json else self._line
            for i, (line, end) in enumerate(zip(lines, ends, strict=True)):
                if i in pieces:
                    self._piece(line, start, out)
                else:
                    step(line, start, out)
                start = end
        elif self._start_only:
            start = self._feed_start_only(lines, ends, start, out)
        elif self._json:
            for line, end in zip(lines, ends, strict=True):
                self._json_line(line, start, out)
                start = end
        else:
            for line, end in zip(lines, ends, strict=True):
                self._line(line, start, out)
                start = end
        self.done = self._record_start if self._lines else start
        return out

    def flush(self, end: int) -> list[bytes]:
        """Close the open record (the file stopped growing); everything up to `end` is done."""
        out: list[bytes] = []
        if self._lines:
            if self._json or self._end is not None:
                lines = self._lines
                self._reset_record()
                self._unmatched(lines, out)
            else:
                self._emit(out)
        self._reset_record()
        self._partial = self._end_only
        self.done = end
        return out

    def _feed_start_only(
        self, lines: list[bytes], ends: list[int], start: int, out: list[bytes]
    ) -> int:
        """`_line` for StartPattern alone, the common case, with its state in locals."""
        match = self._start
        assert match is not None
        limit = self._max
        discard = self._discard
        record, size, record_start = self._lines, self._bytes, self._record_start
        partial, last_unmatched = self._partial, self._last_unmatched
        for line, end in zip(lines, ends, strict=True):
            if match(line):
                if record:
                    out.append(b"\n".join(record) if len(record) > 1 else record[0])
                record, size, record_start = [line], len(line), start
                partial, last_unmatched = True, False
            elif partial:
                if size + 1 + len(line) > limit:
                    out.append(b"\n".join(record))
                    self.split_records += 1
                    record, size, record_start = [line], len(line), start
                else:
                    record.append(line)
                    size += 1 + len(line)
                last_unmatched = False
            else:
                last_unmatched = True
                if discard:
                    self.discarded += 1
                else:
                    out.append(line)
            start = end
        self._lines, self._bytes, self._record_start = record, size, record_start
        self._partial, self._last_unmatched = partial, last_unmatched
        return start

    def _piece(self, piece: bytes, start: int, out: list[bytes]) -> None:
        """The rest of a cut line: it goes where the line's start went, never joined to it
        with a newline that the file does not have (the cut was counted where it was made)."""
        if self._lines:
            depth = self._depth
            self._emit(out)
            self._begin(piece, start)
            if self._json:
                self._depth = depth + _bracket_depth(piece)
                if self._depth <= 0:
                    self._emit(out)
                    self._partial = False
        elif self._last_unmatched:
            self._unmatched([piece], out)
        else:
            out.append(piece)

    def _line(self, line: bytes, start: int, out: list[bytes]) -> None:
        self._last_unmatched = False
        start_re, cont_re, end_re = self._start, self._cont, self._end
        if not self._partial:
            head = self._head
            if head is not None and head(line):
                self._begin(line, start)
            elif end_re is not None and start_re is None and end_re(line):
                out.append(line)  # Continue + End: an End line alone is a record
            else:
                self._unmatched([line], out)
            return
        if cont_re is not None and cont_re(line):
            self._add(line, start, out)
            return
        if end_re is not None:
            self._add(line, start, out)
            if cont_re is not None:  # Continue + End: the record ends here, matched or not
                if end_re(line):
                    self._emit(out)
                else:
                    lines = self._lines
                    self._reset_record()
                    self._unmatched(lines, out)
                self._partial = False
            elif end_re(line):
                self._emit(out)
                self._partial = self._end_only
            return
        assert start_re is not None  # without End, Start is set
        if cont_re is None:  # Start only
            if start_re(line):
                self._emit(out)
                self._begin(line, start)
            else:
                self._add(line, start, out)
            return
        # Start + Continue: a line that does not continue ends the record.
        self._emit(out)
        if start_re(line):
            self._begin(line, start)
        else:
            self._partial = False
            self._unmatched([line], out)

    def _json_line(self, line: bytes, start: int, out: list[bytes]) -> None:
        self._last_unmatched = False
        if not self._partial:
            head = line.lstrip()[:1]
            if head not in (b"{", b"["):
                self._unmatched([line], out)
                return
            depth = _bracket_depth(line)
            if depth <= 0:
                out.append(line)
                return
            self._begin(line, start)
            self._depth = depth
            return
        self._add(line, start, out)
        self._depth += _bracket_depth(line)
        if self._depth <= 0:
            self._emit(out)
            self._partial = False
