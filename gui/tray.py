"""The tray icon: its menu, its warning state, and one notification per queue-full episode."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from gui.icons import app_icon, warning_icon

__all__ = ["NOTIFY_GAP_SECS", "Notifier", "Tray"]

NOTIFY_GAP_SECS = 60.0


class Notifier:
    """Decides which queue-full episodes get a notification: one per episode, rate-limited."""

    def __init__(self, gap: float = NOTIFY_GAP_SECS) -> None:
        self.gap = gap
        self._notified: set[str] = set()  # pipelines whose current episode was announced
        self._last = -gap

    def should_notify(self, pipeline: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if pipeline in self._notified or now - self._last < self.gap:
            return False
        self._notified.add(pipeline)
        self._last = now
        return True

    def episode_over(self, pipeline: str) -> None:
        self._notified.discard(pipeline)


class Tray(QObject):
    """Exists only where the desktop has a system tray (never offscreen)."""

    open_requested = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notifier = Notifier()
        self._normal, self._warning = app_icon(), warning_icon()
        self.icon = QSystemTrayIcon(self._normal, self)
        self.icon.setToolTip("Tailbox")
        self.menu = QMenu()
        self.menu.addAction("Open Tailbox", self.open_requested.emit)
        self.pause_action = self.menu.addAction("Pause all pipelines")
        self.pause_action.setCheckable(True)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.menu.addSeparator()
        self.menu.addAction("Quit", self.quit_requested.emit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.show()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()

    def set_warning(self, warnings: list[str]) -> None:
        self.icon.setIcon(self._warning if warnings else self._normal)
        self.icon.setToolTip(
            "Tailbox — queue full: " + ", ".join(warnings) if warnings else "Tailbox"
        )

    def queue_full(self, pipeline: str, text: str) -> None:
        if self.notifier.should_notify(pipeline):
            self.icon.showMessage(
                f"Tailbox: {pipeline} is backing up", text, QSystemTrayIcon.MessageIcon.Warning
            )

    def queue_recovered(self, pipeline: str) -> None:
        self.notifier.episode_over(pipeline)

    def say(self, title: str, text: str) -> None:
        self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information)

    def set_paused(self, paused: bool) -> None:
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)

    def hide(self) -> None:
        self.icon.hide()
