"""Grouping machinery shared by the aggregators: iLogtail's AggregatorBase rules, per key.

A `GroupPool` maps keys (a source, a shard, a group-key tuple) to `GroupList`s, the
ordered groups of one key. The rules are iLogtail's: a group is full at
`max_log_count` logs or when the next log would take it past `max_group_bytes`
(`MAX_GROUP_BYTES` by default); when the current group is full and its key already
holds `max_group_count` groups, the oldest goes to `queue.add` ("quick flush"), and if
the queue refuses, the log is not taken and `QueueFullError` propagates. Unlike
iLogtail, a log larger than the byte limit goes alone into a fresh group instead of
leaving an empty group behind (iLogtail's Flush stops at the first empty group and
drops everything after it).

The batch path (`add_slice`) cuts groups by slicing a `LogBatch`, sizing whole slices
at once; only a slice that would cross a byte limit is sized line by line, in C
(`accumulate` + `bisect`). `add_logs` takes a list of Logs the same way: their sizes
in one pass, groups cut by list slices. All paths give identical groups. `add_keyed`
takes a batch whose lines belong to different keys (a content value, a shard) by runs
of equal keys.

Keyed aggregators whose keys come from log data bound their state with `max_keys`:
a new key beyond it first sends the oldest key's groups to the queue. `Alarm` counts a
kind of problem and warns about it at most once per `WARNING_INTERVAL`.
"""

from __future__ import annotations

import secrets
import time
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import accumulate, count, groupby
from typing import Any, Protocol

from agent.params import Param
from agent.protocol import (
    FIELD_OVERHEAD,
    LOG_OVERHEAD,
    PACK_ID_TAG,
    Log,
    LogBatch,
    LogContext,
    LogGroup,
    LogTag,
    log_size,
)
from agent.queue import QueueFullError

__all__ = [
    "BUSY_PACK_SEQ_TIMEOUT",
    "FLUSH_INTERVAL",
    "MAX_GROUP_BYTES",
    "MAX_POOL_BYTES",
    "PACK_SEQ_BUSY",
    "PACK_SEQ_CAPACITY",
    "PACK_SEQ_CLEAN_INTERVAL",
    "PACK_SEQ_TIMEOUT",
    "SKIP",
    "WARNING_INTERVAL",
    "Alarm",
    "ContentKeyed",
    "GroupList",
    "GroupPool",
    "NewGroup",
    "PackSeq",
    "PackSeqMap",
    "Queue",
    "fnv1a_64",
    "pack_id_prefix",
]

# Every built-in aggregator declares this key and returns its value from `init`: the
# per-aggregator override of the pipeline's AggregatIntervalMs (0 keeps the default). The
# agent applies a change of it to a running pipeline without a restart.
FLUSH_INTERVAL = Param(
    "FlushIntervalMs",
    "int",
    0,
    "This aggregator's own flush interval (ms); 0 uses the pipeline's AggregatIntervalMs.",
    min=0,
    max=3_600_000,
    check=lambda v: "must be 0 (the pipeline's interval) or at least 10" if 0 < v < 10 else None,
)

MAX_GROUP_BYTES = 3 * 1024 * 1024  # iLogtail's MaxLogGroupSize
MAX_POOL_BYTES = 10 * 1024 * 1024  # iLogtail's MaxLogGroupPoolSize (context aggregator)
WARNING_INTERVAL = 10.0  # seconds between two warnings of one kind, like iLogtail's alarms

# iLogtail prunes the per-source pack sequences at most every 10 minutes, dropping those
# idle for 30 days (1 day when the map is busy). It never caps the map; Tailbox does,
# forgetting the least recently used source (which then starts a fresh prefix).
PACK_SEQ_CLEAN_INTERVAL = 600.0
PACK_SEQ_TIMEOUT = 30 * 24 * 3600.0
BUSY_PACK_SEQ_TIMEOUT = 24 * 3600.0
PACK_SEQ_BUSY = 10_000
PACK_SEQ_CAPACITY = 100_000

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1
# iLogtail mixes in the host's IP and the time so that restarts and other hosts never
# reuse a prefix; a random nonce per process does the same, the counter separates
# prefixes made within one process.
_NONCE = secrets.token_hex(8)
_prefix_count = count()

type NewGroup = Callable[[Hashable, LogContext | None], LogGroup]


