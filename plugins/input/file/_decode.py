"""FileEncoding: lines of utf8, gbk and utf16 files as UTF-8 bytes, with exact raw offsets.

`Splitter` is the line splitter of the files the plain UTF-8 reader does not handle
(another encoding, or Multiline, which needs where each line ends). It works on the
raw bytes: it finds the last newline of a chunk in the file's own encoding, decodes
everything before it in one call (never a code unit or a surrogate pair cut in two:
the cut is right after a newline) and splits the UTF-8 result, so the offsets it
reports are those of the file, whatever the encoding does to lengths.

- utf8: invalid bytes become U+FFFD, as in the plain reader.
- gbk: `\\n` (0x0A) is never a trail byte of a GBK character, so a chunk is cut at its
  last 0x0A and decoded with `errors="replace"`.
- utf16: the byte order comes from the BOM at offset 0 (`FF FE` little endian, `FE FF`
  big endian, none: little endian); `utf16le` / `utf16be` fix it. Newlines are the
  code unit 0x000A at an even offset from the start of the text.

A line longer than `limit` UTF-8 bytes is cut into pieces of at most `limit` bytes at
a character boundary; an unfinished line never holds more than about `limit` bytes
(twice that for utf16, whose raw text is longer): past that its start is decoded and
sent as a piece.
"""

from __future__ import annotations

import codecs
from itertools import accumulate
from operator import add

from ._reader import _cut

__all__ = ["ENCODINGS", "Splitter", "codec_for"]

ENCODINGS = ("utf8", "gbk", "utf16", "utf16le", "utf16be")

_BOM_LE = codecs.BOM_UTF16_LE
_BOM_BE = codecs.BOM_UTF16_BE


def codec_for(encoding: str, head: bytes) -> tuple[str, int]:
    """The Python codec for a file whose first bytes are `head`, and the length of its BOM."""
    if encoding == "utf8":
        return "utf-8", 0
    if encoding == "gbk":
        return "gbk", 0
    if encoding not in ("utf16", "utf16le", "utf16be"):
        raise ValueError(f"unknown encoding {encoding!r}")
    if head.startswith(_BOM_LE) and encoding != "utf16be":
        return "utf-16-le", 2
    if head.startswith(_BOM_BE) and encoding != "utf16le":
        return "utf-16-be", 2
    return ("utf-16-be" if encoding == "utf16be" else "utf-16-le"), 0


