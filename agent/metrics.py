"""Counters the CLI and the GUI read: per pipeline, and per input file.

Each counter has one writing thread (the input thread, the aggregator timer or the
flusher thread), so plain attribute updates are enough under the GIL; readers take
`snapshot()`, a copy that can cross threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileStats", "PipelineMetrics"]

MAX_FILES = 10_000  # per-file entries kept per pipeline; the least recently updated go first


@dataclass(slots=True)
class FileStats:
    """What one input file looks like from the agent: how far it is read and committed."""

    path: str
    size: int = 0
    offset: int = 0  # read up to here
    committed: int = 0  # acknowledged by every flusher up to here
    lines: int = 0
    bytes: int = 0
    truncations: int = 0
    split_lines: int = 0
    last_error: str = ""
    updated: float = 0.0

    @property
    def lag(self) -> int:
        return max(0, self.size - self.offset)


@dataclass(slots=True)
class PipelineMetrics:
    name: str
    lines: int = 0
    bytes: int = 0
    logs: int = 0  # logs handed to the aggregator (after processors)
    groups: int = 0  # groups delivered to every flusher
    delivered_logs: int = 0
    queue_full_count: int = 0  # queue-full episodes
    rejected_adds: int = 0  # adds refused by the full queue
    errors: int = 0
    dropped: int = 0  # logs given up on (a flusher rejected them permanently)
    started: float = field(default_factory=time.time)
    queue_depth: Callable[[], int] = field(default=lambda: 0, repr=False)
    queue_capacity: int = 0
    flusher_errors: dict[str, int] = field(default_factory=dict)
    files: dict[str, FileStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def file(self, path: str) -> FileStats:
        stats = self.files.get(path)
        if stats is None:
            with self._lock:
                if len(self.files) >= MAX_FILES:
                    oldest = min(self.files.values(), key=lambda s: s.updated)
                    del self.files[oldest.path]
                stats = self.files[path] = FileStats(path)
        return stats

    def forget_file(self, path: str) -> None:
        with self._lock:
            self.files.pop(path, None)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            files = [asdict(s) | {"lag": s.lag} for s in self.files.values()]
        return {
            "name": self.name,
            "lines": self.lines,
            "bytes": self.bytes,
            "logs": self.logs,
            "groups": self.groups,
            "delivered_logs": self.delivered_logs,
            "queue_depth": self.queue_depth(),
            "queue_capacity": self.queue_capacity,
            "queue_full_count": self.queue_full_count,
            "rejected_adds": self.rejected_adds,
            "errors": self.errors,
            "dropped": self.dropped,
            "flusher_errors": dict(self.flusher_errors),
            "uptime": time.time() - self.started,
            "files": files,
        }
