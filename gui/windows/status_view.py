"""Status at a glance: a card per pipeline (throughput, queue fill, counters) and the files."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.bridge import PipelineStatus
from gui.formatting import human_bytes
from gui.models.files import FilesModel
from gui.theme import is_dark, level_colour
from gui.widgets.gauge import Gauge
from gui.widgets.sparkline import Sparkline
from gui.widgets.table import PythonRowTable

__all__ = ["PipelineCard", "StatusView"]

_CARD_COLUMNS = 2


class PipelineCard(QFrame):
    """One pipeline: lines/s sparkline, queue gauge, groups, errors, the flush interval."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(name)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.state = QLabel()
        self.rate = QLabel()
        self.rate.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.sparkline = Sparkline()
        self.sparkline.setToolTip("Lines read per second, the last minute")
        self.gauge = Gauge()
        self.counters = QLabel()
        self.counters.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.state, 0, 1)
        grid.addWidget(self.rate, 0, 2)
        grid.addWidget(self.sparkline, 1, 0, 1, 3)
        grid.addWidget(QLabel("Queue"), 2, 0)
        grid.addWidget(self.gauge, 2, 1, 1, 2)
        grid.addWidget(self.counters, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        self._previous: PipelineStatus | None = None

    def update_status(self, status: PipelineStatus, paused: bool) -> None:
        m = status.metrics
        rate = 0.0
        if self._previous is not None and status.sampled > self._previous.sampled:
            elapsed = status.sampled - self._previous.sampled
            rate = max(0.0, (m["lines"] - self._previous.metrics["lines"]) / elapsed)
        self._previous = status
        self.sparkline.add(rate)
        self.rate.setText(f"{rate:,.0f} lines/s")
        self.gauge.set_value(m["queue_depth"], m["queue_capacity"])
        if status.full_since:
            state, level = "queue full", "error"
        elif any(f["failing_since"] for f in status.flushers):
            state, level = "flusher failing", "error"
        else:
            state, level = ("paused", "warn") if paused else ("running", "")
        self.state.setText(state)
        colour = level_colour(level, is_dark())
        self.state.setStyleSheet(f"color: {colour.name()}; font-weight: bold;" if colour else "")
        self.counters.setText(
            f"{m['lines']:,} lines ({human_bytes(m['bytes'])}) read · {m['groups']:,} groups "
            f"flushed · {m['errors']:,} errors · {m['rejected_adds']:,} rejected adds\n"
            f"{status.aggregator}, flushing every {status.interval_ms:,} ms"
        )


class StatusView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: dict[str, PipelineCard] = {}
        self.files = FilesModel(self)
        cards_box = QGroupBox("Pipelines")
        self._grid = QGridLayout(cards_box)
        self._empty = QLabel("No pipeline is running.")
        self._grid.addWidget(self._empty, 0, 0)
        files_box = QGroupBox("Input files")
        files_layout = QVBoxLayout(files_box)
        self.files_table = PythonRowTable()
        self.files_table.setObjectName("filesTable")
        self.files_table.setModel(self.files)
        self.files_table.set_widths([110, 420, 90, 90, 90, 80])
        files_layout.addWidget(self.files_table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(cards_box)
        splitter.addWidget(files_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

    def update_status(self, status: dict[str, PipelineStatus], paused: bool) -> None:
        if set(status) != set(self.cards):
            self._relayout(status)
        for name, s in status.items():
            self.cards[name].update_status(s, paused)
        self.files.update({name: (s.sampled, s.metrics["files"]) for name, s in status.items()})

    def _relayout(self, status: dict[str, PipelineStatus]) -> None:
        for name in list(self.cards):
            if name not in status:
                self.cards.pop(name).deleteLater()
        for name in status:
            if name not in self.cards:
                self.cards[name] = PipelineCard(name)
        for i, name in enumerate(sorted(self.cards)):
            self._grid.addWidget(self.cards[name], i // _CARD_COLUMNS, i % _CARD_COLUMNS)
        self._empty.setVisible(not self.cards)
