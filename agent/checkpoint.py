"""The checkpoint store: one JSON file per pipeline in the state dir, written atomically.

Inputs keep their own per-source state (file identities, fingerprints, the offsets every
flusher has acknowledged) and `attach` a snapshot function under a section name; the
store asks for snapshots and writes them:

- at most every `interval` seconds (1 s) after something `changed()`, on its own thread,
  and once more at `close()` (the pipeline calls it after its last delivery);
- atomically: the new text goes to ``<name>.json.tmp``, is fsynced, the current file
  becomes ``<name>.json.bak`` and the temp file ``<name>.json`` (`os.replace`), then the
  directory is fsynced. A crash at any moment leaves the last good file, the previous
  one, or both;
- on load, a file that is missing or does not parse (a torn or damaged write) gives way
  to the ``.bak`` copy, with a warning: older offsets mean duplicates, never loss.

Entries an input loaded but did not take over (`claim`) are kept as they were — a file
that is not matched today may be again tomorrow — until their ``seen`` time is older
than `prune_after` (7 days).

The format (version 1)::

    {"version": 1, "pipeline": "app", "saved": 1767225600.5,
     "sections": {"input_file": [
        {"dev": 2049, "ino": 1311, "path": "/var/log/app.log", "offset": 52341,
         "fp_len": 1024, "fp": "9c1e…", "seen": 1767225600.5}]}}
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from agent.config import state_dir

__all__ = [
    "FORMAT_VERSION",
    "PRUNE_AFTER",
    "SAVE_INTERVAL",
    "CheckpointStore",
    "checkpoint_path",
]

_log = logging.getLogger("tailbox.checkpoint")

FORMAT_VERSION = 1
SAVE_INTERVAL = 1.0  # seconds between writes at most
PRUNE_AFTER = 7 * 24 * 3600.0  # an entry nobody claimed for this long is forgotten

Snapshot = Callable[[float], list[dict[str, Any]]]


def checkpoint_path(pipeline: str, directory: Path | None = None) -> Path:
    """Where a pipeline's checkpoints live: ``<state dir>/checkpoints/<pipeline>.json``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", pipeline) or "_"
    if safe != pipeline or safe.startswith("."):
        safe = f"{safe.lstrip('.') or '_'}-{zlib.crc32(pipeline.encode('utf-8')):08x}"
    return (directory or state_dir() / "checkpoints") / f"{safe}.json"


def _valid_sections(data: Any) -> dict[str, list[dict[str, Any]]]:
    """The sections of a loaded file; ValueError when it is not a version-1 checkpoint file."""
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a version 1 checkpoint file")
    sections = data.get("sections")
    if not isinstance(sections, dict):
        raise ValueError("no sections")
    for name, entries in sections.items():
        if not isinstance(name, str) or not isinstance(entries, list):
            raise ValueError("a section is not a list")
        if not all(isinstance(e, dict) for e in entries):
            raise ValueError("an entry is not an object")
    return sections


