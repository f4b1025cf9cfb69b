"""input_file's checkpoints and file recognition: ledgers, fingerprints, copies, restarts.

**Ledger.** Each file (more exactly: each generation of a file's content — a truncation
starts a new one) has a `Ledger`. Every batch the tailer hands over is registered with it
first (`sent`); the pipeline's `agent.acks.AckCounter` calls `done` once every flusher has
acknowledged all of the batch's logs. The committed offset is the end of the longest run
of acknowledged batches from the start: the lowest position not yet acknowledged, so an
aggregator that splits one file across groups flushed at different times cannot move it
past a line that is still on its way.

**Store.** `FileStates.snapshot` turns the ledgers into checkpoint entries (identity,
fingerprint, committed offset, path) that `agent.checkpoint.CheckpointStore` writes.

**Restart** (`begin`): every matched file is compared with the entries — first by
identity *and* fingerprint (prefix-compared while the file was smaller than 1 KiB),
then by a full 1 KiB fingerprint alone (a file renamed while the agent was stopped, or a
copytruncate copy of a file already read): reading resumes at the committed offset. The
same identity with another fingerprint is a reused inode: read from 0. A file the
checkpoints do not know is read from its start when it changed after they were written
(it appeared while the agent was stopped), else — on a first start, or a file that was
only now added to FilePaths — from TailSizeKB before its end. With `once` there is no
tail: unknown files are read from their start.

**Copies while running.** A file found after the start is not read until its first KiB
says what it is: the same first KiB as a file being read → a copy (`cp`, logrotate's
`copy`/`copytruncate` before the truncation): not read while the original is; the same
as a file just truncated or gone → the copy of that content (copytruncate): it takes
over the old content's ledger and is read from where the original had got to — through
the handle held since it was found, as the next rotation may have renamed it on (and put
the next copy under its name) or deleted it before a lagging reader got to it; the start
of such a KiB → a copy still being written: wait (at most `PENDING_MAX` s without growth);
anything else → a new file, read from 0. Only full 1 KiB fingerprints identify a copy
(as Filebeat's fingerprint mode): smaller files are read again when copied.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.acks import OrderedLedger

from . import _reader
from ._identity import FP_BYTES, digest, fingerprint_matches, read_head
from ._reader import FileOrigin, FileReader
from ._windows import is_gone

__all__ = ["PENDING_MAX", "RETIRED_TTL", "SECTION", "FileStates", "Ledger"]

SECTION = "input_file"  # the checkpoint store's section for every input_file of a pipeline
PENDING_MAX = 5.0  # seconds a file that may be a copy in progress waits without growing
RETIRED_TTL = 600.0  # seconds a truncated or vanished file's content waits for its copy

Key = tuple[int, int]


class Ledger(OrderedLedger):
    """The acknowledged position in one generation of one file's content. Thread-safe."""

    __slots__ = (
        "align",
        "committed",
        "dev",
        "fingerprint",
        "ino",
        "path",
    )

    def __init__(
        self,
        key: Key,
        path: str,
        committed: int,
        *,
        align: bool = False,
        notify: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(notify)
        self.dev, self.ino = key
        self.path = path
        self.committed = committed
        # The committed offset may fall inside a line (a TailSizeKB start not read yet).
        self.align = align
        self.fingerprint: tuple[int, str] = (0, digest(b""))

    def rebind(self, key: Key, path: str) -> None:
        """The content now lives in another file (a copy): follow it."""
        self.dev, self.ino = key
        self.path = path

    def sent(self, origin: FileOrigin) -> FileOrigin:
        """`origin` is handed to the pipeline: the same origin, reporting to this ledger."""
        origin = dataclasses.replace(origin, ledger=self)
        with self._lock:
            if not self._pending and (origin.start > self.committed or self.align):
                # Nothing on its way, and no line between here and there: skipped bytes
                # (the rest of a line at a tail start, the LF after a flushed partial line).
                self.committed = origin.start
                self.align = False
            self._pending.add(origin)
        return origin

    def _commit(self, origin: FileOrigin) -> None:
        self.committed = origin.end

    def entry(self, now: float) -> dict[str, Any]:
        with self._lock:
            committed, align = self.committed, self.align
        fp_len, fp = self.fingerprint
        entry: dict[str, Any] = {
            "dev": self.dev,
            "ino": self.ino,
            "path": self.path,
            "offset": committed,
            "fp_len": fp_len,
            "fp": fp,
            "seen": round(now, 3),
        }
        if align:
            entry["align"] = True
        return entry


@dataclass(slots=True, eq=False)
class _State:
    path: str
    ledger: Ledger | None = None
    head: bytes = b""
    pending: str = ""  # "": reading; "new": not classified yet; "copy": of a file being read
    since: float = 0.0  # monotonic time the pending file's size last changed
    size: int = -1  # its size then
    stale: bool = False  # the head changed: the content was replaced (until `truncated`)
    emitted: int = 0  # where the lines handed over so far end (a held-back line starts)


@dataclass(slots=True, eq=False)
class _Retired:
    """The content a truncated or vanished file had: a copy of it may turn up."""

    head: bytes
    ledger: Ledger | None
    offset: int  # how far it had been read
    key: Key
    until: float  # monotonic expiry
    # Found again under the same identity, it is the same file (it was forgotten, not
    # deleted or truncated): then even a head under 1 KiB identifies it.
    same_file: bool = False


@dataclass(frozen=True, slots=True)
class _Decision:
    kind: str  # "resume" | "zero" | "tail" | "copy" | "new"
    offset: int = 0
    align: bool = False
    entry: dict[str, Any] | None = None


def _entry_ok(entry: dict[str, Any]) -> bool:
    ints = ("dev", "ino", "offset", "fp_len")
    return (
        all(isinstance(entry.get(k), int) and not isinstance(entry.get(k), bool) for k in ints)
        and isinstance(entry.get("fp"), str)
        and entry["offset"] >= 0
        and 0 <= entry["fp_len"] <= FP_BYTES
    )


class FileStates:
    """The per-file checkpoint state of one Tailer; methods run on the tailer's thread,
    except `snapshot` (the store's writer thread)."""

    def __init__(
        self,
        store: Any,
        readers: dict[Key, FileReader],
        paths: dict[str, Key],
        reopen: Callable[..., FileReader],  # (reader, offset, align=False) -> FileReader
        tail_bytes: int,
        metrics: Any = None,
    ) -> None:
        self._store = store
        self._metrics = metrics  # PipelineMetrics: each file's `committed`
        self._readers = readers  # the Tailer's, by identity
        self._paths = paths  # the Tailer's, path -> identity
        # A reader of the same open file at another offset: through the handle held, never
        # by the name it was found under, which may lead to another file by now (logrotate
        # renames a copy on, and puts the next copy there, before a lagging reader gets to
        # it) or to none (the copy compressed and deleted).
        self._reopen = reopen
        self._tail_bytes = tail_bytes
        self._lock = threading.Lock()  # guards _states and _retired against `snapshot`
        self._states: dict[Key, _State] = {}
        self._full: dict[bytes, set[Key]] = {}  # full 1 KiB heads of files being read
        self._indexed: dict[Key, bytes] = {}  # the head each key is indexed under
        self._retired: list[_Retired] = []
        self._plan: dict[Key, _Decision] | None = None
        self._decided: dict[Key, _Decision] = {}
        self._once = False
        self._token: int | None = None
        self._leftover: list[dict[str, Any]] = []  # checkpoint entries no file took yet

    # -- starting ---------------------------------------------------------------------

    def begin(self, paths: list[str], once: bool) -> None:
        """Plan where each file matched at the start resumes (see the module docstring)."""
        self._once = once
        self._plan = self._make_plan(paths)
        if self._store is not None and self._token is None:
            self._token = self._store.attach(SECTION, self.snapshot)

    def end_initial(self) -> None:
        """The initial discovery is over: save at once, so the next start knows these files.

        Entries no file took (a file renamed while the discovery ran, say) are still
        matched when a file turns up later."""
        self._plan = None
        if self._store is not None:
            self._leftover = [e for e in self._store.entries(SECTION) if _entry_ok(e)]
            self._store.save()

    def _make_plan(self, paths: list[str]) -> dict[Key, _Decision]:
        store = self._store
        entries = [e for e in store.entries(SECTION) if _entry_ok(e)] if store is not None else []
        existed = bool(store is not None and store.existed)
        saved_at = store.saved_at if store is not None else None
        files: list[tuple[Key, os.stat_result, bytes]] = []
        seen: set[Key] = set()
        for path in paths:
            try:
                fd, st = _reader.open_file(path)
            except OSError:
                continue  # the tailer reports it when it opens the file
            try:
                head = read_head(fd)
            except OSError:
                continue
            finally:
                os.close(fd)
            key = (st.st_dev, st.st_ino)
            if key not in seen:
                seen.add(key)
                files.append((key, st, head))

        by_key: dict[Key, list[dict[str, Any]]] = {}
        by_fp: dict[str, list[dict[str, Any]]] = {}
        for e in entries:
            by_key.setdefault((e["dev"], e["ino"]), []).append(e)
            if e["fp_len"] == FP_BYTES:
                by_fp.setdefault(e["fp"], []).append(e)
        taken: set[int] = set()
        plan: dict[Key, _Decision] = {}

        def resume(key: Key, st: os.stat_result, e: dict[str, Any]) -> None:
            taken.add(id(e))  # claimed in the store when the file is opened
            if st.st_size < e["offset"]:
                plan[key] = _Decision("zero", entry=e)  # truncated while we were away
            else:
                plan[key] = _Decision("resume", e["offset"], bool(e.get("align")), e)

        # 1. Same identity, same fingerprint: the file itself.
        for key, st, head in files:
            for e in by_key.get(key, ()):
                if id(e) not in taken and fingerprint_matches(head, e["fp_len"], e["fp"]):
                    resume(key, st, e)
                    break
        # 2. A full fingerprint alone: renamed while stopped, or a copy of what was read.
        for key, st, head in files:
            if key not in plan and len(head) == FP_BYTES:
                for e in by_fp.get(digest(head), ()):
                    if id(e) not in taken:
                        resume(key, st, e)
                        break
        # 3. The rest.
        resumed_heads = {head for key, _, head in files if key in plan and len(head) == FP_BYTES}
        for key, st, head in files:
            if key in plan:
                continue
            if head in resumed_heads:
                plan[key] = _Decision("copy")  # of a file that is read (plain cp)
            elif key in by_key or self._once:
                plan[key] = _Decision("zero")  # a reused inode; or a backfill
            elif existed and (saved_at is None or st.st_mtime >= saved_at - 1):
                plan[key] = _Decision("zero")  # appeared or changed while we were away
            else:
                plan[key] = _Decision("tail")  # first start, or newly added to FilePaths
        # Entries of files that still exist (outside the globs now) stay fresh.
        now = time.time()
        for e in entries:
            if id(e) in taken:
                continue
            try:
                st = os.stat(e["path"])
            except (OSError, ValueError):
                continue
            if (st.st_dev, st.st_ino) == (e["dev"], e["ino"]):
                e["seen"] = round(now, 3)
        return plan

    # -- opening ----------------------------------------------------------------------

    def start_at(self, key: Key, tail: bool) -> dict[str, Any]:
        """How to open the file with identity `key` (keyword arguments of FileReader.open)."""
        if self._plan is not None:
            decision = self._plan.pop(key, None)
            if decision is None:  # appeared since the plan was made: a new file
                decision = _Decision("zero" if self._once else "new")
        else:
            decision = _Decision("new")
        self._decided[key] = decision
        if decision.kind == "resume":
            return {"offset": decision.offset, "align": decision.align}
        if decision.kind == "tail":
            return {"tail_bytes": self._tail_bytes}
        return {}

    def opened(self, reader: FileReader) -> bool:
        """Take a reader opened as `start_at` said; False if the file is not the one decided on."""
        key = reader.identity
        decision = self._decided.pop(key, None)
        self._decided.clear()
        if decision is None:
            return False  # replaced between the stat and the open: the next glob retries
        if decision.kind == "copy" and self._once:
            return False  # a copy of a file this backfill reads: skipped
        head = read_head(reader.fd)
        entry = decision.entry
        if entry is not None:
            if decision.kind == "resume" and not fingerprint_matches(
                head, entry["fp_len"], entry["fp"]
            ):
                # Changed since the plan (rotated while we started): the next glob finds it
                # as a new file, and the entry stays free for a copy of that content.
                return False
            if self._store is not None:
                self._store.claim(entry)  # this file's ledger speaks for it now
        state = _State(reader.path, head=head)
        now = time.monotonic()
        if decision.kind in ("new", "copy"):
            state.pending = decision.kind
            state.since, state.size = now, reader.size
        else:
            if decision.kind == "resume":
                committed, align = decision.offset, decision.align
            elif decision.kind == "tail":
                committed, align = reader.offset, reader.offset > 0
            else:
                committed, align = reader.offset, False
            state.ledger = self._ledger(key, reader.path, committed, align, head)
            state.emitted = max(committed, reader.offset)
            if decision.kind == "resume" and not align:
                _skip_lf_after_partial(reader)
        with self._lock:
            self._states[key] = state
        if not state.pending:
            self._index(key, head)
        return True

    def _ledger(
        self, key: Key, path: str, committed: int, align: bool, head: bytes
    ) -> Ledger | None:
        if self._store is None:
            return None
        store, metrics = self._store, self._metrics

        def notify() -> None:  # on a flusher thread, after the committed offset moved
            store.changed()
            stats = metrics.files.get(ledger.path) if metrics is not None else None
            if stats is not None:
                stats.committed = ledger.committed

        ledger = Ledger(key, path, committed, align=align, notify=notify)
        ledger.fingerprint = (len(head), digest(head))
        return ledger

    def pending(self, reader: FileReader) -> bool:
        state = self._states.get(reader.identity)
        return state is not None and bool(state.pending)

    # -- reading ----------------------------------------------------------------------

    def ready(self, reader: FileReader) -> FileReader | None:
        """The reader to read with (it may be replaced by one at another offset), or None
        while the file waits to be recognised."""
        key = reader.identity
        state = self._states.get(key)
        if state is None or not state.pending:
            return reader
        if self._once:
            return None
        try:
            head = read_head(reader.fd)
        except OSError:
            return None
        now = time.monotonic()
        if reader.size != state.size:
            state.size, state.since = reader.size, now
        if state.pending == "copy":
            if len(head) == FP_BYTES and self._full.get(head, set()) - {key}:
                return None  # the original is still read: its lines come from there
            state.pending = "new"
        if not head:
            return None  # empty: nothing to tell, nothing to read
        entry = self._leftover_match(key, head)
        if entry is not None:
            return self._resume_entry(reader, state, entry, head)
        waited = now - state.since >= PENDING_MAX
        if len(head) == FP_BYTES and self._full.get(head, set()) - {key}:
            state.pending = "copy"
            return None
        retired = self._retired_match(head, key)
        if retired is not None:
            if reader.size < retired.offset and not waited:
                return None  # the copy is still being written
            return self._adopt(reader, state, retired, min(retired.offset, reader.size))
        if len(head) < FP_BYTES and not waited and self._may_become_copy(head):
            return None
        # A new file: read from its start.
        state.pending = ""
        state.head = head
        state.emitted = reader.offset
        state.ledger = self._ledger(key, reader.path, reader.offset, False, head)
        self._index(key, head)
        return reader

    def _leftover_match(self, key: Key, head: bytes) -> dict[str, Any] | None:
        for e in self._leftover:
            if (e["dev"], e["ino"]) == key and fingerprint_matches(head, e["fp_len"], e["fp"]):
                return e
        if len(head) == FP_BYTES:
            fp = digest(head)
            for e in self._leftover:
                if e["fp_len"] == FP_BYTES and e["fp"] == fp:
                    return e
        return None

    def _resume_entry(
        self, reader: FileReader, state: _State, entry: dict[str, Any], head: bytes
    ) -> FileReader | None:
        """A file found after the start that the checkpoints know: resume it there."""
        key = reader.identity
        offset = entry["offset"] if reader.size >= entry["offset"] else 0
        align = bool(entry.get("align")) and offset == entry["offset"]
        if offset != reader.offset or align:
            try:
                replacement = self._reopen(reader, offset, align)
            except OSError:
                return None
            reader.close()
            self._readers[key] = replacement
            reader = replacement
        self._leftover.remove(entry)
        if self._store is not None:
            self._store.claim(entry)
        state.pending = ""
        state.head = head
        state.emitted = offset
        state.ledger = self._ledger(key, reader.path, offset, align, head)
        if offset and not align:
            _skip_lf_after_partial(reader)
        self._index(key, head)
        return reader

    def _may_become_copy(self, head: bytes) -> bool:
        if any(k.startswith(head) for k in self._full):
            return True
        return any(
            len(r.head) == FP_BYTES and r.head.startswith(head) for r in self._live_retired()
        )

    def _retired_match(self, head: bytes, key: Key) -> _Retired | None:
        for r in self._live_retired():
            if r.key == key:
                if r.same_file and head.startswith(r.head):
                    return r  # forgotten (renamed away and back), found again
            elif len(head) == FP_BYTES and r.head == head:
                return r  # a copy of that content
        return None

    def _live_retired(self) -> list[_Retired]:
        now = time.monotonic()
        if any(r.until <= now for r in self._retired):
            with self._lock:
                self._retired = [r for r in self._retired if r.until > now]
        return self._retired

    def _adopt(
        self, reader: FileReader, state: _State, retired: _Retired, offset: int
    ) -> FileReader | None:
        """`reader`'s file is a copy of `retired`'s content: continue where that was read."""
        key = reader.identity
        if offset != reader.offset:
            try:
                replacement = self._reopen(reader, offset)
            except OSError:
                return None
            reader.close()
            self._readers[key] = replacement
            reader = replacement
        with self._lock:
            if retired in self._retired:
                self._retired.remove(retired)
        if retired.ledger is not None:
            retired.ledger.rebind(key, reader.path)
        state.pending = ""
        state.head = retired.head
        state.emitted = reader.offset
        state.ledger = retired.ledger
        self._index(key, retired.head)
        return reader

    def sent(self, reader: FileReader, origin: object) -> object:
        """The origin to hand over with a batch: registered with the file's ledger."""
        state = self._states.get(reader.identity)
        if state is None or not isinstance(origin, FileOrigin):
            return origin
        state.emitted = origin.end
        if len(state.head) < FP_BYTES and origin.end > len(state.head) and not state.pending:
            # Read past the fingerprint: take it now (a rotation may come before the next look).
            self._check_head(reader, state)
        if state.ledger is None:
            return origin
        return state.ledger.sent(origin)

    def rewritten(self, reader: FileReader) -> bool:
        """Whether the file's first bytes changed (truncated and written again faster than a
        stat could see it shrink — even to the same size, within one mtime tick); keeps the
        fingerprint growing up to 1 KiB. One pread of 1 KiB per look at the file."""
        state = self._states.get(reader.identity)
        if state is None or state.pending:
            return False
        return state.stale or self._check_head(reader, state)

    def _check_head(self, reader: FileReader, state: _State) -> bool:
        try:
            head = read_head(reader.fd)
        except OSError:
            return False
        old = state.head
        if head[: len(old)] != old:
            state.stale = True
            return True
        if len(head) > len(old):
            state.head = head
            if state.ledger is not None:
                state.ledger.fingerprint = (len(head), digest(head))
            self._index(reader.identity, head)
        return False

    def moved_under(self, reader: FileReader) -> bool:
        """Whether the file was truncated or replaced since it was last checked (a batch
        may have waited long under back-pressure): reading on would read the new content
        at the old offset."""
        state = self._states.get(reader.identity)
        if state is None or state.pending or reader.fd < 0:
            return False
        try:
            st = os.fstat(reader.fd)
        except OSError:
            return False
        return st.st_size < reader.offset or self.rewritten(reader)

    def has_copy(self, reader: FileReader) -> bool:
        """Whether a file found since (not read yet) starts with this file's first KiB:
        logrotate's copytruncate copies before it truncates."""
        state = self._states.get(reader.identity)
        if state is None or len(state.head) != FP_BYTES:
            return False
        for key, other in list(self._states.items()):
            if key == reader.identity or not other.pending:
                continue
            candidate = self._readers.get(key)
            if candidate is None or candidate.fd < 0:
                continue
            try:
                if read_head(candidate.fd) == state.head:
                    return True
            except OSError:
                continue
        return False

    def truncated(self, reader: FileReader) -> None:
        """Call before `reader.rewind()`: the content read so far is retired (a copy of it
        may still turn up), a new generation starts at 0."""
        key = reader.identity
        state = self._states.get(key)
        if state is None:
            return
        # A line still held back is read whole from the copy, if one turns up.
        self._retire(key, state, state.emitted if reader.has_partial else reader.offset)
        state.head = b""
        state.stale = False
        state.emitted = 0
        state.ledger = self._ledger(key, reader.path, 0, False, b"")

    def dropped(self, reader: FileReader) -> None:
        """The tailer forgets the file (deleted, or out of the globs): keep its content's
        ledger a while for a copy, then let it go."""
        key = reader.identity
        with self._lock:
            state = self._states.pop(key, None)
        if state is not None:
            self._retire(key, state, reader.offset, same_file=not _deleted(reader))

    def _retire(self, key: Key, state: _State, offset: int, same_file: bool = False) -> None:
        self._unindex(key, state.head)
        if state.pending or not state.head:
            return
        if len(state.head) == FP_BYTES or same_file:
            retired = _Retired(
                state.head, state.ledger, offset, key, time.monotonic() + RETIRED_TTL, same_file
            )
            with self._lock:
                self._retired.append(retired)

    def _index(self, key: Key, head: bytes) -> None:
        old = self._indexed.get(key)
        if old == head:
            return
        if old is not None:
            self._unindex(key, old)
        if len(head) == FP_BYTES:
            self._full.setdefault(head, set()).add(key)
            self._indexed[key] = head

    def _unindex(self, key: Key, head: bytes) -> None:
        if self._indexed.get(key) == head:
            del self._indexed[key]
        keys = self._full.get(head)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._full[head]

    # -- idle handles -----------------------------------------------------------------

    def wake(self, reader: FileReader) -> bool:
        """Reopen a reader whose handle was closed for idleness once its file changed."""
        key = reader.identity
        state = self._states.get(key)
        candidates = [state.path] if state is not None else []
        if reader.path not in candidates:
            candidates.append(reader.path)
        for path in candidates:
            if self._paths.get(path) == key:
                break
        else:
            candidates = [p for p, k in self._paths.items() if k == key]
        for path in candidates:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) != key:
                continue
            if st.st_size == reader.offset:
                return False  # still idle
            try:
                fd, st = _reader.open_file(path)
            except OSError:
                return False
            if (st.st_dev, st.st_ino) != key:
                os.close(fd)
                continue
            os.lseek(fd, reader.offset, os.SEEK_SET)
            reader.fd = fd
            if state is not None:
                state.path = path
            return True
        return False

    # -- the checkpoint store -----------------------------------------------------------

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        """Checkpoint entries for every file being read and every retired content."""
        mono = time.monotonic()
        with self._lock:
            ledgers = [s.ledger for s in self._states.values() if s.ledger is not None]
            ledgers += [r.ledger for r in self._retired if r.ledger is not None and r.until > mono]
        unique = {id(ledger): ledger for ledger in ledgers}
        return [ledger.entry(now) for ledger in unique.values()]

    def ledger(self, key: Key) -> Ledger | None:
        state = self._states.get(key)
        return state.ledger if state is not None else None


def _deleted(reader: FileReader) -> bool:
    """Whether the reader's file has no name left (or cannot be asked: a closed handle)."""
    if reader.fd < 0:
        return False  # closed while idle: it was not deleted then
    try:
        st = os.fstat(reader.fd)
    except OSError:
        return True
    return is_gone(reader.fd, st)


def _skip_lf_after_partial(reader: FileReader) -> None:
    """A checkpoint after a line that was sent without its newline (FlushTimeoutSecs):
    a newline that follows ends that line, it is not an empty line of its own."""
    if reader.offset <= 0 or type(reader) is not FileReader:
        return
    try:
        pread = getattr(os, "pread", None)
        if pread is not None:
            before = pread(reader.fd, 1, reader.offset - 1)
        else:
            os.lseek(reader.fd, reader.offset - 1, os.SEEK_SET)
            before = os.read(reader.fd, 1)
            os.lseek(reader.fd, reader.offset, os.SEEK_SET)
    except OSError:
        return
    if before and before != b"\n":  # a partial line's end (its CR, if any, included)
        reader._skip_lf = True
