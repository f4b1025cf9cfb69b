"""Live LogGroups: the bounded table, filters, follow and hold, the selected group's logs."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.formatting import clock, human_bytes
from gui.models.detail import LogDetailModel
from gui.models.filter import GroupFilterModel, compile_filter
from gui.models.groups import DEFAULT_CAPACITY, GroupRingModel
from gui.summary import SAMPLE_LINES_PER_S, GroupSummary
from gui.widgets.table import PythonRowTable, RowTable

__all__ = ["LiveView", "export_groups"]

ALL_PIPELINES = "All pipelines"
_MAX_COLUMN = 420  # px; a long message column must not push the others out of sight


def export_groups(groups: list[GroupSummary], path: Path) -> None:
    """Write groups as JSON Lines: the summary and the logs the view kept of each."""
    with open(path, "wb") as f:
        for g in groups:
            record = {
                "time": g.time,
                "pipeline": g.pipeline,
                "source": g.source,
                "topic": g.topic,
                "log_count": g.count,
                "bytes": g.bytes,
                "tags": dict(g.tags),
                "pack_id": g.pack_id,
                "logs": [{"time": log.time, "contents": log.contents} for log in g.logs()],
            }
            f.write(orjson.dumps(record) + b"\n")


class LiveView(QWidget):
    follow_changed = Signal(bool)

    def __init__(self, capacity: int = DEFAULT_CAPACITY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = GroupRingModel(capacity, self)
        self.proxy = GroupFilterModel(self.model)
        self.detail = LogDetailModel(self)
        self.follow = True
        self._adjusting = False  # our own scrolling must not switch follow off
        self._evicted_rows = 0

        self.filter = QLineEdit()
        self.filter.setObjectName("liveFilter")
        self.filter.setPlaceholderText("Filter by text in source, topic, tags, pack id or logs")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.regex = QCheckBox("Regex")
        self.regex.toggled.connect(self._filter_changed)
        self.pipelines = QComboBox()
        self.pipelines.addItem(ALL_PIPELINES, "")
        self.pipelines.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.pipelines.currentIndexChanged.connect(self._pipeline_changed)
        self.hold_button = QPushButton("Pause display")
        self.hold_button.setCheckable(True)
        self.hold_button.setToolTip("Freeze the table; the agent keeps working (Ctrl+P)")
        self.hold_button.toggled.connect(self.set_held)
        self.follow_button = QPushButton("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Keep the newest group in view (End)")
        self.follow_button.toggled.connect(self.set_follow)
        clear = QPushButton("Clear")
        clear.setToolTip("Empty the table; the agent keeps working")
        clear.clicked.connect(self.model.clear_rows)
        export = QPushButton("Export…")
        export.setToolTip("Save the selected groups and their logs as JSON Lines")
        export.clicked.connect(self._export_dialog)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.regex)
        bar.addWidget(self.pipelines)
        bar.addWidget(self.follow_button)
        bar.addWidget(self.hold_button)
        bar.addWidget(clear)
        bar.addWidget(export)

        self.table = RowTable()
        self.table.setObjectName("groupsTable")
        self._show(self.model)
        self.table.set_widths([100, 110, 300, 80, 70, 80, 220, 150])
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # paths end in the file name
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.model.rowsAboutToBeRemoved.connect(self._rows_leaving)
        self.proxy.rowsAboutToBeRemoved.connect(self._rows_leaving)

        self.group_info = QLabel("Select a group to see its logs.")
        self.group_info.setObjectName("groupInfo")
        self.group_info.setWordWrap(True)
        self.group_info.setTextFormat(Qt.TextFormat.PlainText)
        self.group_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.logs = PythonRowTable()
        self.logs.setObjectName("logsTable")
        self.logs.setModel(self.detail)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.group_info)
        detail_layout.addWidget(self.logs, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

    # -- feeding -----------------------------------------------------------------------

    def add_groups(self, groups: list[GroupSummary], lost: int) -> None:
        """One tick's groups: one remove and one insert range, then follow or hold still."""
        for name in dict.fromkeys(g.pipeline for g in groups):
            if self.pipelines.findData(name) < 0:
                self.pipelines.addItem(name, name)
        self._evicted_rows = 0
        self.model.append(groups, lost)
        self._adjusting = True
        try:
            bar = self.table.verticalScrollBar()
            if self.follow:
                self.table.scrollToBottom()
            elif self._evicted_rows:
                # Rows left at the top: move up with the content, so what is read stays put.
                bar.setValue(max(0, bar.value() - self._evicted_rows))
        finally:
            self._adjusting = False
        self.table.show_visible()  # now, in the tick: the paint that follows stays in C++

    def _rows_leaving(self, parent: QModelIndex, first: int, last: int) -> None:
        if self.sender() is self.table.model():  # rows that leave the view, filtered or not
            self._evicted_rows += last - first + 1

    # -- what the table shows: the ring itself, or the filter over it ------------------
    #
    # Without a filter the table shows the ring directly and the proxy is detached: the
    # proxy would call Python (filterAcceptsRow) for every row a tick adds and add a
    # Python call per cell it paints, all of it waiting for the GIL under full ingest.

    def _show(self, model: GroupRingModel | GroupFilterModel) -> None:
        if self.table.model() is model:
            return
        current = self.current_group()
        self.proxy.setSourceModel(self.model if model is self.proxy else None)
        self.table.setModel(model)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        if current is not None:
            row = self._view_row(current)
            if row is not None:
                self.table.selectRow(row)
        if self.follow:
            self.table.scrollToBottom()

    def _filtered(self) -> None:
        self._show(self.proxy if self.proxy.active else self.model)

    def shown_rows(self) -> int:
        """The rows the table shows: all the ring's, or those the filter lets through."""
        return self.table.model().rowCount()

    def _source_row(self, row: int) -> int:
        if self.table.model() is self.proxy:
            return self.proxy.mapToSource(self.proxy.index(row, 0)).row()
        return row

    def _view_row(self, g: GroupSummary) -> int | None:
        entries = self.model.entries()
        source = next((i for i in range(len(entries) - 1, -1, -1) if entries[i] is g), None)
        if source is None:
            return None
        if self.table.model() is self.proxy:
            index = self.proxy.mapFromSource(self.model.index(source, 0))
            return index.row() if index.isValid() else None
        return source

    # -- follow and hold ---------------------------------------------------------------

    def set_follow(self, follow: bool) -> None:
        if follow == self.follow and self.follow_button.isChecked() == follow:
            return
        self.follow = follow
        self.follow_button.setChecked(follow)
        if follow:
            self._adjusting = True
            self.table.scrollToBottom()
            self._adjusting = False
        self.follow_changed.emit(follow)

    def _scrolled(self, value: int) -> None:
        if self._adjusting:
            return
        # Scrolling up pauses following; getting back to the bottom resumes it.
        self.set_follow(value >= self.table.verticalScrollBar().maximum())

    def set_held(self, held: bool) -> None:
        self.model.set_held(held)
        self.hold_button.setChecked(held)
        self.hold_button.setText("Resume display" if held else "Pause display")
        if not held and self.follow:
            self.table.scrollToBottom()

    # -- filtering ---------------------------------------------------------------------

    def _filter_changed(self) -> None:
        text = self.filter.text()
        try:
            pattern = compile_filter(text, self.regex.isChecked()) if text else None
        except re.error as e:
            self.filter.setStyleSheet("QLineEdit { border: 1px solid #d64545; }")
            self.filter.setToolTip(f"Not a valid regular expression: {e}")
            return
        self.filter.setStyleSheet("")
        self.filter.setToolTip("")
        self.proxy.set_pattern(pattern)
        self._filtered()

    def _pipeline_changed(self) -> None:
        self.proxy.set_pipeline(self.pipelines.currentData() or "")
        self._filtered()

    # -- selection, copy, export -------------------------------------------------------

    def selected_groups(self) -> list[GroupSummary]:
        return [self.model.at(self._source_row(row)) for row in self.table.selected_rows()]

    def current_group(self) -> GroupSummary | None:
        """The selected group whose logs the detail pane shows, if any."""
        model = self.table.selectionModel()
        index = self.table.currentIndex()
        if model is None or not index.isValid() or not model.isRowSelected(index.row()):
            return None
        return self.model.at(self._source_row(index.row()))

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        g = self.current_group()
        if g is not None:
            self.show_group(g)

    def show_group(self, g: GroupSummary) -> None:
        self.detail.show_group(g)
        parts = [
            f"{g.pipeline} · {clock(g.time)} · {g.count:,} logs · {human_bytes(g.bytes)}",
            f"source: {g.source or '—'}   topic: {g.topic or '—'}   pack id: {g.pack_id or '—'}",
            f"tags: {g.tags_text() or '—'}",
        ]
        if self.detail.missing_logs:
            parts.append("Its logs are no longer kept (memory budget); newer groups have theirs.")
        elif g.sample_cut:
            parts.append(
                f"Showing the first {g.kept:,} of its {g.count:,} logs: groups arrived faster "
                f"than the window keeps logs ({SAMPLE_LINES_PER_S:,} a second), so each kept fewer."
            )
        elif g.count > g.kept:
            parts.append(f"Showing the first {g.kept:,} of its {g.count:,} logs.")
        self.group_info.setText("\n".join(parts))
        self.logs.resizeColumnsToContents()
        for column in range(self.detail.columnCount() - 1):  # the last one stretches
            self.logs.setColumnWidth(column, min(self.logs.columnWidth(column), _MAX_COLUMN))

    def _export_dialog(self) -> None:
        groups = self.selected_groups()
        if not groups:
            self.group_info.setText("Select the groups to export first (Shift/Ctrl-click).")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export groups", "tailbox-groups.jsonl", "JSON Lines (*.jsonl)"
        )
        if path:
            export_groups(groups, Path(path))
