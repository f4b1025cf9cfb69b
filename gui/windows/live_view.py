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
from gui.summary import SAMPLE_LOGS, GroupSummary
from gui.widgets.table import RowTable

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
        self.pipelines.currentIndexChanged.connect(
            lambda: self.proxy.set_pipeline(self.pipelines.currentData() or "")
        )
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
        self.table.setModel(self.proxy)
        self.table.set_widths([100, 110, 300, 80, 70, 80, 220, 150])
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # paths end in the file name
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.proxy.rowsAboutToBeRemoved.connect(self._rows_leaving)

        self.group_info = QLabel("Select a group to see its logs.")
        self.group_info.setObjectName("groupInfo")
        self.group_info.setWordWrap(True)
        self.group_info.setTextFormat(Qt.TextFormat.PlainText)
        self.group_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.logs = RowTable()
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

    def _rows_leaving(self, parent: QModelIndex, first: int, last: int) -> None:
        self._evicted_rows += last - first + 1

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

    # -- selection, copy, export -------------------------------------------------------

    def selected_groups(self) -> list[GroupSummary]:
        return [
            self.model.at(self.proxy.mapToSource(self.proxy.index(row, 0)).row())
            for row in self.table.selected_rows()
        ]

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            return
        self.show_group(self.model.at(self.proxy.mapToSource(index).row()))

    def show_group(self, g: GroupSummary) -> None:
        self.detail.show_group(g)
        parts = [
            f"{g.pipeline} · {clock(g.time)} · {g.count:,} logs · {human_bytes(g.bytes)}",
            f"source: {g.source or '—'}   topic: {g.topic or '—'}   pack id: {g.pack_id or '—'}",
            f"tags: {g.tags_text() or '—'}",
        ]
        if self.detail.missing_logs:
            parts.append("Its logs are no longer kept (memory budget); newer groups have theirs.")
        elif g.count > SAMPLE_LOGS:
            parts.append(f"Showing the first {SAMPLE_LOGS} of its {g.count:,} logs.")
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
