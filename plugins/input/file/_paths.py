"""FilePaths and ExcludeFilePaths: glob expansion, path matching, and the directories to watch."""

from __future__ import annotations

import glob
import os
import re
import stat

__all__ = ["PathSpec", "glob_regex"]

_MAGIC = re.compile(r"[*?[]")
# Windows paths compare case-insensitively and may use either separator.
_WINDOWS = os.name == "nt"


def _slashed(path: str) -> str:
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _segment_regex(part: str) -> str:
    """One path component of a glob as a regex that never crosses a separator."""
    out: list[str] = []
    i, n = 0, len(part)
    while i < n:
        c = part[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1 if i < n and part[i] == "!" else i
            if j < n and part[j] == "]":
                j += 1
            while j < n and part[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            body = part[i:j].replace("\\", "\\\\")
            i = j + 1
            out.append("[^/" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
        else:
            out.append(re.escape(c))
    return "".join(out)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` (glob syntax, `**` for any depth) as a regex over "/"-separated paths."""
    parts = _slashed(pattern).split("/")
    out: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]*/)*")
        else:
            out.append(_segment_regex(part) + ("" if last else "/"))
    return re.compile("".join(out), re.IGNORECASE if _WINDOWS else 0)


def _absolute(pattern: str) -> str:
    return os.path.abspath(os.path.expanduser(pattern))


def _static_root(pattern: str) -> str:
    """The deepest directory of `pattern` that contains no wildcard."""
    root = pattern
    while _MAGIC.search(root):
        root = os.path.dirname(root)
    return root


class PathSpec:
    """Which files an input reads: absolute include globs minus the exclude globs.

    An exclude pattern without a path separator matches file names (``*.gz``);
    any other is made absolute like the includes and matches whole paths.
    """

    def __init__(self, includes: list[str], excludes: list[str], max_depth: int = -1) -> None:
        self.includes = [_absolute(p) for p in includes]
        self.max_depth = max_depth  # levels a `**` may stand for; -1: any
        self._include_res = [glob_regex(p) for p in self.includes]
        self._exclude_paths: list[re.Pattern[str]] = []
        self._exclude_names: list[re.Pattern[str]] = []
        for p in excludes:
            if "/" in p or os.sep in p:
                self._exclude_paths.append(glob_regex(_absolute(p)))
            else:
                self._exclude_names.append(glob_regex(p))

    def excluded(self, path: str) -> bool:
        if self._exclude_names:
            name = os.path.basename(path)
            if any(r.fullmatch(name) for r in self._exclude_names):
                return True
        if self._exclude_paths:
            slashed = _slashed(path)
            return any(r.fullmatch(slashed) for r in self._exclude_paths)
        return False

    def matches(self, path: str) -> bool:
        """Whether `path` would be globbed (used to filter watchdog's created events)."""
        slashed = _slashed(path)
        return any(r.fullmatch(slashed) for r in self._include_res) and not self.excluded(path)

    def glob(self) -> list[str]:
        """Every existing path the includes match and no exclude does, sorted, deduplicated."""
        found: set[str] = set()
        for pattern in self.includes:
            for path in expand(pattern, self.max_depth):
                if not self.excluded(path):
                    found.add(path)
        return sorted(found)

    def watch_dirs(self) -> dict[str, bool]:
        """Existing directories to watch -> whether recursively (only for `**` patterns)."""
        recursive = {
            root for p in self.includes if "**" in p and os.path.isdir(root := _static_root(p))
        }
        dirs = dict.fromkeys(recursive, True)
        for p in self.includes:
            if "**" in p:
                continue
            parent = os.path.dirname(p)
            for d in glob.glob(parent) if _MAGIC.search(parent) else [parent]:
                # A directory inside a recursive watch already reports its files.
                if os.path.isdir(d) and not any(_inside(d, r) for r in recursive):
                    dirs.setdefault(d, False)
        return dirs


def expand(pattern: str, max_depth: int = -1) -> list[str]:
    """The paths `pattern` matches, like `glob(recursive=True)`, but a `**` descends at most
    `max_depth` levels (-1: any) and enters each directory once: symbolic links to
    directories are followed, a link loop is not (glob would go round it ~40 times)."""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        return glob.glob(pattern)
    i = parts.index("**")
    head = os.sep.join(parts[:i]) or os.sep
    rest = os.sep.join(parts[i + 1 :])
    bases = glob.glob(head) if _MAGIC.search(head) else [head]
    out: list[str] = []
    for base in bases:
        for directory in _walk_dirs(base, max_depth):
            if rest:
                out.extend(expand(os.path.join(glob.escape(directory), rest), max_depth))
            else:
                out.extend(_entries(directory))
    return out


def _entries(directory: str) -> list[str]:
    try:
        with os.scandir(directory) as it:
            return [e.path for e in it if not e.name.startswith(".")]
    except OSError:
        return []


def _walk_dirs(base: str, max_depth: int) -> list[str]:
    """`base` and the directories below it (hidden ones skipped, as glob's `**` does)."""
    try:
        st = os.stat(base)
    except OSError:
        return []
    if not stat.S_ISDIR(st.st_mode):
        return []
    seen = {(st.st_dev, st.st_ino)}
    found = [base]
    level = [base]
    depth = 0
    while level and (max_depth < 0 or depth < max_depth):
        depth += 1
        below: list[str] = []
        for directory in level:
            try:
                with os.scandir(directory) as it:
                    entries = [e for e in it if not e.name.startswith(".")]
            except OSError:
                continue
            for entry in sorted(entries, key=lambda e: e.name):
                try:
                    if not entry.is_dir():  # follows symbolic links
                        continue
                    st = os.stat(entry.path)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    continue  # a link back up (a loop) or to a directory already searched
                seen.add(key)
                below.append(entry.path)
        found.extend(below)
        level = below
    return found


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
