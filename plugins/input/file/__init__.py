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
"""

from __future__ import annotations

import threading
from typing import ClassVar

from agent.plugin import Collector, Context, Param, Plugin, register

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
            "TailSizeKB",
            "int",
            1024,
            description=(
                "A file that exists when the input starts is read from this many KiB "
                "before its end, from the next line start; files that appear later are "
                "read from their start. Not used when the agent runs once: it reads whole files."
            ),
            min=0,
        ),
        Param(
            "FlushTimeoutSecs",
            "float",
            5.0,
            description=(
                "A last line without a newline is held back until the file has not "
                "grown for this many seconds, then sent as it is."
            ),
            min=0,
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
    )

    FilePaths: list[str]
    ExcludeFilePaths: list[str]
    TailSizeKB: int
    FlushTimeoutSecs: float
    Topic: str
    ReadBufferKB: int

    def __init__(self) -> None:
        self._context = Context()

    def init(self, context: Context) -> None:
        self._context = context

    def run(self, collector: Collector, stop: threading.Event, once: bool) -> None:
        settings = Settings(
            spec=PathSpec(self.FilePaths, self.ExcludeFilePaths),
            tail_bytes=self.TailSizeKB * 1024,
            flush_timeout=self.FlushTimeoutSecs,
            topic=self.Topic,
            chunk_size=self.ReadBufferKB * 1024,
        )
        tailer = Tailer(settings, self._context, collector, stop)
        if once:
            tailer.run_once()
        else:
            tailer.run_tail()
