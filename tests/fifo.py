"""Test helpers without pytest: appending numbered lines, and reading a FIFO that a
flusher_file writes into. Shared by the GUI tests (conftest), the CLI's backfill tests
and the tray test's child process (real_tray_app), which runs outside pytest."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.output import logs_in

__all__ = ["FifoReader", "write_lines"]


def write_lines(path: Path, count: int, start: int = 0, text: str = "line") -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(f"{text} {i}\n" for i in range(start, start + count))


class FifoReader:
    """Reads a FIFO until closed, so a flusher_file writing into it is unblocked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = bytearray()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return

        def read() -> None:
            with open(self.path, "rb") as f:
                while chunk := f.read(65536):
                    self.data.extend(chunk)

        self._thread = threading.Thread(target=read, name="test-fifo-reader", daemon=True)
        self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(30)

    def logs(self) -> int:
        """How many logs the JSON Lines groups read so far hold."""
        return len(logs_in(bytes(self.data)))
