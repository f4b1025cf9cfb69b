"""The data model: iLogtail's sls_logs.proto (Log, LogTag, LogGroup) plus the columnar LogBatch.

A `LogGroup` holds its logs either as `Log` objects (the seed's per-log contract) or as
slices of `LogBatch`es (the hot path: a chunk's lines kept as bytes, cut by list
slicing). Reading `group.logs` materialises the slices once; flushers that serialise in
bulk walk `group.parts()` instead and never build a `Log` per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from orjson import dumps as _dumps

__all__ = [
    "CONTENT_KEY",
    "FIELD_OVERHEAD",
    "LOG_OVERHEAD",
    "PACK_ID_TAG",
    "Log",
    "LogBatch",
    "LogContext",
    "LogGroup",
    "LogTag",
    "log_size",
    "newline_count",
]

CONTENT_KEY = "content"
PACK_ID_TAG = "__pack_id__"
# iLogtail's per-log size estimate: 6 + sum(5 + len(key) + len(value)).
LOG_OVERHEAD = 6
FIELD_OVERHEAD = 5


@dataclass(slots=True)
class Log:
    """One log: seconds since the epoch, its key/value contents, optional nanoseconds.

    `origin` is where the log was read (its batch's origin, e.g. a file range): opaque to
    processors and aggregators, not compared, used to acknowledge what was delivered.
    """

    time: int
    contents: dict[str, str]
    time_ns: int = 0
    origin: object = field(default=None, compare=False, repr=False)


@dataclass(slots=True, frozen=True)
class LogTag:
    key: str
    value: str


@dataclass(slots=True)
class LogContext:
    """Where logs come from (iLogtail's ctx map): the aggregators group by `source`."""

    source: str = ""
    topic: str = ""
    tags: list[LogTag] = field(default_factory=list)


class LogBatch:
    """The lines of one chunk from one source, still UTF-8 bytes without line endings.

    Every line becomes a Log with `time`/`time_ns` and `{key: line}` as contents.
    `origin` is opaque to aggregators: inputs use it to learn when the lines were
    acknowledged (checkpoints).

    A batch is made from a list of lines (`LogBatch(lines, time, ...)`), or by a reader
    from the chunk it read, its lines still joined by newlines (`LogBatch.of_chunk`):
    then nothing is split per line until someone reads `lines`. Counting, sizing,
    slicing (`joined`, `sub`) and encoding work on the chunk, which saves the bulk
    path a Python object per line; a `sub` batch shares its parent's chunk.
    """

    __slots__ = (
        "_chunk",
        "_count",
        "_hi",
        "_lines",
        "_lo",
        "_starts",
        "key",
        "nbytes",
        "origin",
        "time",
        "time_ns",
    )

    def __init__(
        self,
        lines: list[bytes],
        time: int,
        time_ns: int = 0,
        key: str = CONTENT_KEY,
        origin: object = None,
        nbytes: int = -1,
    ) -> None:
        self._lines: list[bytes] | None = lines
        self._chunk: bytes | None = None
        self._count = self._lo = self._hi = 0
        self._starts: dict[int, int] | None = None
        self.time = time
        self.time_ns = time_ns
        self.key = key
        self.origin = origin
        # sum(map(len, lines)) when the maker knows it for free (a reader does, from its
        # chunk), else -1 until `line_bytes` computes it; `lines` must not change afterwards.
        self.nbytes = nbytes

    @classmethod
    def of_chunk(
        cls,
        chunk: bytes,
        count: int,
        time: int,
        time_ns: int = 0,
        key: str = CONTENT_KEY,
        origin: object = None,
        end: int | None = None,
    ) -> LogBatch:
        """The `count` lines joined by b"\\n" in chunk[:end] (no final newline there; no
        line holds one). A reader passes what it read, and `end` before the part line."""
        end = len(chunk) if end is None else end
        return cls._view(chunk, 0, end, count, time, time_ns, key, origin)

    @classmethod
    def _view(
        cls,
        chunk: bytes,
        lo: int,
        hi: int,
        count: int,
        time: int,
        time_ns: int,
        key: str,
        origin: object,
    ) -> LogBatch:
        # The lines are chunk[lo:hi]; a sub-batch shares its parent's chunk, not a copy.
        batch = cls.__new__(cls)
        batch._lines = None
        batch._chunk = chunk
        batch._count = count
        batch._lo = lo
        batch._hi = hi
        batch._starts = None
        batch.time = time
        batch.time_ns = time_ns
        batch.key = key
        batch.origin = origin
        batch.nbytes = hi - lo - count + 1 if count else 0
        return batch

    @property
    def chunk(self) -> bytes | None:
        """The lines joined by b"\\n" as a reader read them, or None (a list batch)."""
        chunk = self._chunk
        if chunk is None or (self._lo == 0 and self._hi == len(chunk)):
            return chunk
        return chunk[self._lo : self._hi]

    @property
    def lines(self) -> list[bytes]:
        lines = self._lines
        if lines is None:
            lines = self._lines = self.chunk.split(b"\n") if self._count else []  # type: ignore[union-attr]
        return lines

    @lines.setter
    def lines(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._chunk = None
        self._starts = None
        self.nbytes = -1

    def _chunked(self) -> bool:
        """Whether to answer from the chunk: it is there and no list was split from it."""
        return self._chunk is not None and self._lines is None

    def __len__(self) -> int:
        lines = self._lines
        return self._count if lines is None else len(lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogBatch):
            return NotImplemented
        return (self.time, self.time_ns, self.key, self.origin) == (
            other.time,
            other.time_ns,
            other.key,
            other.origin,
        ) and self.lines == other.lines

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"LogBatch({len(self)} lines, time={self.time!r}, time_ns={self.time_ns!r}, "
            f"key={self.key!r}, origin={self.origin!r})"
        )

    def line_bytes(self) -> int:
        """The bytes of all lines together (without line ends), computed at most once."""
        if self.nbytes < 0:
            self.nbytes = sum(map(len, self.lines))
        return self.nbytes

    def _start(self, k: int) -> int:
        """Where line k (0 <= k <= len) starts in the chunk; one past `_hi` for k = len."""
        if k <= 0:
            return self._lo
        n = self._count
        if k >= n:
            return self._hi + 1
        starts = self._starts
        if starts is None:
            starts = self._starts = {}
        elif (known := starts.get(k)) is not None:
            return known
        elif len(starts) >= _MAX_STARTS:
            # Cut at many places (a keyed aggregator's runs of equal keys): split once,
            # and the next questions are answered from the list.
            self.lines  # noqa: B018
        # Search only between the nearest line starts already known: a processor's steps
        # and a group's cuts go forward, a sample's end is a few lines after its start.
        # (A snapshot: the flusher's thread may ask while the input's thread adds.)
        below, below_at, above, above_at = 0, self._lo, n, self._hi + 1
        for line, at in tuple(starts.items()):
            if below < line < k:
                below, below_at = line, at
            elif k < line < above:
                above, above_at = line, at
        at = _line_start(self._chunk, below_at, above_at - 1, above - below, k - below)  # type: ignore[arg-type]
        starts[k] = at
        return at

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        """[start:stop] as list slicing reads it: from the end when negative, clamped."""
        start, stop, _ = slice(start, stop).indices(self._count)
        return start, max(start, stop)

    def joined(self, start: int = 0, stop: int | None = None, sep: bytes = b"\n") -> bytes:
        """Lines [start:stop] joined by `sep`: a slice of the chunk, or one join."""
        if not self._chunked():
            return sep.join(self.lines[start:stop])
        n = self._count
        start, stop = self._range(start, stop)
        if stop == start:
            return b""
        if start == 0 and stop == n:
            piece = self.chunk
        else:
            piece = self._chunk[self._start(start) : self._start(stop) - 1]  # type: ignore[index]
        # Same-length one-byte replace: a vectorised C loop, cheaper than a join.
        return piece if sep == b"\n" else piece.replace(b"\n", sep)  # type: ignore[union-attr]

    def line_length(self, i: int) -> int:
        """The bytes of line i, without splitting the chunk."""
        if not self._chunked():
            return len(self.lines[i])
        if not -self._count <= i < self._count:
            raise IndexError(f"line {i} of {self._count}")
        at = self._start(i % self._count)
        end = self._chunk.find(b"\n", at, self._hi)  # type: ignore[union-attr]
        return (self._hi if end < 0 else end) - at

    def line_list(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Lines [start:stop] as a list: split from the chunk when they are a part of it."""
        if not self._chunked():
            return self.lines[start:stop]
        start, stop = self._range(start, stop)
        if stop == start:
            return []
        return self.joined(start, stop).split(b"\n")

    def sub(self, start: int, stop: int | None = None) -> LogBatch:
        """Lines [start:stop] as a batch of their own, with this batch's time, key and origin
        (sharing this batch's chunk: the part left after a refusal costs no copy)."""
        if not self._chunked():
            return LogBatch(self.lines[start:stop], self.time, self.time_ns, self.key, self.origin)
        start, stop = self._range(start, stop)
        if stop == start:
            return LogBatch([], self.time, self.time_ns, self.key, self.origin)
        lo, hi = self._start(start), self._start(stop) - 1
        return LogBatch._view(
            self._chunk,  # type: ignore[arg-type]
            lo,
            hi,
            stop - start,
            self.time,
            self.time_ns,
            self.key,
            self.origin,
        )

    def texts(self, start: int = 0, stop: int | None = None) -> list[str]:
        """The lines [start:stop] as str, decoded in one C call rather than per line."""
        if self._chunked():
            start, stop = self._range(start, stop)
            if stop == start:
                return []
            # A chunk's lines hold no newline: one decode and one split give them all.
            return self.joined(start, stop).decode("utf-8", "replace").split("\n")
        lines = self.lines[start:stop]
        if not lines:
            return []
        texts = b"\n".join(lines).decode("utf-8", "replace").split("\n")
        if len(texts) != len(lines):  # a line holds a newline itself (multiline logs)
            texts = [line.decode("utf-8", "replace") for line in lines]
        return texts

    def to_logs(self, start: int = 0, stop: int | None = None) -> list[Log]:
        key, t, ns, origin = self.key, self.time, self.time_ns, self.origin
        return [Log(t, {key: text}, ns, origin) for text in self.texts(start, stop)]

    def size(self, start: int = 0, stop: int | None = None) -> int:
        """iLogtail's size estimate of lines [start:stop], computed per slice."""
        overhead = LOG_OVERHEAD + FIELD_OVERHEAD + len(self.key)
        n = len(self)
        if start == 0 and (stop is None or stop >= n):
            return overhead * n + self.line_bytes()
        if self._chunked():
            start, stop = self._range(start, stop)
            count = stop - start
            return overhead * count + self._start(stop) - self._start(start) - count
        lines = self.lines[start:stop]
        return overhead * len(lines) + sum(map(len, lines))


_COUNT_STEP = 64 * 1024
# Line starts a chunk batch remembers before it splits its chunk into a list instead.
_MAX_STARTS = 64


def newline_count(data: bytes, start: int = 0, stop: int | None = None) -> int:
    """data.count(b"\\n", start, stop), 2-3x faster where lines are tens of bytes or more.

    `bytes.count` compares byte by byte; a delete-replace finds each newline with memchr.
    It copies, so it goes 64 KiB at a time: the copies stay small and in cache.
    """
    stop = len(data) if stop is None else stop
    n = 0
    for i in range(start, stop, _COUNT_STEP):
        piece = data[i : min(stop, i + _COUNT_STEP)]
        n += len(piece) - len(piece.replace(b"\n", b""))
    return n


def _line_start(chunk: bytes, lo: int, hi: int, n: int, k: int) -> int:
    """Where line k (0 < k < n) of the `n` lines joined in chunk[lo:hi] starts.

    The mean line length gives a guess; a delete-replace (memchr in C, where `count` is
    a byte loop) counts the newlines on the guess's shorter side; a few `find`s step
    from the line holding the guess to line k.
    """
    guess = lo + (hi - lo) * k // n
    if guess - lo <= hi - guess:
        have = newline_count(chunk, lo, guess)
    else:
        have = n - 1 - newline_count(chunk, guess, hi)
    at = chunk.rfind(b"\n", lo, guess) + 1 or lo  # line `have` starts here
    while have < k:
        at = chunk.find(b"\n", at, hi) + 1
        have += 1
    while have > k:
        at = chunk.rfind(b"\n", lo, at - 1) + 1 or lo
        have -= 1
    return at


def log_size(log: Log) -> int:
    """iLogtail's estimate of a log's serialised size in UTF-8 bytes (as Go and LogBatch count)."""
    contents = log.contents
    if contents:
        try:
            encoded = _dumps(contents)
        except TypeError:  # a lone surrogate: orjson refuses it, "replace" counts it
            pass
        else:
            # `{"k":"v",...}` holds every key and value as its UTF-8 bytes when nothing
            # was escaped (no backslash): n fields add 6n + 1 bytes to them. One C call
            # instead of a Python loop over the fields: 2x faster for a dozen fields.
            if encoded.find(b"\\") < 0:
                return len(encoded) - 1 - (6 - FIELD_OVERHEAD) * len(contents) + LOG_OVERHEAD
    return _log_size_by_field(contents)


def _log_size_by_field(contents: dict[str, str]) -> int:
    size = LOG_OVERHEAD
    for k, v in contents.items():
        # isascii() is O(1) in CPython, so only non-ASCII text pays for an encode.
        size += FIELD_OVERHEAD + (len(k) if k.isascii() else len(k.encode("utf-8", "replace")))
        size += len(v) if v.isascii() else len(v.encode("utf-8", "replace"))
    return size


@dataclass(slots=True)
class _Slice:
    batch: LogBatch
    start: int
    stop: int


class LogGroup:
    """A bundle of logs that is delivered together, with its tags.

    Construct it like the seed's LogGroup (`LogGroup(logs=[...], topic=...)`); the
    aggregators' batch path adds whole slices of a LogBatch with `extend_batch`.
    """

    __slots__ = (
        "_parts",
        "acks",
        "category",
        "log_tags",
        "machine_uuid",
        "nbytes",
        "source",
        "topic",
    )

    def __init__(
        self,
        logs: list[Log] | None = None,
        category: str = "",
        topic: str = "",
        source: str = "",
        machine_uuid: str = "",
        log_tags: list[LogTag] | None = None,
    ) -> None:
        logs = [] if logs is None else logs
        self._parts: list[list[Log] | _Slice] = [logs]
        self.category = category
        self.topic = topic
        self.source = source
        self.machine_uuid = machine_uuid
        self.log_tags: list[LogTag] = [] if log_tags is None else log_tags
        # Acknowledgement hooks: called once every flusher has delivered this group.
        self.acks: list[object] = []
        # The group's size estimate (iLogtail's, as LogBatch.size and log_size count) when
        # the aggregator that sent it kept count, else -1; adding logs resets it.
        self.nbytes = -1

    @property
    def logs(self) -> list[Log]:
        parts = self._parts
        if len(parts) == 1 and isinstance(parts[0], list):
            return parts[0]
        logs: list[Log] = []
        for part in parts:
            if isinstance(part, list):
                logs.extend(part)
            else:
                logs.extend(part.batch.to_logs(part.start, part.stop))
        self._parts = [logs]
        return logs

    @logs.setter
    def logs(self, logs: list[Log]) -> None:
        self._parts = [logs]
        self.nbytes = -1

    def append(self, log: Log) -> None:
        self.nbytes = -1
        last = self._parts[-1]
        if isinstance(last, list):
            last.append(log)
        else:
            self._parts.append([log])

    def extend(self, logs: list[Log]) -> None:
        """Append `logs`, in order (one list extend rather than an append per log)."""
        self.nbytes = -1
        last = self._parts[-1]
        if isinstance(last, list):
            last.extend(logs)
        else:
            self._parts.append(list(logs))

    def extend_batch(self, batch: LogBatch, start: int, stop: int) -> None:
        """Add lines [start:stop] of `batch` without building a Log per line."""
        if stop <= start:
            return
        self.nbytes = -1
        last = self._parts[-1]
        if isinstance(last, _Slice) and last.batch is batch and last.stop == start:
            last.stop = stop
        elif isinstance(last, list) and not last and len(self._parts) == 1:
            self._parts = [_Slice(batch, start, stop)]
        else:
            self._parts.append(_Slice(batch, start, stop))

    def parts(self) -> Iterator[tuple[LogBatch, int, int] | list[Log]]:
        """The logs in order, as batch slices `(batch, start, stop)` or lists of Log."""
        for part in self._parts:
            if isinstance(part, list):
                if part:
                    yield part
            else:
                yield (part.batch, part.start, part.stop)

    def __len__(self) -> int:
        n = 0
        for part in self._parts:
            n += len(part) if isinstance(part, list) else part.stop - part.start
        return n

    def tag(self, key: str) -> str | None:
        """The value of the last tag named `key`, or None."""
        for t in reversed(self.log_tags):
            if t.key == key:
                return t.value
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogGroup):
            return NotImplemented
        return (
            self.category == other.category
            and self.topic == other.topic
            and self.source == other.source
            and self.machine_uuid == other.machine_uuid
            and self.log_tags == other.log_tags
            and self.logs == other.logs
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"LogGroup({len(self)} logs, source={self.source!r}, topic={self.topic!r}, "
            f"category={self.category!r}, tags={self.log_tags!r})"
        )
