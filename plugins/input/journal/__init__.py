"""input_journal: reads the systemd journal through `journalctl --output=json --follow`.

Each entry becomes a Log (MESSAGE → content, PRIORITY → level, the chosen fields, the
timestamps in microseconds); each chunk of journalctl's output is handed over as one
list of Logs whose `origin` carries the cursor of its last entry (`_ledger.py`), so the
checkpoint's cursor advances only once every flusher has acknowledged what precedes
it, and a restart resumes after it.

iLogtail's service_journal keys: Units, Kernel, Identifiers, MatchPatterns,
JournalPaths, SeekPosition, CursorSeekFallback (see `_command.py` for how they
combine). Linux only: plugins.yml lists it in the `linux` section.
"""

from __future__ import annotations

import shutil
import threading
from typing import ClassVar

import orjson

from agent.plugin import Collector, ConfigError, Context, Param, Plugin, register

from ._command import (
    check_fields,
    check_identifiers,
    check_patterns,
    check_priority,
    check_units,
    matches,
    priority_range,
    system_journal_present,
)
from ._entries import EntryDecoder
from ._ledger import SECTION, CursorLedger, claim_cursor
from ._reader import JournalReader, Settings

__all__ = ["DEFAULT_FIELDS", "JournalInput"]

DEFAULT_FIELDS = ["_SYSTEMD_UNIT", "_PID", "_HOSTNAME", "SYSLOG_IDENTIFIER"]


def _no_empty(value: list[str]) -> str | None:
    return "paths must not be empty strings" if any(not p.strip() for p in value) else None


@register
class JournalInput(Plugin):
    type_name = "input_journal"
    summary = "Reads the systemd journal (journalctl); each entry becomes a log."
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "JournalPaths",
            "list",
            [],
            items="str",
            description=(
                "Journal files (globs allowed) or one directory of them to read instead of "
                "the system journal, like `journalctl --file` / `--directory`. Empty: the "
                "system journal."
            ),
            check=_no_empty,
        ),
        Param(
            "SeekPosition",
            "str",
            "tail",
            description=(
                "Where reading starts when the checkpoints hold no cursor for this input: "
                "`tail` (new entries only), `head` (everything the journal keeps), or "
                "`cursor` (after `Cursor`; without one, at CursorSeekFallback). Afterwards "
                "reading resumes after the acknowledged cursor. Running once reads from "
                "the head."
            ),
            choices=("tail", "head", "cursor"),
        ),
        Param(
            "Cursor",
            "str",
            "",
            description=(
                "With SeekPosition `cursor`: a journal cursor (as `journalctl --show-cursor` "
                "prints it) to start after."
            ),
        ),
        Param(
            "CursorSeekFallback",
            "str",
            "tail",
            description=(
                "Where reading starts when SeekPosition is `cursor` and there is none, and "
                "when journalctl refuses the cursor to resume after (say, a damaged one)."
            ),
            choices=("tail", "head"),
        ),
        Param(
            "Units",
            "list",
            [],
            items="str",
            description=(
                "Only entries of these systemd units (as `journalctl -u`: the unit's own "
                "messages, its coredumps, systemd's messages about it); a name without a "
                "unit type is a `.service`. Units, Identifiers and MatchPatterns add up "
                "(any one matches); all empty: every entry."
            ),
            check=check_units,
        ),
        Param(
            "Kernel",
            "bool",
            True,
            description="With Units: kernel messages (`_TRANSPORT=kernel`) too, as iLogtail.",
        ),
        Param(
            "Identifiers",
            "list",
            [],
            items="str",
            description="Only entries with these syslog identifiers (`journalctl -t`).",
            check=check_identifiers,
        ),
        Param(
            "MatchPatterns",
            "list",
            [],
            items="str",
            description="Only entries with these field values, each `FIELD=value` (`_UID=0`).",
            check=check_patterns,
        ),
        Param(
            "Priority",
            "str",
            "",
            description=(
                "Only entries of this priority or more important (`err`: 0..3), or of a "
                "range (`crit..warning`), as `journalctl -p`; numbers 0..7 or names. "
                "Applies on top of the other filters. Empty: all."
            ),
            check=check_priority,
        ),
        Param(
            "Fields",
            "list",
            list(DEFAULT_FIELDS),
            items="str",
            description=(
                "Journal fields kept in each log, besides MESSAGE (as `content`), PRIORITY "
                "(as `level`) and the timestamps. `*`: every field (as iLogtail; journal "
                "entries carry 20-30)."
            ),
            check=check_fields,
        ),
        Param("Topic", "str", "", description="The topic of the logs' groups."),
    )

    JournalPaths: list[str]
    SeekPosition: str
    Cursor: str
    CursorSeekFallback: str
    Units: list[str]
    Kernel: bool
    Identifiers: list[str]
    MatchPatterns: list[str]
    Priority: str
    Fields: list[str]
    Topic: str

    def __init__(self) -> None:
        self._context = Context()

    def check_config(self) -> None:
        if self.Cursor and self.SeekPosition != "cursor":
            raise ConfigError("is used only with SeekPosition: cursor", key="Cursor")

    @classmethod
    def available(cls) -> bool:
        """Whether this machine has a system journal to read (journalctl and journal files)."""
        return shutil.which("journalctl") is not None and system_journal_present()

    def init(self, context: Context) -> None:
        self._context = context

    def run(self, collector: Collector, stop: threading.Event, once: bool) -> None:
        journalctl = shutil.which("journalctl")
        if journalctl is None:
            self._fail(
                "journalctl was not found (PATH); it comes with systemd. Install it, or "
                "remove input_journal from the pipeline"
            )
            return
        if not self.JournalPaths and not system_journal_present():
            self._fail(
                "this machine keeps no systemd journal (no journal files under "
                "/run/log/journal or /var/log/journal); nothing to read. Point JournalPaths "
                "at journal files, or remove input_journal from the pipeline"
            )
            return
        key = self._key()
        store = self._context.checkpoints
        cursor = claim_cursor(store, key)
        if cursor is None and self.SeekPosition == "cursor" and self.Cursor:
            cursor = self.Cursor
        ledger = None
        if store is not None:
            ledger = CursorLedger(key, cursor, notify=store.changed)
            store.attach(SECTION, ledger.snapshot)
        seek = self.CursorSeekFallback if self.SeekPosition == "cursor" else self.SeekPosition
        settings = Settings(
            journalctl=journalctl,
            paths=tuple(self.JournalPaths),
            filters=tuple(self._filters()),
            seek=seek,
            fallback=self.CursorSeekFallback,
            topic=self.Topic,
        )
        reader = JournalReader(
            settings, EntryDecoder(self.Fields), self._context, collector, stop, ledger, cursor
        )
        reader.run(once)

    def _filters(self) -> list[str]:
        argv: list[str] = []
        priorities = priority_range(self.Priority)
        if priorities is not None:
            argv.append(f"--priority={priorities[0]}..{priorities[1]}")
        return argv + matches(self.Units, self.Kernel, self.Identifiers, self.MatchPatterns)

    def _key(self) -> str:
        """This input's checkpoint id: the journal it reads and its filters."""
        what = {
            "paths": self.JournalPaths,
            "units": self.Units,
            "kernel": self.Kernel and bool(self.Units),
            "identifiers": self.Identifiers,
            "patterns": self.MatchPatterns,
            "priority": priority_range(self.Priority),
        }
        return orjson.dumps(what, option=orjson.OPT_SORT_KEYS).decode()

    def _fail(self, problem: str) -> None:
        message = f"input_journal: {problem}"
        self._context.logger.error("%s", message)
        self._context.report("error", message=message)