class CheckpointStore:
    """Loads once, then writes the attached inputs' snapshots; safe to use from any thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        pipeline: str = "",
        interval: float = SAVE_INTERVAL,
        prune_after: float = PRUNE_AFTER,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.backup = self.path.with_name(self.path.name + ".bak")
        self._temp = self.path.with_name(self.path.name + ".tmp")
        self.pipeline = pipeline
        self.interval = interval
        self.prune_after = prune_after
        self._report = report
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._loaded: dict[str, list[dict[str, Any]]] | None = None
        self._claimed: set[int] = set()
        self._providers: dict[int, tuple[str, Snapshot]] = {}
        self._next_token = 0
        self._dirty = False
        self._closed = False
        self._main_ok = True  # whether the file at `path` may become the backup
        self._thread: threading.Thread | None = None
        self._last_save = 0.0
        self._failing = False
        self.existed = False  # a checkpoint file (or its backup) was there when loading
        self.saved_at: float | None = None  # when the loaded file was written (epoch seconds)
        self.recovered = False  # the main file was unreadable; its backup was used
        self.saves = 0

    @classmethod
    def for_pipeline(
        cls, pipeline: str, report: Callable[[str], None] | None = None
    ) -> CheckpointStore:
        return cls(checkpoint_path(pipeline), pipeline=pipeline, report=report)

    @property
    def _name(self) -> str:
        return self.pipeline or self.path.stem

    # -- loading ---------------------------------------------------------------------

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        if self._loaded is not None:
            return self._loaded
        problem = ""
        for candidate in (self.path, self.backup):
            try:
                raw = candidate.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                problem = problem or f"{candidate}: {e.strerror or e}"
                self.existed = True
                continue
            self.existed = True
            try:
                data = orjson.loads(raw)
                sections = _valid_sections(data)
            except (ValueError, orjson.JSONDecodeError) as e:
                problem = problem or f"{candidate} is damaged ({e})"
                if candidate == self.path:
                    self._main_ok = False
                continue
            saved = data.get("saved")
            self.saved_at = float(saved) if isinstance(saved, int | float) else None
            if candidate != self.path:
                self.recovered = True
                self._warn(
                    f"checkpoints of pipeline {self._name}: {problem or 'main file missing'}; "
                    f"using the previous copy {candidate.name} (some logs may be read twice)"
                )
            self._loaded = sections
            return sections
        if problem:
            self._warn(
                f"checkpoints of pipeline {self._name}: {problem}, and no "
                "usable previous copy; files are read as if for the first time"
            )
        self._loaded = {}
        return self._loaded

    def entries(self, section: str) -> list[dict[str, Any]]:
        """The loaded entries of `section` that no input has claimed yet."""
        with self._lock:
            return [e for e in self._load().get(section, []) if id(e) not in self._claimed]

    def claim(self, entry: dict[str, Any]) -> None:
        """An input took `entry` over: its snapshot speaks for it from now on."""
        with self._lock:
            self._claimed.add(id(entry))

    # -- writing ---------------------------------------------------------------------

    def attach(self, section: str, snapshot: Snapshot) -> int:
        """Have `snapshot(now)` (a list of entries) saved under `section`; returns a token."""
        with self._lock:
            self._load()
            token = self._next_token
            self._next_token += 1
            self._providers[token] = (section, snapshot)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"tailbox-{self.pipeline}-checkpoints", daemon=True
                )
                self._thread.start()
            return token

    def detach(self, token: int) -> None:
        with self._lock:
            self._providers.pop(token, None)

    def changed(self) -> None:
        """Something to save: written within `interval` seconds."""
        with self._lock:
            if not self._dirty:
                self._dirty = True
                self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._dirty and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                wait = self._last_save + self.interval - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    if self._closed:
                        return
            self.save()

    def _collect(self, now: float) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            providers = list(self._providers.values())
            loaded = self._load()
            claimed = set(self._claimed)
        sections: dict[str, list[dict[str, Any]]] = {}
        keys: set[tuple[Any, ...]] = set()
        for section, snapshot in providers:
            for entry in snapshot(now):
                sections.setdefault(section, []).append(entry)
                keys.add((section, entry.get("dev"), entry.get("ino"), entry.get("fp")))
        for section, entries in loaded.items():
            for entry in entries:
                if id(entry) in claimed:
                    continue
                seen = entry.get("seen")
                if not isinstance(seen, int | float) or now - seen > self.prune_after:
                    continue
                if (section, entry.get("dev"), entry.get("ino"), entry.get("fp")) in keys:
                    continue
                sections.setdefault(section, []).append(entry)
        return sections

    def save(self) -> bool:
        """Write the current snapshots now; False (and a warning) when the write failed."""
        with self._save_lock:
            with self._lock:
                self._dirty = False
                if not self._providers:
                    return True  # nothing of ours to write: leave the file alone
            now = time.time()
            try:
                data = {
                    "version": FORMAT_VERSION,
                    "pipeline": self.pipeline,
                    "saved": now,
                    "sections": self._collect(now),
                }
                self._write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
            except Exception as e:
                with self._lock:
                    self._dirty = True
                if not self._failing:
                    self._failing = True
                    reason = e.strerror if isinstance(e, OSError) and e.strerror else e
                    self._warn(f"checkpoints of pipeline {self._name} not saved: {reason}")
                _log.debug("saving %s failed", self.path, exc_info=True)
                return False
            finally:
                self._last_save = time.monotonic()
            if self._failing:
                self._failing = False
                _log.info("checkpoints of pipeline %s are saved again", self._name)
            self.saves += 1
            return True

    def _write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if self._main_ok:
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path, self.backup)
        os.replace(self._temp, self.path)
        self._main_ok = True
        _fsync_dir(self.path.parent)

    def close(self) -> None:
        """Stop the writer thread and write a last time (when an input is attached)."""
        with self._lock:
            self._closed = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        self.save()

    def _warn(self, message: str) -> None:
        _log.warning("%s", message)
        if self._report is not None:
            try:
                self._report(message)
            except Exception:
                _log.exception("reporting a checkpoint problem failed")


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; Windows has no directory handles for it)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
