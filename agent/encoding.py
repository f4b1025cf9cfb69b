"""Bulk JSON Lines encoding of LogGroups: one object per group, logs serialised in C.

A batch slice is encoded without building a dict per line: orjson encodes the list
of line texts in one call, and the separators between them (`","`, which cannot occur
inside an encoded string because every quote there is escaped) are replaced by the
text that closes one log object and opens the next.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from agent.protocol import Log, LogBatch, LogGroup

__all__ = ["encode_group", "encode_groups", "group_header"]


def group_header(group: LogGroup) -> dict[str, object]:
    tags: dict[str, str] = {}
    for tag in group.log_tags:
        tags[tag.key] = tag.value
    return {
        "category": group.category,
        "topic": group.topic,
        "source": group.source,
        "machine_uuid": group.machine_uuid,
        "tags": tags,
    }


def _log_prefix(time: int, time_ns: int) -> bytes:
    if time_ns:
        return b'{"time":%d,"time_ns":%d,"contents":' % (time, time_ns)
    return b'{"time":%d,"contents":' % time


def _encode_slice(batch: LogBatch, start: int, stop: int) -> bytes:
    texts = batch.texts(start, stop)
    prefix = _log_prefix(batch.time, batch.time_ns) + b"{" + orjson.dumps(batch.key) + b":"
    inner = orjson.dumps(texts)[1:-1]
    return prefix + inner.replace(b'","', b'"}},' + prefix + b'"') + b"}}"


def _encode_logs(logs: list[Log]) -> bytes:
    return b",".join(
        _log_prefix(log.time, log.time_ns) + orjson.dumps(log.contents) + b"}" for log in logs
    )


def encode_group(group: LogGroup) -> bytes:
    """One JSON object (no newline): the group's header fields and its `logs` array."""
    parts = []
    for part in group.parts():
        if isinstance(part, list):
            parts.append(_encode_logs(part))
        else:
            parts.append(_encode_slice(*part))
    header = orjson.dumps(group_header(group))
    return header[:-1] + b',"logs":[' + b",".join(parts) + b"]}"


def encode_groups(groups: Iterable[LogGroup]) -> bytes:
    """JSON Lines: one line per group."""
    return b"".join(encode_group(g) + b"\n" for g in groups)
