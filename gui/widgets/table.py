"""Row-oriented table views: fixed row heights, no wrapping, Ctrl+C copies rows as TSV.

A view's paint must not call Python: under full-speed ingest each call waits for the
GIL behind the agent's threads. `RowTable` shows a RingTableModel (directly or through
a proxy) whose shown rows hold their cells in Qt items: before rows come into view —
after a tick, a scroll, a resize, a filter change — it has the ring write the cells of
the rows in its viewport, inside a foreground section (agent.foreground). Its paint
then runs in C++ alone, beside the agent rather than in turn with it.

`PythonRowTable` shows a model that answers cells from Python (the detail pane, the
input files): its whole paint is a foreground section instead.
"""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QAbstractProxyModel, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from agent.foreground import foreground
from gui.models.ring import RingTableModel

__all__ = ["PythonRowTable", "RowTable", "rows_as_tsv"]

_MARGIN_ROWS = 2  # shown beyond the viewport's edges, for a smooth scroll by a row


def _ring_rows(model: QAbstractItemModel | None, rows: range) -> tuple[Any, list[int]]:
    """The ring behind `model` and its rows for the view's `rows` (None if no ring)."""
    if isinstance(model, RingTableModel):
        return model, list(rows)
    if isinstance(model, QAbstractProxyModel) and isinstance(model.sourceModel(), RingTableModel):
        source = [model.mapToSource(model.index(row, 0)).row() for row in rows]
        return model.sourceModel(), [row for row in source if row >= 0]
    return None, []


def rows_as_tsv(view: QTableView, rows: list[int]) -> str:
    """The header and the given rows of `view`'s model, tab-separated."""
    model = view.model()
    columns = range(model.columnCount())
    lines = ["\t".join(str(model.headerData(c, Qt.Orientation.Horizontal)) for c in columns)]
    ring, source_rows = _ring_rows(model, rows)
    if ring is not None:  # off-screen rows hold no cells yet: ask the ring itself
        cells = [ring.texts(row) for row in source_rows]
    else:
        cells = [[model.index(row, c).data() for c in columns] for row in rows]
    for values in cells:
        lines.append("\t".join("" if v is None else str(v).replace("\t", " ") for v in values))
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
        # A scroll has moved the view already when its scroll bar says so: the rows now
        # in view are shown at once, before the paint. Rows that come into view by the
        # model's doing (new rows, a filter, a new model) or a resize are shown on the
        # next turn of the event loop, once the view has laid them out.
        self._show_later = QTimer(self)
        self._show_later.setSingleShot(True)
        self._show_later.setInterval(0)
        self._show_later.timeout.connect(self.show_visible)
        self.verticalScrollBar().valueChanged.connect(self.show_visible)
        self.verticalScrollBar().rangeChanged.connect(self._show_soon)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            for signal in (old.modelReset, old.layoutChanged, old.rowsInserted):
                with contextlib.suppress(RuntimeError, TypeError):  # never connected
                    signal.disconnect(self._show_soon)
        super().setModel(model)
        if model is not None:
            for signal in (model.modelReset, model.layoutChanged, model.rowsInserted):
                signal.connect(self._show_soon)
        self._show_soon()

    def _show_soon(self, *_: object) -> None:
        # Not QTimer.start itself as the slot: a signal's int would pick start(msec).
        self._show_later.start()

    def visible_rows(self) -> range:
        """The rows in the viewport, with a margin (empty without rows)."""
        model = self.model()
        count = model.rowCount() if model is not None else 0
        if not count:
            return range(0)
        first = self.rowAt(0)
        last = self.rowAt(self.viewport().height() - 1)
        first = 0 if first < 0 else first
        last = count - 1 if last < 0 else last
        return range(max(first - _MARGIN_ROWS, 0), min(last + _MARGIN_ROWS, count - 1) + 1)

    def show_visible(self) -> None:
        """Have the ring write the cells of the rows in view (nothing if shown already)."""
        if not self.isVisible():
            return  # a hidden tab's table: showEvent shows its rows when it comes into view
        with foreground.section():  # many Qt calls: none should queue for the GIL
            ring, rows = _ring_rows(self.model(), self.visible_rows())
            if ring is not None:
                _, keep = _ring_rows(self.model(), self._selected_or_current())
                ring.show_rows(rows, keep)

    def _selected_or_current(self) -> list[int]:
        rows = self.selected_rows()
        current = self.currentIndex()
        if current.isValid():
            rows.append(current.row())
        return rows

    def reshow(self) -> None:
        """Write the shown cells again (what they show changed, e.g. the theme's colours)."""
        model = self.model()
        ring = model.sourceModel() if isinstance(model, QAbstractProxyModel) else model
        if isinstance(ring, RingTableModel):
            with foreground.section():
                ring.refresh_shown()  # in place: the selection stays

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # A tab's table comes into view: its rows may hold no cells. Its page has its size
        # already; the timer catches a layout that is still to come.
        self.show_visible()
        self._show_soon()

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


class PythonRowTable(RowTable):
    """A RowTable for a model that answers cells from Python: its paint is foreground."""

    def paintEvent(self, event: QPaintEvent) -> None:
        with foreground.section():
            super().paintEvent(event)