class _Skip:
    def __repr__(self) -> str:
        return "SKIP"


SKIP: Any = _Skip()  # the key of a line `add_keyed` passes over (an aggregator drops it)


class Queue(Protocol):
    """What an aggregator needs of the queue: `LogGroupQueue` or any test double."""

    def add(self, group: LogGroup) -> None: ...
    def add_with_wait(self, group: LogGroup, timeout: float) -> None: ...


def fnv1a_64(data: bytes) -> int:
    h = _FNV64_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV64_PRIME) & _MASK64
    return h


def pack_id_prefix(text: str) -> str:
    """A new pack id prefix for `text` (iLogtail's util.NewPackIDPrefix): FNV-1a 64, %X."""
    seed = f"{text}\x00{_NONCE}\x00{next(_prefix_count)}"
    return f"{fnv1a_64(seed.encode('utf-8', 'surrogatepass')):X}"


@dataclass(slots=True)
class PackSeq:
    """One pack id sequence: tags `<prefix>-<seq>` in uppercase hex, seq from 1."""

    prefix: str
    seq: int = 1
    last_used: float = 0.0

    def next_tag(self) -> LogTag:
        tag = LogTag(PACK_ID_TAG, f"{self.prefix}-{self.seq:X}")
        self.seq += 1
        return tag


