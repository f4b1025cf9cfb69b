"""A row-oriented QTableView: fixed row heights, no wrapping, Ctrl+C copies rows as TSV."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

__all__ = ["RowTable", "rows_as_tsv"]


def rows_as_tsv(view: QTableView, rows: list[int]) -> str:
    """The header and the given rows of `view`'s model, tab-separated."""
    model = view.model()
    columns = range(model.columnCount())
    lines = ["\t".join(str(model.headerData(c, Qt.Orientation.Horizontal)) for c in columns)]
    for row in rows:
        cells = (model.index(row, c).data() for c in columns)
        lines.append("\t".join("" if v is None else str(v).replace("\t", " ") for v in cells))
    return "\n".join(lines) + "\n"


class RowTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setCornerButtonEnabled(False)
        self.verticalHeader().hide()
        # Fixed heights let the view skip measuring rows: cheap at 10,000 rows.
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setHighlightSections(False)

    def selected_rows(self) -> list[int]:
        model = self.selectionModel()
        if model is None:
            return []
        return sorted(index.row() for index in model.selectedRows())

    def selected_tsv(self) -> str:
        return rows_as_tsv(self, self.selected_rows())

    def copy(self) -> None:
        if self.selected_rows():
            QGuiApplication.clipboard().setText(self.selected_tsv())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        super().keyPressEvent(event)

    def set_widths(self, widths: list[int]) -> None:
        for column, width in enumerate(widths):
            self.setColumnWidth(column, width)
