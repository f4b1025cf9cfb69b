"""The events history: queue-full episodes, flusher errors, warnings — the latest N kept."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from agent.events import Event
from gui.formatting import clock
from gui.models.ring import RingTableModel
from gui.theme import is_dark, level_colour

__all__ = ["EventsModel", "describe"]

_LEVEL = {
    "queue_full": "warning",
    "flusher_error": "error",
    "error": "error",
    "warning": "warning",
}


def describe(event: Event) -> str:
    """One sentence a person can act on."""
    d = event.data
    match event.kind:
        case "queue_full":
            return (
                f"queue full ({d.get('depth')}/{d.get('capacity')} groups): "
                f"{d.get('aggregator')} waits, reading paused; "
                f"slowest flusher: {d.get('flusher') or '?'}"
            )
        case "queue_recovered":
            return (
                f"queue accepts again after {d.get('duration', 0):.1f} s "
                f"({d.get('rejected', 0)} adds waited)"
            )
        case "flusher_error":
            then = "gave the groups up" if d.get("permanent") else "retrying with backoff"
            return f"{d.get('flusher')} failed: {d.get('error')}; {then}"
        case "flusher_recovered":
            return f"{d.get('flusher')} delivers again"
        case "error":
            plugin = d.get("plugin")
            return f"{plugin}: {d.get('message')}" if plugin else str(d.get("message"))
        case _:
            return str(d.get("message", ", ".join(f"{k}={v}" for k, v in d.items())))


class EventsModel(RingTableModel[Event]):
    columns = ("Time", "Pipeline", "Event", "Details")
    roles = (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
    )

    def __init__(self, capacity: int = 5_000, parent: Any = None) -> None:
        super().__init__(capacity, parent)

    def cell(self, e: Event, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (clock(e.time), e.pipeline, e.kind.replace("_", " "), describe(e))[column]
        if role == Qt.ItemDataRole.ForegroundRole:
            return level_colour(_LEVEL.get(e.kind, ""), is_dark())
        return None
