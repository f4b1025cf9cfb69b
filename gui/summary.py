"""A light, bounded copy of a delivered LogGroup: what the live view keeps per row.

`summarise` runs on the flusher thread (Qt-free, quick): it counts and sizes the group
by its parts without building a Log per line, and keeps references to at most
SAMPLE_LOGS lines (each cut at SAMPLE_LINE_BYTES) for the detail pane, which decodes
them only when the row is selected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from agent.protocol import PACK_ID_TAG, Log, LogGroup, log_size

__all__ = ["SAMPLE_LINE_BYTES", "SAMPLE_LOGS", "GroupSummary", "summarise"]

SAMPLE_LOGS = 200
SAMPLE_LINE_BYTES = 4096
# What a kept log costs in memory beyond its text: a line's bytes object and list slot,
# a Log's object, dict and strings.
_LINE_OVERHEAD = 48
_LOG_OVERHEAD = 256

# A raw part of a sample: (content key, time, lines as bytes) or a list of Logs.
SamplePart = tuple[str, int, list[bytes]] | list[Log]


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

    def tags_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.tags)

    def logs(self) -> list[Log]:
        """The kept logs (at most SAMPLE_LOGS), decoded now; empty when not kept."""
        logs: list[Log] = []
        for part in self.sample or ():
            if isinstance(part, list):
                logs.extend(part)
            else:
                key, t, lines = part
                logs.extend(Log(t, {key: line.decode("utf-8", "replace")}) for line in lines)
        return logs


def summarise(pipeline: str, group: LogGroup) -> GroupSummary:
    """The summary of `group`; reads its parts, never `group.logs` (that would decode all)."""
    count = size = kept = sample_bytes = 0
    sample: list[SamplePart] = []
    for part in group.parts():
        if isinstance(part, list):
            count += len(part)
            size += sum(map(log_size, part))
            if kept < SAMPLE_LOGS:
                logs = part[: SAMPLE_LOGS - kept]
                kept += len(logs)
                sample_bytes += sum(map(log_size, logs)) + _LOG_OVERHEAD * len(logs)
                sample.append(logs)
            continue
        batch, start, stop = part
        count += stop - start
        size += batch.size(start, stop)
        if kept < SAMPLE_LOGS:
            end = min(stop, start + SAMPLE_LOGS - kept)
            # A full-length slice of bytes is the same object: short lines cost nothing.
            lines = [line[:SAMPLE_LINE_BYTES] for line in batch.lines[start:end]]
            kept += len(lines)
            sample_bytes += sum(map(len, lines)) + _LINE_OVERHEAD * len(lines)
            sample.append((batch.key, batch.time, lines))
    tags = tuple((t.key, t.value) for t in group.log_tags if t.key != PACK_ID_TAG)
    return GroupSummary(
        time=time.time(),
        pipeline=pipeline,
        source=group.source,
        topic=group.topic,
        count=count,
        bytes=size,
        tags=tags,
        pack_id=group.tag(PACK_ID_TAG) or "",
        sample=sample,
        sample_bytes=sample_bytes,
    )