class Splitter:
    """Raw bytes in, complete lines out (UTF-8, no line endings), with their raw offsets.

    `pos` is the raw offset where the unfinished line (the carry) begins: everything
    before it has been handed out as lines.
    """

    def __init__(self, encoding: str, head: bytes, limit: int, want_ends: bool) -> None:
        self.encoding = encoding
        self.limit = limit
        self.want_ends = want_ends
        self.cuts = 0  # over-long lines cut, not yet taken into the file's metrics
        self.pos = 0
        self.carry = b""
        self.discard = False  # skipping to the first line start (the tail start)
        self.skip_lf = False  # a line was flushed without its newline; a newline next ends it
        # The carry continues a line already cut (its first pieces were handed out).
        self._mid_line = False
        # With want_ends: the indices of the last lines handed out that continue the line
        # before them (the pieces after the first of a cut line), not lines of their own.
        self.continued: list[int] = []
        self._set_codec(head)
        self._head_short = len(head) < 2
        self._sniff = False  # look for a BOM in the first bytes read (see start_at)

    def _set_codec(self, head: bytes) -> None:
        self.codec, self.content_start = codec_for(self.encoding, head)
        wide = self.codec.startswith("utf-16")
        self.unit = 2 if wide else 1
        self.nl = "\n".encode(self.codec)
        self.cr = "\r".encode(self.codec)
        self._cap = self.limit * self.unit  # raw bytes an unfinished line may hold
        self._ascii = self.codec in ("utf-8", "gbk")  # ASCII bytes decode to themselves

    # -- where reading starts -------------------------------------------------------------

    def start_at(self, offset: int, align: bool) -> int:
        """The raw offset to read from to start at `offset` (at a line start when `align`)."""
        content, unit = self.content_start, self.unit
        aligned = content + max(0, offset - content) // unit * unit
        if offset <= content:
            self.pos = content
        elif align:
            # One unit early: when `offset` is a line start, the newline before it is skipped.
            self.pos = aligned - unit
            self.discard = self.pos >= content
            if not self.discard:
                self.pos = content
        else:
            self.pos = aligned
        # A utf16 file too short to show its BOM yet: look when the first bytes come.
        self._sniff = unit == 2 and self.pos == 0 and self._head_short
        return self.pos

    # -- splitting -----------------------------------------------------------------------

    def _rfind_nl(self, buf: bytes) -> int:
        i = buf.rfind(self.nl)
        if self.unit == 2:
            while i > 0 and i % 2:
                i = buf.rfind(self.nl, 0, i + 1)
        return i

    def _find_nl(self, buf: bytes, start: int) -> int:
        i = buf.find(self.nl, start)
        if self.unit == 2:
            while i >= 0 and i % 2:
                i = buf.find(self.nl, i + 1)
        return i

    def _utf8(self, raw: bytes) -> bytes:
        """`raw` as valid UTF-8 (U+FFFD for what cannot be decoded)."""
        if self._ascii and raw.isascii():
            return raw
        if self.codec == "utf-8":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.decode("utf-8", "replace").encode("utf-8")
            return raw
        return raw.decode(self.codec, "replace").encode("utf-8")

    def _ends(
        self, complete: bytes, base: int, count: int, text: bytes, lines: list[bytes]
    ) -> list[int]:
        """The raw offset after each of the `count` lines of `complete` (which starts at `base`)."""
        if self.unit == 1:
            # A one-byte newline: the raw lines' lengths, summed in C (no per-line Python).
            raw = lines if text is complete else complete.split(b"\n")[:-1]
            if len(raw) == count:
                return list(map(add, accumulate(map(len, raw)), range(base + 1, base + 1 + count)))
        ends: list[int] = []
        unit, find = self.unit, self._find_nl
        i = find(complete, 0)
        while i >= 0:
            ends.append(base + i + unit)
            i = find(complete, i + unit)
        if len(ends) != count:  # cannot happen; never claim more than is certain
            ends = [base] * (count - 1) + [base + len(complete)]
        return ends

    def feed(self, data: bytes) -> tuple[list[bytes], list[int], int]:
        """The complete lines of the file so far, the raw end of each (when wanted), their start."""
        buf = self.carry + data if self.carry else data
        base = self.pos
        unit = self.unit
        if self._sniff:
            if len(buf) < 2:
                self.carry = buf
                return [], [], base
            self._sniff = False
            self._set_codec(buf[:2])
            buf = buf[self.content_start :]
            base += self.content_start
        if self.discard:
            i = self._find_nl(buf, 0)
            if i < 0:
                keep = len(buf) % unit
                self.carry = buf[len(buf) - keep :]
                self.pos = base + len(buf) - keep
                return [], [], self.pos
            self.discard = False
            buf = buf[i + unit :]
            base += i + unit
        elif self.skip_lf:
            crlf = self.cr + self.nl
            if len(buf) < unit or (len(buf) < len(crlf) and crlf.startswith(buf)):
                self.carry = buf  # (part of) a CR: whether its LF follows is not known yet
                self.pos = base
                return [], [], base
            self.skip_lf = False
            # The newline (or CRLF) that ends the flushed line makes no empty line.
            skip = unit if buf.startswith(self.nl) else 2 * unit if buf.startswith(crlf) else 0
            buf = buf[skip:]
            base += skip
        start = base
        lines: list[bytes] = []
        ends: list[int] = []
        cont: list[int] = []
        want = self.want_ends
        k = self._rfind_nl(buf)
        if k >= 0:
            complete = buf[: k + unit]
            text = self._utf8(complete)
            if b"\r" in text:
                text = text.replace(b"\r\n", b"\n")
            lines = text.split(b"\n")
            lines.pop()
            if want:
                ends = self._ends(complete, base, len(lines), text, lines)
                if self._mid_line:
                    cont.append(0)  # the end of the line whose start was cut off
            self._mid_line = False
            if max(map(len, lines)) > self.limit:
                lines, ends, cont = self._cut_lines(lines, ends, base, cont)
            buf = buf[k + unit :]
            base += k + unit
        self.carry = buf
        self.pos = base
        while len(self.carry) > self._cap:
            piece, used = self._piece(self.carry)
            self.carry = self.carry[used:]
            self.pos += used
            self.cuts += 1
            if want:
                ends.append(self.pos)
                if self._mid_line:
                    cont.append(len(lines))
            lines.append(piece)
            self._mid_line = True
        self.continued = cont
        return lines, ends, start

    def _cut_lines(
        self, lines: list[bytes], ends: list[int], base: int, cont: list[int]
    ) -> tuple[list[bytes], list[int], list[int]]:
        """Over-long lines in pieces; a piece before the last ends, as far as is certain, at
        the start of its line (the raw offset inside the line is not known)."""
        out: list[bytes] = []
        out_ends: list[int] = []
        out_cont: list[int] = []
        was_cont = set(cont)
        start = base
        limit = self.limit
        for i, line in enumerate(lines):
            if i in was_cont:
                out_cont.append(len(out))
            if len(line) > limit:
                pieces, last = _cut(line, limit)
                self.cuts += len(pieces)
                first = len(out)
                out.extend(pieces)
                out.append(last)
                if ends:
                    out_ends.extend([start] * len(pieces))
                    out_cont.extend(range(first + 1, len(out)))
            else:
                out.append(line)
            if ends:
                out_ends.append(ends[i])
                start = ends[i]
        return out, out_ends, out_cont

    def _piece(self, raw: bytes) -> tuple[bytes, int]:
        """The first piece of an over-long unfinished line: its UTF-8 (at most `limit`
        bytes, whole characters) and how many raw bytes it took."""
        unit, limit = self.unit, self.limit
        n = min(len(raw), self._cap)
        while True:
            decoder = codecs.getincrementaldecoder(self.codec)("replace")
            text = decoder.decode(raw[:n], False)
            used = n - len(decoder.getstate()[0])
            out = text.encode("utf-8")
            if len(out) <= limit or n <= 4 * unit:
                if used <= 0:  # nothing decodable in a few bytes: take them as they are
                    used = n
                    out = raw[:n].decode(self.codec, "replace").encode("utf-8")
                return out, used
            n = max(unit, (n * limit // len(out) - 4) // unit * unit)

    def take_cuts(self) -> int:
        cuts, self.cuts = self.cuts, 0
        return cuts

    # -- the end of what there is --------------------------------------------------------

    @property
    def has_partial(self) -> bool:
        if self.discard or self._sniff or len(self.carry) < self.unit:
            return False
        # A CR (or part of a CRLF) that may yet end the flushed line is not a line.
        return not (self.skip_lf and (self.cr + self.nl).startswith(self.carry))

    def flush(self) -> tuple[list[bytes], list[int], int] | None:
        """The unfinished line as a line (the file stopped growing), or None."""
        if not self.has_partial:
            return None
        whole = len(self.carry) - len(self.carry) % self.unit  # never half a code unit
        raw, self.carry = self.carry[:whole], self.carry[whole:]
        start = self.pos
        self.pos += whole
        self.skip_lf = True
        line = raw.decode(self.codec, "replace").encode("utf-8")
        if line.endswith(b"\r"):
            line = line[:-1]  # the CR of a CRLF whose LF has not been written yet
        lines, ends = [line], [self.pos]
        cont = [0] if self._mid_line and self.want_ends else []
        self._mid_line = False
        if len(line) > self.limit:
            lines, ends, cont = self._cut_lines(lines, ends, start, cont)
        self.continued = cont
        return lines, ends, start

    def rewind(self) -> None:
        """Start over at offset 0 (the file was truncated): a new BOM may come."""
        self.carry = b""
        self.discard = self.skip_lf = self._mid_line = False
        self.pos = 0
        self.content_start = 0
        self._sniff = self.unit == 2
