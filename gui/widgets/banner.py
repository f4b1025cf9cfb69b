"""Inline queue-full banners: which pipeline, aggregator and flusher, since when, what to do."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.theme import is_dark, warning_colours

__all__ = ["BannerArea", "QueueFullBanner"]


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class QueueFullBanner(QFrame):
    """One pipeline's queue-full episode, until `queue_recovered` clears it."""

    open_settings = Signal(str, str)  # pipeline, flusher
    retry = Signal(str)  # pipeline

    def __init__(self, pipeline: str, data: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueFullBanner")
        self.pipeline = pipeline
        self.aggregator = str(data.get("aggregator") or "?")
        self.flusher = str(data.get("flusher") or "")
        self.since = float(data.get("since") or time.time())
        self.rejected = 0
        self.flusher_error = ""
        self._title = QLabel()
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._details = QLabel()
        self._details.setTextFormat(Qt.TextFormat.PlainText)
        self._details.setWordWrap(True)
        self.settings_button = QPushButton("Flusher settings…")
        self.settings_button.setToolTip("Open this pipeline's flusher in the configuration")
        self.settings_button.clicked.connect(
            lambda: self.open_settings.emit(self.pipeline, self.flusher)
        )
        self.retry_button = QPushButton("Retry now")
        self.retry_button.setToolTip(
            "Ask a failing flusher to try again now instead of after its backoff"
        )
        self.retry_button.clicked.connect(lambda: self.retry.emit(self.pipeline))
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self._title)
        text.addWidget(self._details)
        icon = QLabel("⚠")
        icon.setObjectName("bannerIcon")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.restyle()
        self.refresh()

    def restyle(self) -> None:
        background, border, text = warning_colours(is_dark())
        self.setStyleSheet(
            f"#queueFullBanner {{ background: {background.name()}; border: 1px solid "
            f"{border.name()}; border-radius: 6px; }} "
            f"#queueFullBanner QLabel {{ color: {text.name()}; background: transparent; }} "
            f"#bannerIcon {{ font-size: 20px; color: {border.name()}; }}"
        )

    def update_status(self, rejected: int, flusher: str, flusher_error: str) -> None:
        self.rejected = rejected
        if flusher:
            self.flusher = flusher
        self.flusher_error = flusher_error
        self.refresh()

    def refresh(self) -> None:
        flusher = self.flusher or "a flusher"
        self._title.setText(f"Pipeline “{self.pipeline}”: the LogGroupQueue is full")
        since = time.strftime("%H:%M:%S", time.localtime(self.since))
        why = f" ({self.flusher_error})" if self.flusher_error else ""
        self._details.setText(
            f"{self.aggregator} cannot hand over its groups: {flusher} is behind{why}. "
            f"Since {since} ({_ago(time.time() - self.since)}), {self.rejected:,} rejected "
            f"adds; reading is paused, nothing is dropped."
        )
        self.settings_button.setEnabled(bool(self.flusher))

    def text(self) -> str:
        return f"{self._title.text()}\n{self._details.text()}"


class BannerArea(QWidget):
    """Stacks one banner per pipeline whose queue is full."""

    open_settings = Signal(str, str)
    retry = Signal(str)
    changed = Signal(int)  # how many banners are shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 0)
        self._layout.setSpacing(6)
        self.banners: dict[str, QueueFullBanner] = {}
        self.setVisible(False)

    def show_full(self, pipeline: str, data: dict[str, Any]) -> QueueFullBanner:
        banner = self.banners.get(pipeline)
        if banner is None:
            banner = QueueFullBanner(pipeline, data, self)
            banner.open_settings.connect(self.open_settings)
            banner.retry.connect(self.retry)
            self.banners[pipeline] = banner
            self._layout.addWidget(banner)
            self._changed()
        return banner

    def clear(self, pipeline: str) -> None:
        banner = self.banners.pop(pipeline, None)
        if banner is not None:
            self._layout.removeWidget(banner)
            banner.deleteLater()
            self._changed()

    def restyle(self) -> None:
        for banner in self.banners.values():
            banner.restyle()

    def _changed(self) -> None:
        self.setVisible(bool(self.banners))
        self.changed.emit(len(self.banners))
