"""Aggregator test helpers: a list-backed queue, iLogtail's context vectors, batch runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from agent.plugin import Context
from agent.protocol import PACK_ID_TAG, Log, LogBatch, LogContext, LogGroup, LogTag, log_size
from agent.queue import QueueFullError

# iLogtail's aggregator_context_test.go: three sources, short and long logs.
PACK_ID_PREFIXES = ("ABCDEFGHIJKLMNOP", "ALOEJDMGNYTDEWS", "VDSRGHUKMLQETGVD")
SHORT_LOG = "This is short log. This log comes from source "
LONG_LOG = "This is long log. " * 200 + "This log comes from source "


class ListQueue:
    """A queue that keeps what it is given; `refusals` (one bool per add) makes it refuse."""

    def __init__(self, refusals: Iterator[bool] | None = None) -> None:
        self.groups: list[LogGroup] = []
        self.refusals = refusals
        self.refused = 0

    def add(self, group: LogGroup) -> None:
        if self.refusals is not None and next(self.refusals, False):
            self.refused += 1
            raise QueueFullError()
        self.groups.append(group)

    def add_with_wait(self, group: LogGroup, timeout: float) -> None:
        self.add(group)

    def pop_all(self) -> list[LogGroup]:
        groups, self.groups = self.groups, []
        return groups


def make(cls: type, queue: Any = None, pipeline: str = "p", **config: Any) -> Any:
    """A configured, initialised aggregator."""
    agg = cls.create(config)
    assert agg.init(Context(pipeline), queue if queue is not None else ListQueue()) == 0
    return agg


def generate_logs(
    agg: Any, n: int, numbers: list[int], with_ctx: bool = True, short: bool = True
) -> None:
    """iLogtail's generateLogs: round-robin over the sources, `no` counting per source."""
    body = SHORT_LOG if short else LONG_LOG
    contexts = [LogContext(source=p + "-", topic="file") for p in PACK_ID_PREFIXES]
    for i in range(n):
        index = i % len(PACK_ID_PREFIXES)
        numbers[index] += 1
        log = Log(1_700_000_000 + i, {"content": f"{body}{index}", "no": str(numbers[index])})
        agg.add(log, contexts[index] if with_ctx else None)


def check_result(groups: list[LogGroup], expected_logs: int) -> None:
    """iLogtail's checkResult: per pack prefix, consecutive pack seqs and log numbers."""
    seen: dict[str, dict[str, Any]] = {}
    for group in groups:
        pack_id = group.tag(PACK_ID_TAG)
        assert pack_id is not None
        parts = pack_id.split("-")
        assert len(parts) == 2
        prefix, seq = parts
        assert prefix == prefix.upper() and seq == seq.upper()
        info = seen.setdefault(
            prefix, {"content": group.logs[0].contents["content"], "pack": 0, "log": 0}
        )
        assert int(seq, 16) == info["pack"] + 1
        for log in group.logs:
            assert log.contents["content"] == info["content"]
            assert int(log.contents["no"]) == info["log"] + 1
            info["log"] += 1
        info["pack"] += 1
    assert len(seen) == len(PACK_ID_PREFIXES)
    assert sum(info["log"] for info in seen.values()) == expected_logs


def refusal_script(answers: list[bool]) -> Iterator[bool]:
    """The answers in a loop, never refusing twice in a row so that retries make progress."""
    previous = False
    while True:
        for refuse in answers or [False]:
            refuse = refuse and not previous
            previous = refuse
            yield refuse


def normalised(groups: list[LogGroup]) -> list[tuple[Any, ...]]:
    """Groups as comparable tuples, pack id prefixes numbered by first appearance.

    Prefixes are random per aggregator instance, so two instances compare equal only
    once the prefix is replaced by its order of appearance.
    """
    prefixes: dict[str, int] = {}
    out = []
    for g in groups:
        tags = []
        for t in g.log_tags:
            if t.key == PACK_ID_TAG:
                prefix, seq = t.value.split("-")
                tags.append((t.key, prefixes.setdefault(prefix, len(prefixes)), seq))
            else:
                tags.append((t.key, t.value))
        out.append((g.source, g.topic, tuple(tags), [(x.time, x.contents) for x in g.logs]))
    return out


# A batch line's size beyond its text ("content" key) plus the 6-byte line number.
LINE_OVERHEAD = 6 + 5 + len("content") + 6

# An operation for `feed`: a batch with its context, or None for a flush.
Op = tuple[LogContext | None, LogBatch] | None


