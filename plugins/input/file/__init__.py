"""input_file: tails local log files matched by globs, one LogBatch per chunk read.

Tailing: a watchdog Observer (its own thread plus one emitter thread per watched
directory) only marks files dirty; the run thread reads them, re-globs for new files
every few seconds (sooner after a created/moved event) and stats every file each second,
which catches what events miss. Without inotify (watch limits) it polls, with a warning.

Each batch's `origin` is a `FileOrigin(dev, ino, path, start, end)`: the file's identity
and the byte range [start, end) the batch's lines cover, so a checkpoint can commit `end`
once the batch is acknowledged.

With `once`, every matched file is read from its start (TailSizeKB does not apply: it is
a backfill) to its size when reached, its unterminated last line included.

Checkpoints (`_states.py`, stored by `agent.checkpoint`): a file's committed offset
advances when every flusher has acknowledged every line before it; on a restart —
tailing or `once` — each file resumes at its committed offset, recognised by identity
and fingerprint. A `once` run of a pipeline without checkpoints reads whole files.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from agent.plugin import Collector, Context, Param, Plugin, register

from ._decode import ENCODINGS
from ._lines import LineOptions
from ._multiline import check_multiline, parse_multiline
from ._paths import PathSpec
from ._reader import MAX_LINE_BYTES, FileOrigin
from ._tailer import Settings, Tailer

__all__ = ["MAX_LINE_BYTES", "FileInput", "FileOrigin"]


def _patterns(value: list[str]) -> str | None:
    if any(not p.strip() for p in value):
        return "patterns must not be empty strings"
    return None


def _some_patterns(value: list[str]) -> str | None:
    return _patterns(value) or (None if value else "must list at least one file pattern")


@register
class FileInput(Plugin):
    type_name = "input_file"
    summary = "Tails local log files matched by glob patterns; each line becomes a log."
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "FilePaths",
            "list",
            items="str",
            description=(
                "Files to read, as glob patterns: `*`, `?`, `[...]`, `**` for any depth of "
                "directories, `~` for the home directory. Hidden files need an explicit dot."
            ),
            check=_some_patterns,
        ),
        Param(
            "ExcludeFilePaths",
            "list",
            [],
            items="str",
            description=(
                "Files to skip, as glob patterns. A pattern without a path separator "
                "matches file names (`*.gz`), any other whole paths."
            ),
            check=_patterns,
        ),
        Param(
            "MaxDirSearchDepth",
            "int",
            -1,
            description=(
                "How many directory levels a `**` may stand for (0: none, `a/**/*.log` is "
                "`a/*.log`); -1: any depth. Symbolic links to directories are followed "
                "once: a link loop ends the search there."
            ),
            min=-1,
        ),
        Param(
            "TailSizeKB",
            "int",
            1024,
            description=(
                "On the pipeline's first start (no checkpoints yet), a file is read from "
                "this many KiB before its end, from the next line start; so is a file "
                "added to FilePaths later that has not changed since. Afterwards files "
                "resume at their checkpoints, and files that appear are read from their "
                "start. Not used when the agent runs once: it reads whole files."
            ),
            min=0,
        ),
        Param(
            "FlushTimeoutSecs",
            "float",
            5.0,
            description=(
                "A last line without a newline (and a Multiline record still open) is "
                "held back until the file has not grown for this many seconds, then sent "
                "as it is."
            ),
            min=0,
        ),
        Param(
            "CloseUnusedReaderIntervalSec",
            "int",
            60,
            description=(
                "A file read to its end that has not grown for this many seconds has its "
                "handle closed (a deleted file frees its disk space); it is reopened when "
                "it grows. A file no pattern leads to any more (renamed away) is read to "
                "its end first, then forgotten."
            ),
            min=1,
        ),
        Param("Topic", "str", "", description="The topic of the logs' groups."),
        Param(
            "ReadBufferKB",
            "int",
            1024,
            description="How much is read at a time; each read becomes one batch of lines.",
            min=1,
            max=65536,
        ),
        Param(
            "MaxLineBytes",
            "int",
            MAX_LINE_BYTES,
            description=(
                "A longer line (UTF-8 bytes) is cut into pieces of at most this size, at a "
                "character boundary; each cut is counted in the file's `split_lines` and the "
                "file goes on. A Multiline record is limited to this size the same way."
            ),
            min=256,
            max=64 * 1024 * 1024,
        ),
        Param(
            "FileEncoding",
            "str",
            "utf8",
            description=(
                "The files' encoding; logs are always UTF-8. `utf16` reads the byte order "
                "from the BOM (little endian without one); `utf16le`/`utf16be` fix it."
            ),
            choices=ENCODINGS,
        ),
        Param(
            "Multiline",
            "dict",
            {},
            description=(
                "Joins lines into one log, as iLogtail: `Mode` (custom or JSON), "
                "`StartPattern`, `ContinuePattern`, `EndPattern` (regular expressions "
                "matched at the start of each line), `UnmatchedContentTreatment` "
                "(single_line or discard). A record still open when the file stops "
                "growing is sent after FlushTimeoutSecs."
            ),
            check=check_multiline,
        ),
    )

    FilePaths: list[str]
    ExcludeFilePaths: list[str]
    MaxDirSearchDepth: int
    TailSizeKB: int
    FlushTimeoutSecs: float
    CloseUnusedReaderIntervalSec: int
    Topic: str
    ReadBufferKB: int
    MaxLineBytes: int
    FileEncoding: str
    Multiline: dict[str, Any]

    def __init__(self) -> None:
        self._context = Context()

    def init(self, context: Context) -> None:
        self._context = context

    def run(self, collector: Collector, stop: threading.Event, once: bool) -> None:
        settings = Settings(
            spec=PathSpec(self.FilePaths, self.ExcludeFilePaths, self.MaxDirSearchDepth),
            tail_bytes=self.TailSizeKB * 1024,
            flush_timeout=self.FlushTimeoutSecs,
            topic=self.Topic,
            chunk_size=self.ReadBufferKB * 1024,
            lines=LineOptions(
                max_line_bytes=self.MaxLineBytes,
                encoding=self.FileEncoding,
                multiline=parse_multiline(self.Multiline),
            ),
            close_unused=float(self.CloseUnusedReaderIntervalSec),
        )
        tailer = Tailer(settings, self._context, collector, stop)
        if once:
            tailer.run_once()
        else:
            tailer.run_tail()
