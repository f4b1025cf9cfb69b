"""The events history and the agent's own log."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from agent.events import Event
from gui.models.events import EventsModel
from gui.widgets.table import RowTable

__all__ = ["EventsPanel", "LogPanel"]

LOG_PANEL_LINES = 5_000


class EventsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = EventsModel(parent=self)
        self.table = RowTable()
        self.table.setObjectName("eventsTable")
        self.table.setModel(self.model)
        self.table.set_widths([100, 120, 130])
        self._following = True  # the newest events in view, as long as the user does not scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.table)

    def add(self, events: list[Event], lost: int) -> None:
        bar = self.table.verticalScrollBar()
        if self.table.isVisible():  # hidden, its scroll bar's range is stale: keep the last
            self._following = bar.value() >= bar.maximum()
        self.model.append(events, lost)
        if self._following:
            self.table.scrollToBottom()
        self.table.show_visible()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._following:  # laid out at its real size only now
            QTimer.singleShot(0, self.table.scrollToBottom)


class LogPanel(QPlainTextEdit):
    """The agent's log records, the latest LOG_PANEL_LINES kept."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agentLog")
        self.setReadOnly(True)
        self.setMaximumBlockCount(LOG_PANEL_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

    def add(self, lines: list[str]) -> None:
        if lines:
            self.appendPlainText("\n".join(lines))
