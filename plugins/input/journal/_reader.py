"""The input_journal engine: runs journalctl, reads its JSON in chunks, hands over a batch
of Logs per chunk, and starts journalctl again (with backoff) when it ends unexpectedly."""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass

import orjson

from agent.plugin import Collector, Context
from agent.protocol import Log, LogContext

from ._command import Source, resolve_source
from ._entries import EntryDecoder
from ._ledger import CursorLedger

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "CHUNK", "MAX_ENTRY_BYTES", "JournalReader", "Settings"]

CHUNK = 256 * 1024  # one read of journalctl's output: one batch of entries
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a longer JSON line is skipped (with a warning)
STOP_CHECK = 0.25  # seconds between looks at `stop` while journalctl is quiet
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0  # seconds before journalctl is started again
HEALTHY_RUN = 10.0  # a journalctl that ran this long starts again after BACKOFF_FIRST
TERMINATE_WAIT = 5.0  # seconds journalctl gets to end after SIGTERM, before SIGKILL
LOOKUP_TIMEOUT = 60.0  # finding the journal's last entry (a tail start)


@dataclass(frozen=True, slots=True)
class Settings:
    journalctl: str  # the executable
    paths: tuple[str, ...]  # JournalPaths (resolved at each start: a file may appear later)
    filters: tuple[str, ...]  # -p and the raw matches
    seek: str  # head | tail: where to start without a cursor
    fallback: str  # head | tail: where to start when journalctl refuses the cursor
    topic: str


@dataclass(frozen=True, slots=True)
class _Exit:
    code: int | None  # None: journalctl could not be started
    errors: str  # its standard error
    entries: int  # how many entries it gave


class _Stopped(Exception):
    """`stop` was set, or the collector refused a batch."""


