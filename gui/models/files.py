"""Per input file: size, read offset, lag and lines per second, from the metrics samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from gui.formatting import human_bytes
from gui.models.table import TableModel
from gui.theme import is_dark, level_colour

__all__ = ["FilesModel"]

_NUMERIC = {2, 3, 4, 5}


@dataclass(slots=True)
class _Row:
    pipeline: str
    path: str
    size: int = 0
    offset: int = 0
    lag: int = 0
    lines: int = 0
    rate: float = 0.0
    error: str = ""
    sampled: float = 0.0


def _key(row: _Row) -> tuple[str, str]:
    return row.pipeline, row.path


class FilesModel(TableModel):
    """One row per (pipeline, file); rows appear, update in place and disappear."""

    columns = ("Pipeline", "File", "Size", "Offset", "Lag", "Lines/s", "Problem")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []

    def update(self, samples: dict[str, tuple[float, list[dict[str, Any]]]]) -> None:
        """Take a sample: pipeline -> (monotonic time, its metrics' `files` list)."""
        old = {_key(r): r for r in self._rows}
        fresh: dict[tuple[str, str], _Row] = {}
        for pipeline, (when, files) in samples.items():
            for f in files:
                key = (pipeline, f["path"])
                prev = old.get(key)
                row = _Row(pipeline, f["path"], f["size"], f["offset"], f["lag"], f["lines"])
                row.error, row.sampled = f.get("last_error", ""), when
                if prev is not None and when > prev.sampled:
                    row.rate = max(0.0, (row.lines - prev.lines) / (when - prev.sampled))
                fresh[key] = row
        # Remove vanished rows as contiguous ranges, from the end so indexes stay valid.
        i = len(self._rows)
        while i > 0:
            i -= 1
            if _key(self._rows[i]) in fresh:
                continue
            last = i
            while i > 0 and _key(self._rows[i - 1]) not in fresh:
                i -= 1
            self.beginRemoveRows(QModelIndex(), i, last)
            del self._rows[i : last + 1]
            self.endRemoveRows()
        self._rows = [fresh.pop(_key(r)) for r in self._rows]
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh.values())
            self.endInsertRows()

    def row_count(self) -> int:
        return len(self._rows)

    def at(self, row: int) -> _Row:
        return self._rows[row]

    def cell(self, r: _Row, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (
                r.pipeline,
                r.path,
                human_bytes(r.size),
                human_bytes(r.offset),
                human_bytes(r.lag),
                f"{r.rate:,.0f}",
                r.error,
            )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and r.error:
            return level_colour("error", is_dark())
        return None
