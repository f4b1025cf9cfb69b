"""Reading flusher_file's JSON Lines output while the agent may still be writing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

__all__ = ["delivered_logs", "logs_in"]


def delivered_logs(path: Path) -> list[dict[str, Any]]:
    """The logs of every complete line of `path` (none if it does not exist yet).

    A group is written in several pieces, so a look during a flush can find the last
    line cut short: it is left for the next look, not parsed.
    """
    return logs_in(path.read_bytes()) if path.exists() else []


def logs_in(data: bytes) -> list[dict[str, Any]]:
    """The logs of every complete JSON Lines group in `data` (a cut last line is left out)."""
    *complete, _ = data.split(b"\n")
    return [log for line in complete for log in orjson.loads(line)["logs"]]