def ops_strategy(group_bytes: int, sources: int = 3) -> st.SearchStrategy[list[Op]]:
    """Batches from a few sources (or none) with line sizes around the byte limits."""
    g = group_bytes
    # Sizes are whole log sizes; simple fractions of the limit make sums hit it exactly.
    size = st.one_of(
        st.sampled_from([g // 10, g // 4, g // 2, g - 1, g, g + 1]),
        st.integers(LINE_OVERHEAD, 60),
        st.integers(g // 3 - 40, g // 3),
        st.integers(g - 50, g + 10),
        st.integers(g + 1, 2 * g),
    )
    line = st.tuples(size, st.booleans())
    tags = st.lists(st.sampled_from([LogTag("host", "h1"), LogTag("path", "/var/log/x")]))
    ctx = st.one_of(
        st.none(),
        st.builds(
            LogContext,
            source=st.sampled_from([""] + [f"src{i}" for i in range(sources)]),
            topic=st.sampled_from(["", "file"]),
            tags=tags,
        ),
    )
    batch = st.tuples(ctx, st.lists(line, max_size=30))
    # Flushes are rarer than batches so that the pool fills up between them.
    return st.lists(st.one_of(batch, batch, batch, st.none()), max_size=12).map(_build_ops)


def _build_ops(specs: list[Any]) -> list[Op]:
    ops: list[Op] = []
    n = 0
    for spec in specs:
        if spec is None:
            ops.append(None)
            continue
        ctx, lines = spec
        data = []
        for size, wide in lines:
            # Numbered lines make order checks exact; "é" makes bytes differ from chars.
            head = f"{'é' if wide else ''}{n:05d}:".encode()
            data.append(head + b"x" * max(0, size - LINE_OVERHEAD - len(head) + 6))
            n += 1
        if data and len(ops) % 2:  # every other batch as a reader makes it: one chunk
            batch = LogBatch.of_chunk(b"\n".join(data), len(data), 1_700_000_000 + n, n)
        else:
            batch = LogBatch(data, time=1_700_000_000 + n, time_ns=n)
        ops.append((ctx, batch))
    return ops


def feed(agg: Any, queue: ListQueue, ops: list[Op], use_batch: bool | str) -> list[LogGroup]:
    """Run `ops` through `agg` by batch, log by log, or (`use_batch="logs"`) by lists of
    Logs through `add_logs`, retrying refusals as the runner does."""
    out: list[LogGroup] = []
    for op in ops:
        if op is None:
            out += queue.pop_all() + agg.flush()
            continue
        ctx, batch = op
        if use_batch == "logs":
            logs = batch.to_logs()
            while logs:
                try:
                    agg.add_logs(logs, ctx)
                    break
                except QueueFullError as e:
                    assert 0 <= e.consumed < len(logs)
                    logs = logs[e.consumed :]
        elif use_batch:
            while True:
                try:
                    agg.add_batch(batch, ctx)
                    break
                except QueueFullError as e:
                    assert 0 <= e.consumed < len(batch)
                    batch = batch.sub(e.consumed)
        else:
            for log in batch.to_logs():
                while True:
                    try:
                        agg.add(log, ctx)
                        break
                    except QueueFullError as e:
                        assert e.consumed == 0
    return out + queue.pop_all() + agg.flush()


def group_size(group: LogGroup) -> int:
    """The group's size counted again, part by part, as LogBatch.size and log_size do."""
    return sum(
        sum(map(log_size, part)) if isinstance(part, list) else part[0].size(part[1], part[2])
        for part in group.parts()
    )


def check_groups(groups: list[LogGroup], max_log_count: int, group_bytes: int) -> None:
    """No empty group, limits kept (a lone oversize log aside), pack seqs consecutive."""
    seqs: dict[str, int] = {}
    for g in groups:
        assert len(g) >= 1
        assert len(g) <= max_log_count
        if g.nbytes >= 0:  # the size the aggregator counted on the way in, exactly
            assert g.nbytes == group_size(g)
        if len(g) > 1:
            assert sum(map(log_size, g.logs)) <= group_bytes
        pack_id = g.tag(PACK_ID_TAG)
        if pack_id is not None:
            prefix, seq = pack_id.split("-")
            assert int(seq, 16) == seqs.get(prefix, 0) + 1
            seqs[prefix] = int(seq, 16)


def lines_by_source(groups: list[LogGroup]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g in groups:
        out.setdefault(g.source, []).extend(x.contents["content"] for x in g.logs)
    return out


def expected_by_source(ops: list[Op]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for op in ops:
        if op is not None:
            ctx, batch = op
            out.setdefault(ctx.source if ctx else "", []).extend(batch.texts())
    return {k: v for k, v in out.items() if v}
