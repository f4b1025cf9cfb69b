"""FilePaths and ExcludeFilePaths: glob expansion, path matching, and the directories to watch."""

from __future__ import annotations

import glob
import os
import re

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

    def __init__(self, includes: list[str], excludes: list[str]) -> None:
        self.includes = [_absolute(p) for p in includes]
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
            for path in glob.iglob(pattern, recursive=True):
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


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
