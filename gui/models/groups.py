"""The live LogGroups table: a ring of the latest group summaries, logs on a memory budget.

The logs each summary kept for the detail pane share a budget: past it, the oldest
rows keep their summary but let their logs go (the detail pane says so).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt

from gui.formatting import clock, human_bytes
from gui.models.ring import RingTableModel
from gui.summary import GroupSummary

__all__ = ["DEFAULT_CAPACITY", "SAMPLE_BUDGET_BYTES", "GroupRingModel"]

DEFAULT_CAPACITY = 10_000
SAMPLE_BUDGET_BYTES = 32 * 1024 * 1024
_NUMERIC = frozenset({4, 5})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole


class GroupRingModel(RingTableModel[GroupSummary]):
    """The latest `capacity` delivered groups, oldest first."""

    columns = ("Time", "Pipeline", "Source", "Topic", "Logs", "Bytes", "Tags", "Pack ID")
    roles = (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
    )

    def __init__(self, capacity: int = DEFAULT_CAPACITY, parent: Any = None) -> None:
        super().__init__(capacity, parent)
        self.sample_budget = SAMPLE_BUDGET_BYTES
        self._sampled: deque[GroupSummary] = deque()  # rows still holding logs, oldest first
        self._sample_bytes = 0

    def row_cells(self, g: GroupSummary) -> list[dict[int, Any]]:
        # Per shown row in every tick: each text once, for the cell and its tooltip.
        cells: list[dict[int, Any]] = [{_DISPLAY: t, _TOOLTIP: t} for t in _texts(g)]
        for column in _NUMERIC:
            cells[column][_ALIGNMENT] = _RIGHT
        return cells

    def texts(self, row: int) -> list[str]:
        return list(_texts(self.at(row)))

    def cell(self, g: GroupSummary, column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _texts(g)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _NUMERIC:
            return _RIGHT
        return None

    @property
    def sample_bytes(self) -> int:
        return self._sample_bytes

    def _added(self, groups: Sequence[GroupSummary]) -> None:
        with_logs = [g for g in groups if g.sample is not None]
        if not with_logs:
            return
        self._sampled.extend(with_logs)
        self._sample_bytes += sum(g.sample_bytes for g in with_logs)
        while self._sample_bytes > self.sample_budget and len(self._sampled) > 1:
            oldest = self._sampled.popleft()
            self._sample_bytes -= oldest.sample_bytes
            oldest.sample = None

    def _let_go(self, g: GroupSummary) -> None:
        # Rows leave oldest first, so a row that still holds logs is the oldest such row.
        if self._sampled and self._sampled[0] is g:
            self._sampled.popleft()
            self._sample_bytes -= g.sample_bytes
        g.sample = None


def _texts(g: GroupSummary) -> tuple[str, ...]:
    """What each column shows, in `columns` order."""
    return (
        clock(g.time),
        g.pipeline,
        g.source,
        g.topic,
        f"{g.count:,}",
        human_bytes(g.bytes),
        g.tags_text(),
        g.pack_id,
    )
