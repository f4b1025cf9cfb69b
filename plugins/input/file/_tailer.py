"""The input_file engine: discovery, watchdog hints, the stat pass and the read loop."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from agent.metrics import FileStats
from agent.plugin import Collector, Context
from agent.protocol import LogBatch

from ._lines import LineOptions, SplitReader
from ._paths import PathSpec
from ._reader import FileReader, NotRegularFileError
from ._states import FileStates
from ._windows import is_gone

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver, ObservedWatch


__all__ = ["GLOB_INTERVAL", "READ_BUDGET", "STAT_INTERVAL", "Settings", "Tailer"]

STAT_INTERVAL = 1.0  # the stat pass: the truth that catches whatever events missed
GLOB_INTERVAL = 2.0  # looking for new files when no event said there are any
RESCAN_GAP = 0.5  # event-triggered globs at most this often (a busy tree must not glob nonstop)
# One wait cannot cover both our wake-up Event and the caller's `stop`, so sleeps are
# capped to notice `stop` this soon.
STOP_CHECK = 0.25
READ_BUDGET = 4 * 1024 * 1024  # per file per round, so one busy file cannot starve the others
# Rounds of reads start at most this often while events keep coming: a file written in
# many small bursts is read in chunks of ~READ_GAP's worth of writes, not once per write
# (each round and each batch costs Python work; at 10 MB/s in 20 ms bursts, 5x fewer).
# A file that was quiet for this long is read as soon as its event arrives.
READ_GAP = 0.1
# Watching costs Python work per file event (watchdog's threads, then a read round per
# file). Many small writes over many files — 1,000 files at 1 MB/s is ~8,000 events a
# second — cost most of a core that way. Past STORM_EVENTS a second (measured between
# stat passes) the tailer stops watching for STORM_HOLD seconds and reads every file on
# the stat pass instead, once a second, as Filebeat and Vector always do; then watches
# again, so a quiet tree is back to reading on each event.
STORM_EVENTS = 2000
STORM_HOLD = 10.0
# When a burst outruns the kernel's inotify queue, watchdog warns that "filesystem events
# were lost". Events are only hints here — the stat pass and the periodic glob find what
# they missed, and a storm turns watching off — so that warning would tell users that
# something was lost when nothing is. watchdog's errors still show.
for _name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
    logging.getLogger(_name).setLevel(logging.ERROR)
_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    DirMovedEvent,
    FileDeletedEvent,
]


@dataclass(frozen=True, slots=True)
class Settings:
    spec: PathSpec
    tail_bytes: int
    flush_timeout: float
    topic: str
    chunk_size: int
    lines: LineOptions = field(default_factory=LineOptions)  # MaxLineBytes, FileEncoding, Multiline
    close_unused: float = 60.0  # CloseUnusedReaderIntervalSec


class _Stopped(Exception):
    """`stop` was set or the collector refused a batch: leave the loop, close everything."""


# watchdog's platform observer, imported at the first watch: `run --once` never watches,
# and the import (inotify's ctypes bindings) cost each such start ~13 ms. Tests replace it.
Observer: type[BaseObserver] | None = None


def _observer_class() -> type[BaseObserver]:
    global Observer
    if Observer is None:
        from watchdog.observers import Observer as platform_observer

        Observer = platform_observer
    return Observer


class _Hints(FileSystemEventHandler):
    def __init__(self, tailer: Tailer) -> None:
        self._tailer = tailer

    def dispatch(self, event: FileSystemEvent) -> None:
        self._tailer.hint(event)


class Tailer:
    """One run of an input_file instance: a backfill (`run_once`) or tailing until stopped.

    Readers are keyed by file identity (st_dev, st_ino); `_paths` maps each matched path
    to the identity it had when last looked at, so a link or a renamed file is never
    read twice and a new file at an old path is noticed.
    """

    def __init__(
        self, settings: Settings, context: Context, collector: Collector, stop: threading.Event
    ) -> None:
        self._s = settings
        self._context = context
        self._collector = collector
        self._stop = stop
        self._readers: dict[tuple[int, int], FileReader] = {}
        self._paths: dict[str, tuple[int, int]] = {}
        self._warned: dict[str, str] = {}  # path -> the problem last reported for it
        self._lock = threading.Lock()  # guards _dirty and _rescan, written by the observer thread
        self._dirty: set[str] = set()
        self._rescan = False
        self._events = 0  # file events since the last stat pass (guarded by _lock)
        self._events_since = time.monotonic()
        self._storm_until = 0.0  # while watching is off for an event storm
        self._wake = threading.Event()
        self._observer: BaseObserver | None = None
        self._hints = _Hints(self)
        self._watches: dict[tuple[str, bool], ObservedWatch] = {}
        # Checkpoints, copies and restarts (see _states.py).
        self._states = FileStates(
            context.checkpoints,
            self._readers,
            self._paths,
            self._reopen,
            settings.tail_bytes,
            context.metrics,
        )
        self._unused_check = 0.0
        # Files found while a round handles a truncation (the copy, under copytruncate):
        # looked at in the next round, not only at the next stat pass.
        self._found: set[tuple[int, int]] = set()

    # -- the two modes ----------------------------------------------------------------

    def run_once(self) -> None:
        """Read every matched file from its start to its current end, partial last line too."""
        try:
            paths = self._s.spec.glob()
            self._states.begin(paths, once=True)  # resume from checkpoints, if any
            for path in paths:
                if self._stop.is_set():
                    return
                reader = self._open(path, tail=False)
                if reader is None:
                    continue
                try:
                    self._read(reader, budget=None, end=reader.size)
                    self._flush(reader)
                finally:
                    # Closed but kept in _readers: a link to it found later is skipped.
                    reader.close()
        except _Stopped:
            pass

    def run_tail(self) -> None:
        """Follow the files until `stop` is set or the collector stops taking batches."""
        try:
            self._start_observer()
            backlog = {r.identity for r in self._discover(initial=True)}
            now = time.monotonic()
            last_glob, next_glob, next_stat = now, now + GLOB_INTERVAL, now + STAT_INTERVAL
            while not self._stop.is_set():
                with self._lock:
                    dirty, self._dirty = self._dirty, set()
                    rescan, self._rescan = self._rescan, False
                now = round_start = time.monotonic()
                stat_due = now >= next_stat
                if stat_due:
                    next_stat = now + STAT_INTERVAL
                    self._weather(now)
                # Files whose path now leads elsewhere are read to their end at once.
                todo = self._check_paths(list(self._paths) if stat_due else dirty)
                if todo or rescan:
                    next_glob = min(next_glob, last_glob + RESCAN_GAP)
                todo |= backlog
                if now >= next_glob:
                    self._update_watches()
                    todo.update(r.identity for r in self._discover(initial=False))
                    last_glob, next_glob = now, now + GLOB_INTERVAL
                if stat_due:
                    todo.update(self._readers)
                else:
                    todo.update(self._paths[p] for p in dirty if p in self._paths)
                backlog = set()
                for key in todo:
                    if key in self._readers and self._service(key):
                        backlog.add(key)
                self._flush_idle()
                self._close_unused()
                backlog |= self._found
                self._found.clear()
                if not backlog:
                    self._wake.wait(self._sleep_time(next_glob, next_stat))
                    gap = round_start + READ_GAP - time.monotonic()
                    if gap > 0:
                        self._stop.wait(gap)
                    # Events of the gap are in _dirty: this round takes them.
                    self._wake.clear()
        except _Stopped:
            pass
        finally:
            self._stop_observer()
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()

    # -- watchdog: only hints -----------------------------------------------------------

    def hint(self, event: FileSystemEvent) -> None:
        """Called on the observer thread: remember which paths to look at, wake the loop."""
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else ""
        new_path = event.event_type in ("created", "moved") and (
            event.is_directory or self._s.spec.matches(dest or src)
        )
        with self._lock:
            self._events += 1
            if not event.is_directory:
                self._dirty.add(src)
                if dest:
                    self._dirty.add(dest)
            self._rescan = self._rescan or new_path
        self._wake.set()

    def _weather(self, now: float) -> None:
        """At a stat pass: stop watching through an event storm, watch again after it."""
        with self._lock:
            events, self._events = self._events, 0
        elapsed, self._events_since = now - self._events_since, now
        if self._storm_until:
            if now >= self._storm_until:
                self._storm_until = 0.0
                self._start_observer()  # a failure falls back to polling for good
            return
        if self._observer is None or elapsed <= 0 or events / elapsed <= STORM_EVENTS:
            return
        self._stop_observer()
        self._storm_until = now + STORM_HOLD
        self._context.logger.info(
            "input_file: %.0f file events a second; reading the files every %g s instead "
            "of on each event for the next %g s",
            events / elapsed,
            STAT_INTERVAL,
            STORM_HOLD,
        )

    def _start_observer(self) -> None:
        observer = _observer_class()()
        observer.name = "tailbox-input-file-watch"
        try:
            # Started before any watch is scheduled, so that one directory that cannot
            # be watched fails its own schedule() instead of the whole start().
            observer.start()
        except OSError as e:
            self._fall_back(e)
            return
        self._observer = observer
        self._update_watches()

    def _update_watches(self) -> None:
        observer = self._observer
        if observer is None:
            return
        wanted = self._s.spec.watch_dirs()
        for key in [k for k in self._watches if wanted.get(k[0]) != k[1]]:
            with contextlib.suppress(KeyError):
                observer.unschedule(self._watches.pop(key))
        for directory, recursive in wanted.items():
            if (directory, recursive) in self._watches:
                continue
            try:
                self._watches[directory, recursive] = observer.schedule(
                    self._hints, directory, recursive=recursive, event_filter=_EVENTS
                )
            except (FileNotFoundError, NotADirectoryError):
                continue  # gone since the glob; the next round looks again
            except OSError as e:  # ENOSPC / EMFILE: inotify limits
                self._fall_back(e)
                return

    def _fall_back(self, error: OSError) -> None:
        self._stop_observer()
        self._report(
            f"input_file: file events are unavailable ({error.strerror or error}); "
            f"polling the files every {STAT_INTERVAL:g} s instead"
        )

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        self._watches.clear()
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join()

    # -- files ----------------------------------------------------------------------------

    def _discover(self, initial: bool) -> list[FileReader]:
        """Open the newly matched files; the first pass starts them TailSizeKB before the end."""
        matched = self._s.spec.glob()
        if initial:
            self._states.begin(matched, once=False)  # where checkpoints say to resume
        new: list[FileReader] = []
        for path in matched:
            if path not in self._paths:
                reader = self._open(path, tail=initial)
                if reader is not None:
                    new.append(reader)
        if initial:
            self._states.end_initial()
        # A path that stops matching and comes back later deserves a fresh warning.
        keep = set(matched)
        for path in [p for p in self._warned if p not in keep]:
            del self._warned[path]
        return new

    def _open(self, path: str, tail: bool) -> FileReader | None:
        """A reader for a path not seen before, or None (a known file, or a warned problem)."""
        try:
            st = os.stat(path)
            if stat.S_ISDIR(st.st_mode):
                return None  # globs match directories too
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFileError(f"{path} is not a regular file")
            key = (st.st_dev, st.st_ino)
            if key not in self._readers:
                start = self._states.start_at(key, tail)  # checkpoint, tail, or start
                reader = self._s.lines.open(path, self._s.topic, **start)
                key = reader.identity
                if key in self._readers:
                    reader.close()  # replaced by a known file between stat and open
                elif not self._states.opened(reader):
                    reader.close()  # not the file planned for (or a copy skipped by once)
                    return None
                else:
                    self._readers[key] = reader
                    self._paths[path] = key
                    self._clear_warning(path)
                    stats = self._stats(path)
                    if stats is not None:
                        stats.size, stats.offset = reader.size, reader.offset
                    return reader
            self._paths[path] = key  # the same file as a reader's: a link, or renamed
            return None
        except NotRegularFileError:
            self._warn(path, "is not a regular file (a FIFO, socket or device); skipped")
        except FileNotFoundError:
            if os.path.islink(path):
                self._warn(path, "is a symbolic link to nothing; skipped")
            # Otherwise it vanished since the glob: nothing to say.
        except OSError as e:
            self._warn(path, f"cannot be opened: {e.strerror or e}")
        return None

    def _reopen(self, reader: FileReader, offset: int, align: bool = False) -> FileReader:
        """A new reader of `reader`'s file at `offset` (a copy recognised, a checkpoint
        matched), on a duplicate of its handle: the name it was found under may lead to
        another file by now, or to none (see FileStates). The caller closes `reader`."""
        fd = os.dup(reader.fd)
        try:
            os.lseek(fd, 0, os.SEEK_SET)  # a duplicate shares the file position
            new = type(reader)(reader.path, fd, os.fstat(fd), offset, reader.ctx, align=align)
            if isinstance(new, SplitReader):
                new.setup(self._s.lines)
            else:
                new.max_line_bytes = self._s.lines.max_line_bytes
        except BaseException:
            os.close(fd)
            # The duplicate shared the position: put it back where `reader` reads next.
            os.lseek(reader.fd, reader.offset, os.SEEK_SET)
            raise
        return new

    def _check_paths(self, paths: list[str] | set[str]) -> set[tuple[int, int]]:
        """Forget paths that no longer lead to their file; the identities of those files."""
        changed: set[tuple[int, int]] = set()
        for path in paths:
            key = self._paths.get(path)
            if key is None:
                continue
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is None or (st.st_dev, st.st_ino) != key:
                del self._paths[path]
                changed.add(key)
        return changed

    def _service(self, key: tuple[int, int]) -> bool:
        """Catch a file up (truncation, new data, deletion); True when its budget ran out."""
        reader = self._readers[key]
        if reader.fd < 0 and not self._states.wake(reader):
            return False  # its handle was closed while idle, and it has not changed
        try:
            st = os.fstat(reader.fd)
        except OSError as e:
            self._warn(reader.path, f"cannot be checked: {e.strerror or e}")
            return False
        reader.size = st.st_size
        ready = self._states.ready(reader)  # a new file may be a copy of one already read
        if ready is None:
            return False
        reader = ready
        if st.st_size < reader.offset or self._states.rewritten(reader):
            # Truncated (copytruncate, or `> file`): what was held back belonged to the
            # old content, so it goes out before reading restarts at 0 — unless a copy of
            # that content is there to be read (copytruncate): it has the rest of the line.
            self._found.update(r.identity for r in self._discover(initial=False))
            if not self._states.has_copy(reader):
                self._flush(reader)
            self._states.truncated(reader)
            reader.rewind()
            stats = self._stats(reader.path)
            if stats is not None:
                stats.truncations += 1
        # Deleted (on Windows: delete pending)? Asked before reading, so that whatever was
        # written before the deletion is read before the handle goes.
        gone = is_gone(reader.fd, st)
        more = self._read(reader, budget=READ_BUDGET)
        if not more and gone:
            # Deleted and read to its end: nothing more can come, release the handle.
            self._flush(reader)
            self._drop(reader)
        return more

    def _read(self, reader: FileReader, budget: int | None, end: int | None = None) -> bool:
        """Read chunks until the end (or `end`); True when `budget` bytes ran out first."""
        chunk = self._s.chunk_size
        stats = self._stats(reader.path)
        while budget is None or budget > 0:
            want = chunk if end is None else min(chunk, end - reader.offset)
            if want <= 0:
                return False
            before = reader.offset
            try:
                n, batch = reader.read(want)
            except OSError as e:
                self._warn(reader.path, f"read failed: {e.strerror or e}")
                return False
            if stats is not None and n:
                # The bytes taken: a part line at a chunk's end is read again with the next.
                stats.bytes += reader.offset - before
                stats.offset = reader.offset
                stats.size = max(reader.size, reader.offset)
                stats.split_lines += reader.split_lines
                stats.updated = time.time()
            reader.split_lines = 0
            if batch is not None:
                self._emit(reader, batch, stats)
                if self._states.moved_under(reader):
                    return True  # truncated or rewritten while the batch waited: see _service
            if n < want:
                return False  # a short read: at the end for now
            if budget is not None:
                budget -= n
        return True

    def _flush(self, reader: FileReader) -> None:
        batch = reader.flush_partial()
        if batch is not None:
            self._emit(reader, batch, self._stats(reader.path))

    def _flush_idle(self) -> None:
        """Emit the held-back last line of files that stopped growing FlushTimeoutSecs ago."""
        timeout = self._s.flush_timeout
        for key, reader in list(self._readers.items()):
            if not reader.has_partial or time.monotonic() - reader.last_growth < timeout:
                continue
            # Data may have arrived without an event: read it before calling the file idle.
            more = self._service(key)
            idle = time.monotonic() - reader.last_growth >= timeout
            if not more and idle and key in self._readers:
                self._flush(reader)

    def _emit(self, reader: FileReader, batch: LogBatch, stats: FileStats | None) -> None:
        batch.origin = self._states.sent(reader, batch.origin)  # acknowledged to its ledger
        taken = self._collector.add_batch(batch, reader.ctx)
        if taken and stats is not None:
            stats.lines += len(batch)
        if not taken or self._stop.is_set():
            raise _Stopped

    def _drop(self, reader: FileReader) -> None:
        self._states.dropped(reader)
        reader.close()
        key = reader.identity
        del self._readers[key]
        for path in [p for p, k in self._paths.items() if k == key]:
            del self._paths[path]
        metrics = self._context.metrics
        if metrics is not None and all(r.path != reader.path for r in self._readers.values()):
            metrics.forget_file(reader.path)

    def _close_unused(self) -> None:
        """Close the handles of files idle for CloseUnusedReaderIntervalSec, so a deleted
        file frees its space: reopened when the file grows; forgotten when no matched path
        leads to it any more (renamed out of the globs, or deleted) once read to its end."""
        now = time.monotonic()
        if now < self._unused_check:
            return
        self._unused_check = now + STAT_INTERVAL
        linked = set(self._paths.values())
        for key, reader in list(self._readers.items()):
            idle = (
                now - reader.last_growth >= self._s.close_unused
                and not reader.has_partial
                and reader.offset >= reader.size
            )
            if key not in linked:
                if reader.fd < 0 or idle:
                    self._flush(reader)
                    self._drop(reader)
            elif idle and reader.fd >= 0 and not self._states.pending(reader):
                reader.close()

    def _sleep_time(self, next_glob: float, next_stat: float) -> float:
        soonest = min(next_glob, next_stat)
        for reader in self._readers.values():
            if reader.has_partial:
                soonest = min(soonest, reader.last_growth + self._s.flush_timeout)
        return min(STOP_CHECK, max(0.0, soonest - time.monotonic()))

    # -- metrics and warnings -------------------------------------------------------------

    def _stats(self, path: str) -> FileStats | None:
        metrics = self._context.metrics
        return metrics.file(path) if metrics is not None else None

    def _warn(self, path: str, problem: str) -> None:
        """Report a problem with `path` once (until it changes or clears)."""
        if self._warned.get(path) == problem:
            return
        self._warned[path] = problem
        stats = self._stats(path)
        if stats is not None:
            stats.last_error = problem
        self._report(f"input_file: {path} {problem}", path=path)

    def _clear_warning(self, path: str) -> None:
        if self._warned.pop(path, None) is not None:
            stats = self._stats(path)
            if stats is not None:
                stats.last_error = ""

    def _report(self, message: str, **data: Any) -> None:
        self._context.logger.warning("%s", message)
        self._context.report("warning", message=message, **data)
