"""From queue_full / queue_recovered events and status samples to banners and the tray.

At full ingest speed a queue fills and drains many times a second: that is ordinary
back-pressure, not news. An episode gets its banner (and its tray notification) only
once it has lasted BANNER_DELAY_SECS; one that ends sooner is only in the events list.
"""

from __future__ import annotations

import time
from typing import Protocol

from PySide6.QtCore import QObject, QTimer

from agent.events import Event
from gui.bridge import PipelineStatus
from gui.models.events import describe
from gui.widgets.banner import BannerArea

__all__ = ["BANNER_DELAY_SECS", "QueueFullWatch"]

BANNER_DELAY_SECS = 1.0


class TrayLike(Protocol):
    def queue_full(self, pipeline: str, text: str) -> None: ...
    def queue_recovered(self, pipeline: str) -> None: ...
    def set_warning(self, warnings: list[str]) -> None: ...


class QueueFullWatch(QObject):
    def __init__(self, banners: BannerArea, tray: TrayLike | None, parent: QObject | None = None):
        super().__init__(parent)
        self.banners = banners
        self.tray = tray
        self.delay = BANNER_DELAY_SECS
        self._pending: dict[str, tuple[Event, float]] = {}  # episode, when it reached us
        self._shown_at: dict[str, float] = {}
        self._rejected_base: dict[str, int] = {}  # rejected adds before each episode
        self._last: dict[str, PipelineStatus] = {}
        self._timer = QTimer(self)
        self._timer.setObjectName("tailbox-queue-watch")
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._promote)

    def on_event(self, event: Event) -> None:
        if event.kind == "queue_full":
            status = self._last.get(event.pipeline)
            self._rejected_base[event.pipeline] = status.metrics["rejected_adds"] if status else 0
            self._pending[event.pipeline] = (event, time.monotonic())
            self._timer.start()
        elif event.kind == "queue_recovered":
            self._pending.pop(event.pipeline, None)
            self._clear(event.pipeline)

    def _promote(self) -> None:
        now = time.monotonic()
        for pipeline, (event, arrived) in list(self._pending.items()):
            if now - arrived >= self.delay:
                del self._pending[pipeline]
                self._shown_at[pipeline] = now
                self.banners.show_full(pipeline, event.data)
                if self.tray is not None:
                    self.tray.queue_full(pipeline, describe(event))
                self._update_tray()
        if not self._pending:
            self._timer.stop()

    def _clear(self, pipeline: str) -> None:
        if self._shown_at.pop(pipeline, None) is None:
            return
        self.banners.clear(pipeline)
        if self.tray is not None:
            self.tray.queue_recovered(pipeline)
        self._update_tray()

    def _update_tray(self) -> None:
        if self.tray is not None:
            self.tray.set_warning(sorted(self.banners.banners))

    def on_status(self, status: dict[str, PipelineStatus]) -> None:
        self._last = status
        for pipeline, banner in list(self.banners.banners.items()):
            s = status.get(pipeline)
            # A pipeline that was removed or restarted never reports queue_recovered.
            if s is None or (not s.full_since and s.sampled > self._shown_at[pipeline]):
                self._clear(pipeline)
                continue
            lane = next((f for f in s.flushers if f["name"] == banner.flusher), None)
            error = lane["last_error"] if lane and lane["failing_since"] else ""
            rejected = s.metrics["rejected_adds"] - self._rejected_base.get(pipeline, 0)
            banner.update_status(max(1, rejected), "", error)
