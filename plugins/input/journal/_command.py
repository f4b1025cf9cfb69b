"""input_journal's journalctl command line: which journal, which entries, where to start.

Filters are journalctl's raw matches, as iLogtail's service_journal adds them to
sd-journal: every unit (with the matches `journalctl -u` uses: the unit's own messages,
its coredumps, PID 1 and privileged daemons about it, a slice's members), the kernel
transport (with Units and Kernel), every MatchPatterns entry and every identifier is
one alternative, joined by `+` (OR); `-p` (Priority) applies to all of them (AND).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LEVELS",
    "SYSTEM_JOURNAL_DIRS",
    "Source",
    "check_fields",
    "check_identifiers",
    "check_patterns",
    "check_priority",
    "check_units",
    "matches",
    "priority_range",
    "resolve_source",
    "system_journal_present",
    "unit_name",
]

# PRIORITY 0..7 as iLogtail's ParsePriority names them: what a log's `level` says.
LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug")
# What Priority accepts: journalctl's names, iLogtail's, the usual short forms.
_PRIORITY_NAMES = {
    "emerg": 0,
    "emergency": 0,
    "panic": 0,
    "alert": 1,
    "crit": 2,
    "critical": 2,
    "err": 3,
    "error": 3,
    "warning": 4,
    "warn": 4,
    "notice": 5,
    "info": 6,
    "informational": 6,
    "debug": 7,
}
_UNIT_SUFFIXES = (
    ".service",
    ".socket",
    ".target",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".path",
    ".timer",
    ".slice",
    ".scope",
)
_COREDUMP_MESSAGE_ID = "fc2e22bc6ee647b6b90729ab34a250b1"
# Journal field names: upper-case letters, digits and underscores, not starting with a digit.
_FIELD = re.compile(r"[A-Z_][A-Z0-9_]{0,63}\Z")
_GLOB_CHARS = frozenset("*?[")

SYSTEM_JOURNAL_DIRS = ("/run/log/journal", "/var/log/journal")


def _one_priority(text: str) -> int:
    text = text.strip().lower()
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _PRIORITY_NAMES:
        return _PRIORITY_NAMES[text]
    raise ValueError(text)


def priority_range(text: str) -> tuple[int, int] | None:
    """Priority as (most, least important) numbers; None for all. A single level means that
    level and everything more important (journalctl -p); `a..b` a range. ValueError if bad."""
    if not text.strip():
        return None
    if ".." in text:
        first, _, last = text.partition("..")
        a, b = _one_priority(first), _one_priority(last)
        return (min(a, b), max(a, b))
    return (0, _one_priority(text))


def check_priority(value: str) -> str | None:
    try:
        priority_range(value)
    except ValueError:
        return (
            f"{value!r} is not a priority: use 0..7 or a name (emerg, alert, crit, err, "
            "warning, notice, info, debug), optionally a range such as err..warning"
        )
    return None


def unit_name(name: str) -> str:
    """A unit name as `journalctl -u` completes it: `.service` unless it has a unit type."""
    name = name.strip()
    return name if name.endswith(_UNIT_SUFFIXES) else name + ".service"


def check_units(value: list[str]) -> str | None:
    for unit in value:
        if not unit.strip():
            return "unit names must not be empty"
        if _GLOB_CHARS & set(unit):
            return f"{unit!r}: patterns are not supported; list the units by name"
        if "=" in unit or any(c.isspace() for c in unit.strip()):
            return f"{unit!r} is not a unit name"
    return None


def check_identifiers(value: list[str]) -> str | None:
    if any(not v.strip() for v in value):
        return "identifiers must not be empty"
    return None


def check_fields(value: list[str]) -> str | None:
    for name in value:
        if name != "*" and not _FIELD.match(name):
            return (
                f"{name!r} is not a journal field name (upper-case letters, digits and "
                "underscores, e.g. _SYSTEMD_UNIT), nor * for every field"
            )
    return None


def check_patterns(value: list[str]) -> str | None:
    for pattern in value:
        field, sep, _ = pattern.partition("=")
        if not sep or not _FIELD.match(field):
            return f"{pattern!r} is not a match: use FIELD=value, e.g. _UID=0"
    return None


def matches(
    units: Iterable[str], kernel: bool, identifiers: Iterable[str], patterns: Iterable[str]
) -> list[str]:
    """The raw journalctl matches: alternatives separated by `+`; [] for every entry."""
    groups: list[list[str]] = []
    units = [unit_name(u) for u in units]
    for unit in units:
        groups.append([f"_SYSTEMD_UNIT={unit}"])
        groups.append([f"MESSAGE_ID={_COREDUMP_MESSAGE_ID}", "_UID=0", f"COREDUMP_UNIT={unit}"])
        groups.append(["_PID=1", f"UNIT={unit}"])
        groups.append(["_UID=0", f"OBJECT_SYSTEMD_UNIT={unit}"])
        if unit.endswith(".slice"):
            groups.append([f"_SYSTEMD_SLICE={unit}"])
    if units and kernel:
        groups.append(["_TRANSPORT=kernel"])
    groups.extend([p] for p in patterns)
    groups.extend([f"SYSLOG_IDENTIFIER={i}"] for i in identifiers)
    argv: list[str] = []
    for group in groups:
        if argv:
            argv.append("+")
        argv.extend(group)
    return argv


def system_journal_present() -> bool:
    """Whether journald keeps journal files here (volatile in /run, persistent in /var)."""
    for directory in SYSTEM_JOURNAL_DIRS:
        for pattern in ("*.journal", "*/*.journal"):
            if glob.glob(os.path.join(glob.escape(directory), pattern)):
                return True
    return False


@dataclass(frozen=True, slots=True)
class Source:
    """journalctl's arguments for the journal to read, and what to call it in messages."""

    args: tuple[str, ...]
    label: str
    problem: str = ""  # why it cannot be read now (may pass: a file that is not there yet)


def resolve_source(paths: list[str]) -> Source:
    """JournalPaths as journalctl arguments: one directory (`--directory`) or files
    (`--file`, globs allowed); none: the system journal. Paths are made absolute
    (journalctl cannot follow a relative --file)."""
    if not paths:
        return Source((), "journal")
    full = [os.path.abspath(os.path.expanduser(p)) for p in paths]
    label = ", ".join(full)
    if len(full) == 1 and os.path.isdir(full[0]):
        return Source((f"--directory={full[0]}",), label)
    problem = ""
    directories = [p for p in full if os.path.isdir(p)]
    if directories:
        problem = (
            f"JournalPaths: {directories[0]} is a directory; list one directory alone, "
            "or journal files (globs allowed)"
        )
    else:
        missing = [p for p in full if not (_GLOB_CHARS & set(p)) and not os.path.exists(p)]
        if missing:
            problem = f"JournalPaths: {missing[0]} does not exist"
        elif not any(glob.glob(p) for p in full):
            problem = f"JournalPaths: nothing matches {full[0]}"
    return Source(tuple(f"--file={p}" for p in full), label, problem)
