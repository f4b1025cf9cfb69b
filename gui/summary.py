"""A light, bounded copy of a delivered LogGroup: what the live view keeps per row.

`summarise` runs on the flusher thread (Qt-free, quick): it counts and sizes the group
by its parts without building a Log per line, and keeps references to at most
`max_logs` lines (SAMPLE_LOGS by default, each cut at SAMPLE_LINE_BYTES) for the
detail pane, which decodes them only when the row is selected.

`SampleAllowance` decides `max_logs` per group: SAMPLE_LOGS while the lines kept stay
within SAMPLE_LINES_PER_S, at least MIN_SAMPLE_LOGS beyond. Keeping 200 lines of every
group of a full-speed backfill (1,800 groups a second) cost the agent 12 % of its
throughput, for samples the view's memory budget let go within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.protocol import PACK_ID_TAG, Log, LogGroup, log_size

__all__ = [
    "MIN_SAMPLE_LOGS",
    "SAMPLE_LINES_PER_S",
    "SAMPLE_LINE_BYTES",
    "SAMPLE_LOGS",
    "GroupSummary",
    "LineSample",
    "SampleAllowance",
    "TokenBucket",
    "summarise",
]

SAMPLE_LOGS = 200
MIN_SAMPLE_LOGS = 10
SAMPLE_LINES_PER_S = 20_000  # full samples up to ~100 groups a second
SAMPLE_LINE_BYTES = 4096
# What a kept Log costs in memory beyond its text: its object, dict and strings.
_LOG_OVERHEAD = 256
_PART_OVERHEAD = 120  # a LineSample and its list
_LINE_OVERHEAD = 41  # a bytes object's header and its list slot


@dataclass(slots=True)
class LineSample:
    """Lines of a batch slice kept for the detail pane: the batch's own line objects.

    Packing them into one blob (session 2) let the others go with their batch, but cost
    42 µs a group against 10 µs for the slice; with the allowance keeping 10 lines a
    group under load, sharing them measured faster with the window open. `nbytes` is an
    upper bound (every line counted as long as the longest) for the view's budget.
    """

    key: str  # the content key the lines go under
    time: int
    _lines: list[bytes]  # each at most SAMPLE_LINE_BYTES
    nbytes: int  # at most what they hold in memory

    @classmethod
    def of(cls, key: str, t: int, lines: list[bytes]) -> LineSample:
        longest = max(map(len, lines))
        if longest > SAMPLE_LINE_BYTES:
            lines = [line[:SAMPLE_LINE_BYTES] for line in lines]
            longest = SAMPLE_LINE_BYTES
        return cls(key, t, lines, (longest + _LINE_OVERHEAD) * len(lines) + _PART_OVERHEAD)

    def __len__(self) -> int:
        return len(self._lines)

    def lines(self) -> list[bytes]:
        return self._lines


# A part of a sample: lines of a batch slice, or a list of Logs.
SamplePart = LineSample | list[Log]


@dataclass(slots=True)
class GroupSummary:
    time: float  # when every flusher had delivered it
    pipeline: str
    source: str
    topic: str
    count: int
    bytes: int
    tags: tuple[tuple[str, str], ...]
    pack_id: str
    sample: list[SamplePart] | None  # None once the memory budget let it go
    sample_bytes: int = 0
    kept: int = 0  # how many logs the sample held when made

    @property
    def sample_cut(self) -> bool:
        """Fewer logs were kept than SAMPLE_LOGS would have: groups came fast."""
        return self.kept < min(self.count, SAMPLE_LOGS)

    def tags_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.tags)

    def logs(self) -> list[Log]:
        """The kept logs (at most SAMPLE_LOGS), decoded now; empty when not kept."""
        logs: list[Log] = []
        for part in self.sample or ():
            if isinstance(part, list):
                logs.extend(part)
            else:
                key, t = part.key, part.time
                logs.extend(Log(t, {key: line.decode("utf-8", "replace")}) for line in part.lines())
        return logs


class TokenBucket:
    """`per_second` tokens a second, holding at most `capacity`; starts full.

    Unlocked: callers on several threads may overdraw it by what one of them takes,
    which only lets a little more through.
    """

    __slots__ = ("_at", "_clock", "capacity", "per_second", "tokens")

    def __init__(
        self,
        per_second: float,
        capacity: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.per_second = per_second
        self.capacity = per_second if capacity is None else capacity
        self.tokens = float(self.capacity)
        self._clock = time.monotonic if clock is None else clock
        self._at = self._clock()

    def refill(self) -> float:
        """The tokens there are now."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.per_second)
        self._at = now
        return self.tokens


class SampleAllowance:
    """How many logs the next group may keep: a bucket of SAMPLE_LINES_PER_S lines.

    Every group keeps at least MIN_SAMPLE_LOGS; up to SAMPLE_LOGS while the bucket lasts.
    """

    def __init__(self, per_second: int = SAMPLE_LINES_PER_S) -> None:
        self._bucket = TokenBucket(per_second)

    @property
    def per_second(self) -> float:
        return self._bucket.per_second

    def take(self) -> int:
        bucket = self._bucket
        allowed = max(MIN_SAMPLE_LOGS, min(SAMPLE_LOGS, int(bucket.refill())))
        bucket.tokens -= allowed
        return allowed


def summarise(pipeline: str, group: LogGroup, max_logs: int = SAMPLE_LOGS) -> GroupSummary:
    """The summary of `group`; reads its parts, never `group.logs` (that would decode all)."""
    count = size = kept = sample_bytes = 0
    sized = group.nbytes >= 0  # the aggregator counted it: no need to sum every line
    sample: list[SamplePart] = []
    for part in group.parts():
        if isinstance(part, list):
            count += len(part)
            if not sized:
                size += sum(map(log_size, part))
            if kept < max_logs:
                logs = part[: max_logs - kept]
                kept += len(logs)
                sample_bytes += sum(map(log_size, logs)) + _LOG_OVERHEAD * len(logs)
                sample.append(logs)
            continue
        batch, start, stop = part
        count += stop - start
        if not sized:
            size += batch.size(start, stop)
        if kept < max_logs:
            end = min(stop, start + max_logs - kept)
            lines = LineSample.of(batch.key, batch.time, batch.line_list(start, end))
            kept += len(lines)
            sample_bytes += lines.nbytes
            sample.append(lines)
    tags = tuple((t.key, t.value) for t in group.log_tags if t.key != PACK_ID_TAG)
    return GroupSummary(
        time=time.time(),
        pipeline=pipeline,
        source=group.source,
        topic=group.topic,
        count=count,
        bytes=group.nbytes if sized else size,
        tags=tags,
        pack_id=group.tag(PACK_ID_TAG) or "",
        sample=sample,
        sample_bytes=sample_bytes,
        kept=kept,
    )
