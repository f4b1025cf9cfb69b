"""Small tables answered from Python: rows of Python objects rendered cell by cell.

For the detail pane and the input files, shown by a PythonRowTable (its paint is a
foreground section). Views ask for seven roles per cell while painting; `multiData`
answers them in one call into Python instead of seven. The live tables, which change
every tick, keep their cells in Qt items instead (gui.models.ring).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)

__all__ = ["ITEM_ROLE", "Cells", "Index", "TableModel"]

ITEM_ROLE = Qt.ItemDataRole.UserRole  # the row's Python object itself
Index = QModelIndex | QPersistentModelIndex


class Cells:
    """`data` and `multiData` from `row_count`, `at` and `cell` (mixed into a Qt model)."""

    def row_count(self) -> int:
        raise NotImplementedError

    def at(self, row: int) -> Any:
        """The Python object shown in `row` (0 <= row < row_count())."""
        raise NotImplementedError

    def cell(self, item: Any, column: int, role: int) -> Any:
        """What `role` of `column` shows for `item`; None for nothing."""
        raise NotImplementedError

    def _item(self, index: Index) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.row_count():
            return None
        return self.at(index.row())

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self._item(index)
        if item is None:
            return None
        return item if role == ITEM_ROLE else self.cell(item, index.column(), role)

    def multiData(self, index: Index, roles: QModelRoleDataSpan) -> None:
        item = self._item(index)
        column = index.column()
        for role_data in roles:
            role = role_data.role()
            if item is None:
                value = None
            else:
                value = item if role == ITEM_ROLE else self.cell(item, column, role)
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)


class TableModel(Cells, QAbstractTableModel):
    """A read-only table; subclasses give `columns` (or `header`), `row_count`, `at`, `cell`."""

    columns: tuple[str, ...] = ()

    def column_count(self) -> int:
        return len(self.columns)

    def header(self, section: int) -> str | None:
        return self.columns[section] if 0 <= section < len(self.columns) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.column_count()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.header(section)
        return section + 1

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
