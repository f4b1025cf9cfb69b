"""The selected group's logs: one row per kept log, one column per content key."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from agent.protocol import Log
from gui.models.table import TableModel
from gui.summary import GroupSummary
from gui.theme import is_dark, level_colour

__all__ = ["LEVEL_KEYS", "LogDetailModel"]

LEVEL_KEYS = ("level", "severity", "loglevel", "log_level", "lvl", "priority")


class LogDetailModel(TableModel):
    """Shows the logs a GroupSummary kept; decodes them only when a group is shown."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.summary: GroupSummary | None = None
        self._logs: list[Log] = []
        self._keys: list[str] = []
        self._level_key: str | None = None

    def show_group(self, summary: GroupSummary | None) -> None:
        self.beginResetModel()
        self.summary = summary
        self._logs = summary.logs() if summary is not None else []
        keys: dict[str, None] = {}
        for log in self._logs:
            keys.update(dict.fromkeys(log.contents))
        self._keys = list(keys)
        self._level_key = next((k for k in self._keys if k.lower() in LEVEL_KEYS), None)
        self.endResetModel()

    @property
    def missing_logs(self) -> bool:
        """The shown group's logs were let go (memory budget): only its summary is left."""
        return self.summary is not None and self.summary.sample is None and not self._logs

    @property
    def level_key(self) -> str | None:
        return self._level_key

    def row_count(self) -> int:
        return len(self._logs)

    def at(self, row: int) -> Log:
        return self._logs[row]

    def column_count(self) -> int:
        return 1 + len(self._keys)

    def header(self, section: int) -> str | None:
        if section == 0:
            return "time"
        return self._keys[section - 1] if 0 < section <= len(self._keys) else None

    def cell(self, log: Log, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(log.time))
            if 0 < column <= len(self._keys):
                return log.contents.get(self._keys[column - 1], "")
            return None
        if role == Qt.ItemDataRole.ForegroundRole and self._level_key is not None:
            return level_colour(log.contents.get(self._level_key, ""), is_dark())
        return None