class PackSeqMap:
    """Pack id sequences per key, bounded: least recently used keys beyond `capacity` go.

    A key seen again after it was forgotten gets a new prefix, so no pack id repeats.
    """

    def __init__(
        self,
        namespace: str,
        tolerance: int = 10,
        capacity: int = PACK_SEQ_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace = namespace
        self.tolerance = tolerance
        self.capacity = capacity
        self.clock = clock
        self._seqs: OrderedDict[Hashable, PackSeq] = OrderedDict()
        self._last_clean = clock()

    def __len__(self) -> int:
        return len(self._seqs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._seqs

    def next_tag(self, key: Hashable) -> LogTag:
        """The next pack id tag of `key` (called once per new group, not per log)."""
        seqs = self._seqs
        seq = seqs.get(key)
        if seq is None:
            seq = seqs[key] = PackSeq(pack_id_prefix(f"{self.namespace}\x00{key}"))
            if len(seqs) > self.capacity:
                seqs.popitem(last=False)
        else:
            seqs.move_to_end(key)
        seq.last_used = self.clock()
        return seq.next_tag()

    def prune(self) -> int:
        """iLogtail's periodic clean-up at flush; returns how many keys were dropped."""
        now = self.clock()
        seqs = self._seqs
        if len(seqs) <= self.tolerance or now - self._last_clean <= PACK_SEQ_CLEAN_INTERVAL:
            return 0
        self._last_clean = now
        timeout = BUSY_PACK_SEQ_TIMEOUT if len(seqs) > PACK_SEQ_BUSY else PACK_SEQ_TIMEOUT
        idle = [key for key, seq in seqs.items() if now - seq.last_used > timeout]
        for key in idle:
            del seqs[key]
        return len(idle)


class GroupList:
    """The ordered, never empty groups of one key, with their byte sizes."""

    __slots__ = ("count", "groups", "key", "pool", "sizes")

    def __init__(self, pool: GroupPool, key: Hashable) -> None:
        self.pool = pool
        self.key = key
        self.groups: deque[LogGroup] = deque()
        self.sizes: deque[int] = deque()
        self.count = 0  # logs in the current (last) group

    def add_log(self, log: Log, size: int, ctx: LogContext | None) -> None:
        """Append one log of `size` bytes; QueueFullError (log not taken) from a quick flush."""
        pool = self.pool
        if not self.groups:
            self._start(ctx)
        elif self.count >= pool.max_log_count or self.sizes[-1] + size > pool.max_group_bytes:
            self._rotate(ctx)
        self.groups[-1].append(log)
        self.sizes[-1] += size
        self.count += 1
        pool.bytes += size

    def add_slice(self, batch: LogBatch, start: int, stop: int, ctx: LogContext | None) -> int:
        """Take lines [start:stop] of `batch`; returns how many were taken.

        Stops early (before a line) only when the pool went over its limit, so that the
        caller can send the pool first, as the per-log path does. A refused quick flush
        raises QueueFullError with `consumed` set to the lines taken before it.
        """
        pool = self.pool
        limit = pool.limit
        max_count = pool.max_log_count
        max_bytes = pool.max_group_bytes
        line_length = batch.line_length
        overhead = LOG_OVERHEAD + FIELD_OVERHEAD + len(batch.key)
        groups, sizes = self.groups, self.sizes
        i = start
        while i < stop:
            if limit is not None and pool.bytes > limit:
                break
            if not groups:
                self._start(ctx)
            elif self.count >= max_count or sizes[-1] + overhead + line_length(i) > max_bytes:
                try:
                    self._rotate(ctx)
                except QueueFullError as e:
                    raise QueueFullError(str(e), consumed=i - start) from None
            j = min(stop, i + max_count - self.count)
            room = max_bytes - sizes[-1]
            size = batch.size(i, j)
            if size <= room and (limit is None or pool.bytes + size <= limit):
                n = j - i
            else:
                n, size = _fitting(batch.line_list(i, j), overhead, room, limit, pool.bytes)
            groups[-1].extend_batch(batch, i, i + n)
            sizes[-1] += size
            self.count += n
            pool.bytes += size
            i += n
        return i - start

    def add_logs(self, logs: list[Log], sizes: list[int], i: int, ctx: LogContext | None) -> int:
        """Take logs[i:] (`sizes[k]` the size of logs[k]) as `add_log` would one by one.

        Returns how many were taken; stops early only where `add_slice` does. A refused
        quick flush raises QueueFullError with `consumed` set to the logs taken before it.
        """
        pool = self.pool
        limit = pool.limit
        max_count = pool.max_log_count
        max_bytes = pool.max_group_bytes
        groups, group_sizes = self.groups, self.sizes
        start = i
        stop = len(logs)
        while i < stop:
            if limit is not None and pool.bytes > limit:
                break
            if not groups:
                self._start(ctx)
            elif self.count >= max_count or group_sizes[-1] + sizes[i] > max_bytes:
                try:
                    self._rotate(ctx)
                except QueueFullError as e:
                    raise QueueFullError(str(e), consumed=i - start) from None
            j = min(stop, i + max_count - self.count)
            cum = list(accumulate(sizes[i:j]))
            n, size = _fit(cum, max_bytes - group_sizes[-1], limit, pool.bytes)
            groups[-1].extend(logs[i : i + n])
            group_sizes[-1] += size
            self.count += n
            pool.bytes += size
            i += n
        return i - start

    def send_oldest(self) -> None:
        """Hand the oldest group to the queue (QueueFullError keeps it here)."""
        group = self.groups[0]
        group.nbytes = self.sizes[0]  # counted on the way in: summaries need not re-count
        self.pool.queue.add(group)
        self.groups.popleft()
        self.pool.bytes -= self.sizes.popleft()

    def _rotate(self, ctx: LogContext | None) -> None:
        if len(self.groups) >= self.pool.max_group_count:
            self.send_oldest()
        self._start(ctx)

    def _start(self, ctx: LogContext | None) -> None:
        self.groups.append(self.pool.new_group(self.key, ctx))
        self.sizes.append(0)
        self.count = 0


def _fitting(
    lines: list[bytes],
    overhead: int,
    room: int,
    limit: int | None,
    pool_bytes: int,
) -> tuple[int, int]:
    """How many of `lines` fit (at least one) and their size, sized line by line."""
    return _fit(list(accumulate(map(overhead.__add__, map(len, lines)))), room, limit, pool_bytes)


def _fit(cum: list[int], room: int, limit: int | None, pool_bytes: int) -> tuple[int, int]:
    """How many of the items whose running size total is `cum` fit (at least one), and
    their size."""
    # An item larger than a whole group goes alone into a fresh one; callers rotate
    # before an item that does not fit into a started group.
    n = bisect_right(cum, room) or 1
    if limit is not None:
        # The per-log path checks the pool before each line: a line is taken while
        # the pool, without it, is still within the limit.
        n = min(n, 1 + bisect_right(cum, limit - pool_bytes))
    return n, cum[n - 1]


class GroupPool:
    """GroupLists by key sharing a byte count, optionally limited (iLogtail's log group pool).

    `new_group(key, ctx)` makes each group as it starts (tags, topic, pack id). When
    `limit` is set and the pool holds more bytes than that before an add, every group
    goes to the queue first, oldest first per key; a refusal keeps the rest and raises.
    When `max_keys` is set and a new key would pass it, the oldest key's groups go to
    the queue first (counted in `evicted_keys`). Keys leave the pool when their groups
    are sent or drained, so per-key state lasts only until the next flush.
    """

    def __init__(
        self,
        queue: Queue,
        new_group: NewGroup,
        max_log_count: int,
        max_group_count: int,
        limit: int | None = None,
        max_group_bytes: int | None = None,
        max_keys: int | None = None,
    ) -> None:
        self.queue = queue
        self.new_group = new_group
        self.max_log_count = max_log_count
        self.max_group_count = max_group_count
        self.limit = limit
        # Read when the pool is made, not imported, so that tests can shrink the default.
        self.max_group_bytes = MAX_GROUP_BYTES if max_group_bytes is None else max_group_bytes
        self.max_keys = max_keys
        self.evicted_keys = 0
        self.bytes = 0
        self.lists: dict[Hashable, GroupList] = {}

    def list_for(self, key: Hashable) -> GroupList:
        lst = self.lists.get(key)
        if lst is None:
            if self.max_keys is not None and len(self.lists) >= self.max_keys:
                # Dicts keep insertion order: the first key is the one started longest ago.
                self.send_key(next(iter(self.lists)))
                self.evicted_keys += 1
            lst = self.lists[key] = GroupList(self, key)
        return lst

    def add_log(self, key: Hashable, log: Log, ctx: LogContext | None = None) -> None:
        """Add one log under `key`; QueueFullError means it was not taken."""
        if self.limit is not None and self.bytes > self.limit:
            self.send_all()
        self.list_for(key).add_log(log, log_size(log), ctx)

    def add_slice(
        self,
        key: Hashable,
        batch: LogBatch,
        start: int = 0,
        stop: int | None = None,
        ctx: LogContext | None = None,
    ) -> None:
        """Add lines [start:stop] under `key`; QueueFullError.consumed counts lines taken."""
        stop = len(batch) if stop is None else stop
        i = start
        while i < stop:
            try:
                if self.limit is not None and self.bytes > self.limit:
                    self.send_all()
                i += self.list_for(key).add_slice(batch, i, stop, ctx)
            except QueueFullError as e:
                raise QueueFullError(str(e), consumed=i - start + e.consumed) from None

    def add_logs(self, key: Hashable, logs: list[Log], ctx: LogContext | None = None) -> None:
        """Add `logs` under `key`, as `add_log` would one by one, sizing them in one pass.

        QueueFullError.consumed counts the logs taken before the refusal.
        """
        sizes = list(map(log_size, logs))
        i, n = 0, len(logs)
        while i < n:
            try:
                if self.limit is not None and self.bytes > self.limit:
                    self.send_all()
                lst = self.list_for(key)
                i += lst.add_logs(logs, sizes, i, ctx)
            except QueueFullError as e:
                raise QueueFullError(str(e), consumed=i + e.consumed) from None

    def add_keyed_logs(
        self, keys: Sequence[Hashable], logs: list[Log], ctx: LogContext | None = None
    ) -> None:
        """`add_log(keys[i], logs[i])` for each log in turn, in one call.

        Keys of consecutive logs differ more often than not (a status, a level), so runs
        of one key would be short: this goes log by log. QueueFullError.consumed counts
        the logs taken before the refusal.
        """
        add = self.add_log
        for i, (key, log) in enumerate(zip(keys, logs, strict=True)):
            try:
                add(key, log, ctx)
            except QueueFullError as e:
                raise QueueFullError(str(e), consumed=i) from None

    def add_keyed(
        self, batch: LogBatch, keys: Sequence[Hashable], ctx: LogContext | None = None
    ) -> None:
        """Add line i of `batch` under `keys[i]`, by runs of equal keys; SKIP lines are passed.

        QueueFullError.consumed counts the lines taken or passed over before the refusal.
        """
        start = 0
        for key, run in groupby(keys):
            stop = start + sum(1 for _ in run)
            if key is not SKIP:
                try:
                    self.add_slice(key, batch, start, stop, ctx)
                except QueueFullError as e:
                    raise QueueFullError(str(e), consumed=start + e.consumed) from None
            start = stop

    def send_key(self, key: Hashable) -> None:
        """Queue the groups of `key`, oldest first; QueueFullError keeps the rest."""
        lst = self.lists[key]
        while lst.groups:
            lst.send_oldest()
        del self.lists[key]

    def send_all(self) -> None:
        """Queue every group, key by key, oldest first; QueueFullError keeps the rest."""
        for key in list(self.lists):
            self.send_key(key)

    def drain(self) -> list[LogGroup]:
        """Take every group out (for flush), key by key, oldest first."""
        groups = []
        for lst in self.lists.values():
            for group, size in zip(lst.groups, lst.sizes, strict=True):
                group.nbytes = size
                groups.append(group)
        self.lists.clear()
        self.bytes = 0
        return groups

    def clear(self) -> None:
        self.lists.clear()
        self.bytes = 0


class Alarm:
    """One kind of problem of one plugin: counted, and warned about at most every interval.

    Each call adds `count` to `total` (and to the pipeline metric named `metric`, when
    the context has metrics); the warning, when one is due, says how many happened
    since the last one and shows the latest `detail`.
    """

    def __init__(
        self,
        context: Any,
        plugin: str,
        what: str,
        metric: str | None = None,
        interval: float = WARNING_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.plugin = plugin
        self.what = what
        self.metric = metric
        self.interval = interval
        self.clock = clock
        self.total = 0
        self._unreported = 0
        self._next = 0.0

    def __call__(self, count: int, detail: str) -> None:
        if count <= 0:
            return
        self.total += count
        metrics = self.context.metrics
        if self.metric is not None and metrics is not None:
            setattr(metrics, self.metric, getattr(metrics, self.metric) + count)
        self._unreported += count
        now = self.clock()
        if now < self._next:
            return
        self._next = now + self.interval
        message = (
            f"{self.plugin}: {self._unreported} {self.what} since the last report; latest: {detail}"
        )
        self._unreported = 0
        self.context.logger.warning(message)
        self.context.report("warning", message=message, plugin=self.plugin)


class ContentKeyed:
    """`add`, `add_logs` and `add_batch` for aggregators that group by content field values.

    A subclass sets `_pool`, `missing` (an Alarm) and `ErrIfKeyNotFound`, and defines
    `_fields()` (the keys it reads) and `_group_key(contents)`.
    """

    _pool: GroupPool
    missing: Alarm
    ErrIfKeyNotFound: bool

    def _fields(self) -> list[str]:
        raise NotImplementedError

    def _group_key(self, contents: dict[str, str]) -> Hashable:
        raise NotImplementedError

    def _note_missing(self, contents: dict[str, str], logs: int) -> None:
        absent = [k for k in self._fields() if k not in contents]
        if absent:
            self.missing(logs, f"no field {absent[0]!r}")

    def add(self, log: Log, ctx: LogContext | None = None) -> None:
        contents = log.contents
        self._pool.add_log(self._group_key(contents), log)
        if self.ErrIfKeyNotFound:
            self._note_missing(contents, 1)

    def add_logs(self, logs: list[Log], ctx: LogContext | None = None) -> None:
        """`add` for each of `logs` in turn, in one call (the runner's path for processed
        logs); QueueFullError.consumed counts the logs taken before the refusal.

        Every key is made before any log is added: a log whose fields are not text
        (outside the Log contract) fails the whole call instead of the logs after it.
        """
        group_key = self._group_key
        try:
            self._pool.add_keyed_logs([group_key(log.contents) for log in logs], logs)
        except QueueFullError as e:
            self._note_each_missing(logs[: e.consumed])  # only those taken, as `add` does
            raise
        self._note_each_missing(logs)

    def _note_each_missing(self, logs: list[Log]) -> None:
        if self.ErrIfKeyNotFound:
            for log in logs:
                self._note_missing(log.contents, 1)

    def add_batch(self, batch: LogBatch, ctx: LogContext | None = None) -> None:
        field = batch.key
        keys = [self._group_key({field: text}) for text in batch.texts()]
        taken = len(batch)
        try:
            self._pool.add_keyed(batch, keys)
        except QueueFullError as e:
            taken = e.consumed
            raise
        finally:
            # Only the lines taken: the rest come again and are counted then.
            if self.ErrIfKeyNotFound:
                self._note_missing({field: ""}, taken)