def _env() -> dict[str, str]:
    return {**os.environ, "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "cat"}


class JournalReader:
    """One run of an input_journal: `after` is the cursor to resume after (None: `seek`)."""

    def __init__(
        self,
        settings: Settings,
        decoder: EntryDecoder,
        context: Context,
        collector: Collector,
        stop: threading.Event,
        ledger: CursorLedger | None,
        after: str | None,
    ) -> None:
        self._s = settings
        self._decoder = decoder
        self._context = context
        self._collector = collector
        self._stop = stop
        self._ledger = ledger
        self._after = after
        self._ctx = LogContext(source="journal", topic=settings.topic)
        self._label = "journal"
        self._pieces: list[bytes] = []  # the start of a line still being read
        self._pending = 0  # its length
        self._skipping = False  # inside a line longer than MAX_ENTRY_BYTES
        self._resumed: str | None = None  # the cursor journalctl started at (already read)
        self._warned: set[str] = set()

    # -- the loop -----------------------------------------------------------------------

    def run(self, once: bool) -> None:
        """Until `stop` (or, with `once`, until journalctl has printed everything)."""
        seek = "head" if once else self._s.seek  # running once is a backfill
        backoff = BACKOFF_FIRST
        while not self._stop.is_set():
            source = resolve_source(list(self._s.paths))
            self._label = source.label
            self._ctx = LogContext(source=source.label, topic=self._s.topic)
            if source.problem:
                self._warn(source.problem + ("" if once else "; looking again later"))
                seek = "head"  # a journal that turns up later is new: all of it
            else:
                if self._after is None and seek == "tail" and self._start_at_tail(source):
                    seek = "head"  # from the tail on, whatever comes is new
                started = time.monotonic()
                result = self._run_child(self._argv(source, seek, once))
                if result is None:
                    return  # stopped
                if result.entries or time.monotonic() - started >= HEALTHY_RUN:
                    backoff = BACKOFF_FIRST
                if result.entries:
                    self._warned.clear()  # it works again: say so if it breaks again
                if result.code == 0 and once:
                    return
                if self._cursor_refused(result):
                    self._warn(
                        f"journalctl does not accept the cursor to resume after "
                        f"({self._after}); reading from the journal's {self._s.fallback}"
                    )
                    self._after = None
                    seek = self._s.fallback
                    continue
                if result.code is None:
                    self._warn(result.errors)
                elif not once:
                    self._warn(
                        f"journalctl ended (exit code {result.code}); starting it again "
                        f"after a pause of up to {BACKOFF_MAX:g} s"
                    )
                elif result.code != 0:
                    self._warn(f"journalctl failed (exit code {result.code})")
            if once or self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _argv(self, source: Source, seek: str, once: bool) -> list[str]:
        argv = [self._s.journalctl, *source.args, "--output=json", "--all", "--no-pager"]
        # Without --merge, --follow reads only the latest boot: a restart after a reboot
        # would miss the rest of the previous one.
        argv.append("--merge")
        if not once:
            argv.append("--follow")
        fields = self._decoder.output_fields()
        if fields:
            argv.append("--output-fields=" + ",".join(fields))
        if self._after is not None:
            # --cursor, not --after-cursor: journalctl 252 skips one entry after the cursor's
            # position blindly, losing one when the cursor's own entry is gone (vacuumed).
            # The cursor's entry, if it is there, comes first and is dropped in _take.
            argv += ["--no-tail", f"--cursor={self._after}"]
        elif seek == "head":
            argv.append("--no-tail")
        else:
            argv.append("--lines=0")
        return argv + list(self._s.filters)

    def _cursor_refused(self, result: _Exit) -> bool:
        return (
            result.code not in (None, 0)
            and not result.entries
            and self._after is not None
            and "cursor" in result.errors.lower()
        )

    def _start_at_tail(self, source: Source) -> bool:
        """Resume after the journal's last entry (committed at once, so that what is
        written while Tailbox is stopped is read after a restart); False when the
        journal could not be asked (journalctl's own start then says why)."""
        found, cursor = self._last_cursor(source)
        if found and cursor is not None:
            self._after = cursor
            if self._ledger is not None:
                self._ledger.start_at(cursor)
        return found

    def _last_cursor(self, source: Source) -> tuple[bool, str | None]:
        """(whether the journal could be asked, the cursor of its last entry or None)."""
        argv = [
            self._s.journalctl,
            *source.args,
            "--output=json",
            "--merge",
            "--no-pager",
            "--lines=1",
            "--output-fields=_BOOT_ID",
        ]
        try:
            run = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=LOOKUP_TIMEOUT,
                env=_env(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            self._warn(f"cannot find the journal's end: {e}")
            return False, None
        if run.returncode != 0:
            return False, None  # the reading journalctl says why
        for line in run.stdout.splitlines():
            if line.startswith(b"{"):
                try:
                    cursor = orjson.loads(line).get("__CURSOR")
                except (orjson.JSONDecodeError, AttributeError):
                    continue
                if isinstance(cursor, str):
                    return True, cursor
        return True, None

    # -- one journalctl ---------------------------------------------------------------------

    def _run_child(self, argv: list[str]) -> _Exit | None:
        """Read one journalctl to its end; None when stopped (it is terminated then)."""
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_env(),
            )
        except OSError as e:
            return _Exit(None, f"cannot start {argv[0]}: {e.strerror or e}", 0)
        assert proc.stdout is not None and proc.stderr is not None
        self._pieces, self._pending, self._skipping = [], 0, False
        self._resumed = self._after
        entries = 0
        # The last lines only: a journalctl that follows for months may repeat a warning.
        errors: deque[str] = deque(maxlen=20)
        err_rest = b""
        finished = False
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ, False)
                selector.register(proc.stderr, selectors.EVENT_READ, True)
                while selector.get_map():
                    if self._stop.is_set():
                        return None
                    for key, _ in selector.select(STOP_CHECK):
                        data = os.read(key.fd, CHUNK)
                        if not data:
                            selector.unregister(key.fileobj)
                        elif key.data:
                            err_rest = self._stderr(err_rest + data, errors)
                        else:
                            entries += self._take(data)
            finished = True
        except _Stopped:
            return None
        finally:
            _end(proc, finished)
        if err_rest:
            self._stderr(err_rest + b"\n", errors)
        return _Exit(proc.returncode, "\n".join(errors), entries)

    def _stderr(self, data: bytes, errors: deque[str]) -> bytes:
        """Report journalctl's complete lines on standard error; the rest waits."""
        *lines, rest = data.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                errors.append(line)
                self._warn(f"journalctl: {line}")
        return rest[-4096:]

    def _take(self, data: bytes) -> int:
        """Hand over the entries that `data` completes; how many there were."""
        if self._skipping:
            newline = data.find(b"\n")
            if newline < 0:
                return 0
            data = data[newline + 1 :]
            self._skipping = False
        if b"\n" not in data:
            self._pieces.append(data)
            self._pending += len(data)
            if self._pending > MAX_ENTRY_BYTES:
                self._pieces, self._pending, self._skipping = [], 0, True
                self._warn(
                    f"a journal entry longer than {MAX_ENTRY_BYTES // (1024 * 1024)} MiB of "
                    "JSON was skipped"
                )
            return 0
        if self._pieces:
            self._pieces.append(data)
            data = b"".join(self._pieces)
        *lines, rest = data.split(b"\n")
        self._pieces, self._pending = ([rest], len(rest)) if rest else ([], 0)
        logs: list[Log] = []
        cursor: str | None = None
        decode = self._decoder.decode
        for line in lines:
            if not line.startswith(b"{"):
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                self._warn("journalctl printed a line that is not JSON; skipped")
                continue
            if not isinstance(entry, dict):
                continue
            if self._resumed is not None:
                resumed, self._resumed = self._resumed, None
                if entry.get("__CURSOR") == resumed:
                    continue  # the entry the cursor names: handed over before
            log, entry_cursor = decode(entry)
            logs.append(log)
            if entry_cursor is not None:
                cursor = entry_cursor
        if not logs:
            return 0
        if self._ledger is not None and cursor is not None:
            origin = self._ledger.sent(cursor)
            for log in logs:
                log.origin = origin
        if not self._collector.add_logs(logs, self._ctx) or self._stop.is_set():
            raise _Stopped
        if cursor is not None:
            self._after = cursor
        return len(logs)

    # -- reporting --------------------------------------------------------------------------

    def _warn(self, problem: str) -> None:
        """Report a problem once (until journalctl gives entries again)."""
        if problem in self._warned:
            return
        self._warned.add(problem)
        where = "" if self._label == "journal" else f" ({self._label})"
        message = f"input_journal{where}: {problem}"
        self._context.logger.warning("%s", message)
        self._context.report("warning", message=message)


def _end(proc: subprocess.Popen[bytes], finished: bool) -> None:
    """Reap journalctl: wait for it when its output ended, else terminate it (no zombie)."""
    try:
        if finished:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(TERMINATE_WAIT)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(TERMINATE_WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
