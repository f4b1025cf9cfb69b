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


@dataclass(slots=True)
class LogBatch:
    """The lines of one chunk from one source, still UTF-8 bytes without line endings.

    Every line becomes a Log with `time`/`time_ns` and `{key: line}` as contents.
    `origin` is opaque to aggregators: inputs use it to learn when the lines were
    acknowledged (checkpoints).
    """

    lines: list[bytes]
    time: int
    time_ns: int = 0
    key: str = CONTENT_KEY
    origin: object = None
    # sum(map(len, lines)) when the maker knows it for free (a reader does, from its chunk),
    # else -1 until `line_bytes` computes it; `lines` must not change afterwards.
    nbytes: int = field(default=-1, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.lines)

    def line_bytes(self) -> int:
        """The bytes of all lines together (without line ends), computed at most once."""
        if self.nbytes < 0:
            self.nbytes = sum(map(len, self.lines))
        return self.nbytes

    def texts(self, start: int = 0, stop: int | None = None) -> list[str]:
        """The lines [start:stop] as str, decoded in one C call rather than per line."""
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
        n = len(self.lines)
        if start == 0 and (stop is None or stop >= n):
            return overhead * n + self.line_bytes()
        lines = self.lines[start:stop]
        return overhead * len(lines) + sum(map(len, lines))


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
