"""Real journal files for the input_journal tests, and a collector that acknowledges like a
pipeline.

`Journal.write` turns entries into a journal export stream and feeds it to Debian's
`systemd-journal-remote -o FILE.journal -`, which appends them to a real journal file
that journalctl reads (`--file`) — also while journalctl follows it.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore
from agent.plugin import Context
from agent.protocol import Log, LogContext, LogGroup
from plugins.input.journal import JournalInput
from tests.plugins.input.running import running

DEADLINE = 20.0
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
FIRST_USEC = 1_767_225_600_123_456  # 2026-01-01 00:00:00.123456 UTC

Value = str | bytes | list[str | bytes]


def need_journal_tools() -> None:
    if sys.platform != "linux":
        pytest.skip("input_journal is Linux only")
    if not os.access(JOURNAL_REMOTE, os.X_OK):
        pytest.fail(
            "systemd-journal-remote is not installed; .ci/run installs it "
            "(apt-get install -y systemd-journal-remote)"
        )


def _export_field(key: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    if any(b < 0x20 or b == 0x7F for b in data):
        # The export format's binary form: name, newline, little-endian 64-bit size, data.
        return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return key.encode() + b"=" + data + b"\n"


class Journal:
    """A journal file the tests append entries to. Entry n (from 0) has the realtime
    timestamp `first_usec` + n µs and, unless given, `MESSAGE=m<n>` (4 digits)."""

    def __init__(self, path: Path, first_usec: int = FIRST_USEC) -> None:
        self.path = path
        self.first_usec = first_usec
        self.boot = uuid.uuid4().hex
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, *entries: dict[str, Value]) -> None:
        stream = bytearray()
        for fields in entries:
            n = self.count
            self.count += 1
            base: dict[str, Value] = {
                "__REALTIME_TIMESTAMP": str(self.first_usec + n),
                "__MONOTONIC_TIMESTAMP": str(5_000_000 + n),
                "_BOOT_ID": self.boot,
                "MESSAGE": f"m{n:04d}",
            }
            for key, value in {**base, **fields}.items():
                for one in value if isinstance(value, list) else [value]:
                    stream += _export_field(key, one)
            stream += b"\n"
        subprocess.run(
            [JOURNAL_REMOTE, "-o", str(self.path), "-"],
            input=bytes(stream),
            capture_output=True,
            check=True,
            timeout=60,
        )

    def cursors(self) -> list[str]:
        """Every entry's cursor, as journalctl prints them."""
        out = subprocess.run(
            ["journalctl", f"--file={self.path}", "--output=json", "--no-pager"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        return [orjson.loads(line)["__CURSOR"] for line in out.splitlines()]

    def numbered(self, count: int, **fields: Value) -> list[str]:
        """Write `count` plain entries; their messages."""
        first = self.count
        self.write(*({**fields} for _ in range(count)))
        return [f"m{n:04d}" for n in range(first, first + count)]


class LogAcking:
    """Takes lists of logs like a pipeline and acknowledges them: at once (`auto`) or on
    `ack()`; `refuse` makes add_logs answer False (a pipeline that is stopping)."""

    def __init__(self, auto: bool = True) -> None:
        self.auto = auto
        self.refuse = False
        self.counter = AckCounter()
        self.calls: list[list[Log]] = []
        self.contexts: list[LogContext] = []
        self._unacked: list[list[Log]] = []
        self._cond = threading.Condition()

    def add_logs(self, logs: list[Log], ctx: LogContext) -> bool:
        if self.refuse:
            return False
        self.counter.expect_logs(logs)
        with self._cond:
            self.calls.append(logs)
            self.contexts.append(ctx)
            self._unacked.append(logs)
            self._cond.notify_all()
        if self.auto:
            self.ack()
        return True

    def add_batch(self, batch: Any, ctx: LogContext) -> bool:
        raise AssertionError("input_journal hands over lists of logs")

    def ack(self, count: int | None = None) -> None:
        """Acknowledge the oldest `count` unacknowledged calls (all by default)."""
        with self._cond:
            n = len(self._unacked) if count is None else count
            done, self._unacked = self._unacked[:n], self._unacked[n:]
        for logs in done:
            self.counter.group_done(LogGroup(logs=list(logs)))

    def ack_call(self, index: int) -> None:
        """Acknowledge the call `index` only (out of order)."""
        with self._cond:
            logs = self.calls[index]
            self._unacked = [c for c in self._unacked if c is not logs]
        self.counter.group_done(LogGroup(logs=list(logs)))

    def logs(self) -> list[Log]:
        with self._cond:
            return [log for call in self.calls for log in call]

    def messages(self) -> list[str]:
        return [log.contents.get("content", "") for log in self.logs()]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_count(self, n: int, timeout: float = DEADLINE) -> list[str]:
        self.wait_for(lambda: sum(map(len, self.calls)) >= n, timeout)
        return self.messages()


class Run:
    """One start of an input_journal with the checkpoint store at `store_path`."""

    def __init__(self, store_path: Path, config: dict[str, Any], collector: LogAcking) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.store = CheckpointStore(store_path, pipeline="test", interval=0.1)
        self.plugin = JournalInput.create(config)
        self.plugin.init(
            Context(checkpoints=self.store, report=lambda k, d: self.events.append((k, d)))
        )
        self.collector = collector

    def messages(self, kind: str = "warning") -> list[str]:
        return [d["message"] for k, d in self.events if k == kind]

    def cursor(self) -> str | None:
        """The committed cursor, as the checkpoint store writes it now."""
        self.store.save()
        if not self.store.path.exists():
            return None  # the input has not attached yet
        entries = orjson.loads(self.store.path.read_bytes())["sections"].get("input_journal", [])
        return entries[0]["cursor"] if entries else None


@contextmanager
def following(
    store_path: Path, config: dict[str, Any], collector: LogAcking | None = None
) -> Iterator[Run]:
    """Follow the journal until the block ends; then stop and close the store like a pipeline."""
    run = Run(store_path, config, collector or LogAcking())
    with running(run.plugin, run.collector, "test-input-journal", DEADLINE, run.store.close):
        yield run


def once(store_path: Path, config: dict[str, Any], collector: LogAcking | None = None) -> Run:
    run = Run(store_path, config, collector or LogAcking())
    run.plugin.run(run.collector, threading.Event(), True)
    run.store.close()
    return run


def journalctl_children() -> list[tuple[int, str]]:
    """(pid, state) of this process's journalctl children, zombies included."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == me and name == "journalctl":
            found.append((int(entry), state))
    return found
