"""flusher_file: appends LogGroups to a JSON Lines file, one object per group."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from agent.encoding import group_pieces
from agent.plugin import Context, Param, Plugin, register
from agent.protocol import LogGroup


@register
class FlusherFile(Plugin):
    type_name = "flusher_file"
    summary = "Appends each LogGroup as one JSON object per line to a local file."
    params = (
        Param(
            "FilePath", "str", description="The output file; `~` is expanded, folders are created."
        ),
        Param(
            "Sync",
            "bool",
            False,
            "fsync after every write, so delivered groups survive a power cut (slower). "
            "Without it they survive a crash of Tailbox, not of the machine.",
        ),
    )

    FilePath: str
    Sync: bool

    def init(self, context: Context) -> None:
        self.path = Path(os.path.expanduser(self.FilePath))
        self._file: IO[bytes] | None = None

    def _open(self) -> IO[bytes]:
        if self._file is not None and self._rotated(self._file):
            self._close()
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across flushes
        return self._file

    def _rotated(self, f: IO[bytes]) -> bool:
        """The path now names another file (or none): logrotate moved ours away."""
        try:
            now = os.stat(self.path)
        except OSError:
            return True
        mine = os.fstat(f.fileno())
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)

    def flush(self, groups: list[LogGroup]) -> None:
        f = self._open()
        try:
            for group in groups:
                # In pieces: a group's logs are not copied into one string first.
                f.writelines(group_pieces(group))
            f.flush()
            if self.Sync:
                os.fsync(f.fileno())
        except OSError:
            # A half-written line must not be followed by the retry on the same line.
            self._close()
            raise

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None

    def stop(self) -> None:
        self._close()
