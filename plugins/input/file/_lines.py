"""How an input's files become logs: MaxLineBytes, FileEncoding and Multiline.

`LineOptions.open` is where the tailer gets its readers. Plain UTF-8 files without
Multiline keep the reader of `_reader` (one `bytes.split` per chunk, no per-line Python
work); other files get a `SplitReader`, which splits in the file's encoding (`_decode`)
and joins records (`_multiline`), with the same offsets contract: a batch's
`origin.end` is where the first line not yet handed over begins — for Multiline, the
first line of the record still being assembled, which is held back like a partial line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from agent.protocol import LogBatch

from ._decode import Splitter
from ._multiline import Multiline, MultilineRule
from ._reader import MAX_LINE_BYTES, FileReader

__all__ = ["LineOptions", "SplitReader"]


@dataclass(frozen=True, slots=True)
class LineOptions:
    max_line_bytes: int = MAX_LINE_BYTES
    encoding: str = "utf8"
    multiline: MultilineRule | None = None

    @property
    def plain(self) -> bool:
        """Whether the fast UTF-8 reader does: no other encoding, no Multiline."""
        return self.encoding == "utf8" and self.multiline is None

    def open(self, path: str, topic: str, **kwargs: Any) -> FileReader:
        """`FileReader.open` (same arguments) for a reader that applies these options."""
        if self.plain:
            reader = FileReader.open(path, topic, **kwargs)
            reader.max_line_bytes = self.max_line_bytes
            return reader
        split = SplitReader.open(path, topic, **kwargs)
        assert isinstance(split, SplitReader)
        try:
            split.setup(self)
        except BaseException:
            split.close()
            raise
        return split


def _head(fd: int) -> bytes:
    """The first two bytes of the file (its BOM, if any); the file position is kept."""
    here = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 2)
    finally:
        os.lseek(fd, here, os.SEEK_SET)


class SplitReader(FileReader):
    """A FileReader for another encoding or Multiline: per-chunk decoding and splitting
    in `Splitter`, records joined by `Multiline`, raw offsets throughout."""

    _splitter: Splitter
    _multiline: Multiline | None
    _batch_start: int | None

    def setup(self, options: LineOptions) -> None:
        """Called once after construction: FileReader has placed the file position."""
        self.max_line_bytes = options.max_line_bytes
        # FileReader starts one byte early to find the line start (see `align` there).
        align = self._discard
        wanted = self.offset + 1 if align else self.offset
        splitter = Splitter(
            options.encoding,
            _head(self.fd),
            options.max_line_bytes,
            want_ends=options.multiline is not None,
        )
        pos = splitter.start_at(wanted, align)
        if pos != self.offset:
            os.lseek(self.fd, pos, os.SEEK_SET)
            self.offset = pos
        self._discard = self._skip_lf = False  # the splitter does both from here on
        self._splitter = splitter
        rule = options.multiline
        self._multiline = Multiline(rule, options.max_line_bytes) if rule is not None else None
        self._batch_start = None

    @property
    def has_partial(self) -> bool:
        ml = self._multiline
        return self._splitter.has_partial or (ml is not None and ml.pending)

    def _lines(self, data: bytes) -> LogBatch | None:
        self.offset += len(data)
        splitter = self._splitter
        lines, ends, start = splitter.feed(data)
        self.split_lines += splitter.take_cuts()
        ml = self._multiline
        if ml is None:
            return self._batch(lines, start, splitter.pos) if lines else None
        if not lines:
            return None
        if self._batch_start is None:
            self._batch_start = start
        records = ml.feed(lines, ends, start, splitter.continued)
        return self._records(records, ml)

    def _records(self, records: list[bytes], ml: Multiline) -> LogBatch | None:
        self.split_lines += ml.split_records
        ml.split_records = 0
        if not records:
            return None  # lines discarded or held: the next batch covers them
        start = self._batch_start if self._batch_start is not None else ml.done
        self._batch_start = ml.done
        return self._batch(records, start, ml.done)

    def flush_partial(self) -> LogBatch | None:
        splitter = self._splitter
        flushed = splitter.flush()
        self.split_lines += splitter.take_cuts()
        ml = self._multiline
        if ml is None:
            if flushed is None:
                return None
            lines, _, start = flushed
            return self._batch(lines, start, splitter.pos)
        records: list[bytes] = []
        if flushed is not None:
            lines, ends, start = flushed
            if self._batch_start is None:
                self._batch_start = start
            records = ml.feed(lines, ends, start, splitter.continued)
        if ml.pending and self._batch_start is None:
            self._batch_start = ml.done
        records.extend(ml.flush(splitter.pos))
        return self._records(records, ml)

    def rewind(self) -> None:
        super().rewind()
        self._discard = self._skip_lf = False
        self._splitter.rewind()
        if self._splitter.pos:
            os.lseek(self.fd, self._splitter.pos, os.SEEK_SET)
            self.offset = self._splitter.pos
        if self._multiline is not None:
            self._multiline.reset(self._splitter.pos)
        self._batch_start = None
