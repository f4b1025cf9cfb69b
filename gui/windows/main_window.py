"""The main window: banners, the live groups, status, events, the agent's log, configuration."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from gui.autostart import Autostart
from gui.bridge import AgentBridge, PipelineStatus, Tick
from gui.configstore import Draft
from gui.icons import app_icon
from gui.tray import Tray
from gui.widgets.banner import BannerArea
from gui.windows.config_editor import ConfigEditor
from gui.windows.live_view import LiveView
from gui.windows.panels import EventsPanel, LogPanel
from gui.windows.queue_watch import QueueFullWatch
from gui.windows.status_view import StatusView

__all__ = ["MainWindow"]

_TABS = ("Live", "Status", "Events", "Agent log", "Configure")


class MainWindow(QMainWindow):
    """Emits `stopped(ok)` once Quit has stopped the agent with its final flush."""

    stopped = Signal(bool)

    def __init__(
        self,
        bridge: AgentBridge,
        drafts: list[Draft],
        settings: QSettings,
        tray: Tray | None = None,
        autostart: Autostart | None = None,
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.settings = settings
        self.tray = tray
        self.autostart = autostart
        self.quitting = False
        self.stopped_ok: bool | None = None  # set when Quit has stopped the agent
        self.setWindowTitle("Tailbox")
        self.setWindowIcon(app_icon())

        self.banners = BannerArea()
        self.banners.open_settings.connect(self.open_flusher_settings)
        self.banners.retry.connect(self.retry_now)
        self.queue_watch = QueueFullWatch(self.banners, tray, self)
        self.live = LiveView()
        self.status_view = StatusView()
        self.events = EventsPanel()
        self.log = LogPanel()
        self.config = ConfigEditor(bridge.registry, drafts)
        self.config.apply_requested.connect(bridge.apply)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, title in zip(
            (self.live, self.status_view, self.events, self.log, self.config), _TABS, strict=True
        ):
            self.tabs.addTab(widget, title)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banners)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.agent_state = QLabel()
        self.counts = QLabel()
        self.counts.setObjectName("groupCounts")
        rate = bridge.live_groups_per_s
        self.counts.setToolTip(
            "Groups delivered but not listed, or no longer: "
            + (f"past {rate:,.0f} a second from one pipeline (a backfill), " if rate else "")
            + f"past the table's {self.live.model.capacity:,} rows, or while the display "
            "is paused. Delivery never leaves a group out."
        )
        self.statusBar().addWidget(self.agent_state, 1)
        self.statusBar().addPermanentWidget(self.counts)
        self._build_menus()
        self.live.model.not_kept_changed.connect(lambda _: self._update_counts())
        bridge.ticked.connect(self.on_tick)
        if tray is not None:
            tray.open_requested.connect(self.bring_to_front)
            tray.pause_toggled.connect(self.pause_action.setChecked)
            tray.quit_requested.connect(self.quit)
        self._restore()
        self._update_state()
        self._update_counts()

    # -- menus and shortcuts -----------------------------------------------------------

    def _action(
        self,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        slot: Callable[..., object],
        checkable: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("Import pipeline…", None, self.config.import_dialog))
        file_menu.addAction(self._action("Export pipeline…", None, self.config.export_dialog))
        file_menu.addSeparator()
        file_menu.addAction(
            self._action("Close window", QKeySequence.StandardKey.Close, self.close)
        )
        file_menu.addAction(self._action("Quit", "Ctrl+Q", self.quit))

        view_menu = self.menuBar().addMenu("&View")
        for i, title in enumerate(_TABS):
            view_menu.addAction(
                self._action(
                    title, f"Ctrl+{i + 1}", lambda _=False, i=i: self.tabs.setCurrentIndex(i)
                )
            )
        view_menu.addSeparator()
        view_menu.addAction(
            self._action("Find in live groups", QKeySequence.StandardKey.Find, self.focus_filter)
        )
        self.hold_action = self._action(
            "Pause display", "Ctrl+P", self.live.set_held, checkable=True
        )
        self.live.hold_button.toggled.connect(self.hold_action.setChecked)
        view_menu.addAction(self.hold_action)
        follow = self._action("Follow newest groups", None, self.live.set_follow, checkable=True)
        follow.setChecked(True)
        self.live.follow_changed.connect(follow.setChecked)
        view_menu.addAction(follow)

        agent_menu = self.menuBar().addMenu("&Agent")
        self.pause_action = self._action(
            "Pause all pipelines", "Ctrl+Shift+P", self.set_agent_paused, checkable=True
        )
        agent_menu.addAction(self.pause_action)
        self.autostart_action = self._action(
            "Start at login", None, self.set_autostart, checkable=True
        )
        self.autostart_action.setEnabled(self.autostart is not None)
        if self.autostart is not None:
            self.autostart_action.blockSignals(True)
            self.autostart_action.setChecked(self.autostart.enabled())
            self.autostart_action.blockSignals(False)
        agent_menu.addAction(self.autostart_action)

    def focus_filter(self) -> None:
        self.tabs.setCurrentWidget(self.live)
        self.live.filter.setFocus()
        self.live.filter.selectAll()

    # -- the tick ----------------------------------------------------------------------

    @Slot(object)
    def on_tick(self, tick: Tick) -> None:
        if tick.groups or tick.groups_not_kept:
            self.live.add_groups(tick.groups, tick.groups_not_kept)
        if tick.events or tick.events_not_kept:
            self.events.add(tick.events, tick.events_not_kept)
            for event in tick.events:
                self.queue_watch.on_event(event)
        self.log.add(tick.log_lines)
        if tick.status is not None:
            self._on_status(tick.status)
        for result in tick.applied:
            self.config.applied(result)
        if tick.stopped is not None:
            self._on_stopped(tick.stopped)
        self._update_counts()

    def _on_status(self, status: dict[str, PipelineStatus]) -> None:
        self.status_view.update_status(status, self.bridge.agent.paused)
        self.queue_watch.on_status(status)
        self._update_state()

    def _update_counts(self) -> None:
        model = self.live.model
        text = f"{model.rowCount():,} groups shown"
        if model.pending:
            text += f" · {model.pending:,} waiting (display paused)"
        if model.not_kept:
            text += f" · {model.not_kept:,} more delivered, not listed"
        self.counts.setText(text)

    def _update_state(self) -> None:
        running = len(self.bridge.agent.pipelines)
        if self.quitting:
            text = "Stopping: delivering what was read (final flush)…"
        elif self.bridge.agent.paused:
            text = f"Agent paused — {running} pipeline(s) hold their inputs"
        else:
            text = f"Agent running — {running} pipeline(s)"
        self.agent_state.setText(text)

    # -- actions -----------------------------------------------------------------------

    def set_agent_paused(self, paused: bool) -> None:
        if paused:
            self.bridge.agent.pause()
        else:
            self.bridge.agent.resume()
        self.pause_action.setChecked(paused)
        if self.tray is not None:
            self.tray.set_paused(paused)
        self._update_state()

    def set_autostart(self, enabled: bool) -> None:
        if self.autostart is not None:
            self.autostart.set_enabled(enabled)

    def open_flusher_settings(self, pipeline: str, flusher: str) -> None:
        self.tabs.setCurrentWidget(self.config)
        self.config.open_flusher(pipeline, flusher)

    def retry_now(self, pipeline: str) -> None:
        asked = self.bridge.agent.retry_now(pipeline)
        self.statusBar().showMessage(
            f"{pipeline}: asked {asked} failing flusher(s) to retry now"
            if asked
            else f"{pipeline}: no flusher is failing; it is slow or blocked — it goes on by itself",
            8000,
        )

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    # -- closing and quitting ----------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save()
        if self.quitting:
            event.setAccepted(self.stopped_ok is not None)
            return
        event.ignore()
        if self.tray is None:
            self.quit()
            return
        self.hide()
        if not self.settings.value("told_about_tray", False, bool):
            self.tray.say(
                "Tailbox keeps running",
                "Closing the window leaves the agent running in the tray; Quit is in its menu.",
            )
            self.settings.setValue("told_about_tray", True)

    def quit(self) -> None:
        """Stop the agent with its final flush, then emit `stopped`; the window stays live."""
        if self.quitting:
            return
        self.quitting = True
        self._save()
        self._update_state()
        self.bridge.shutdown()

    def _on_stopped(self, ok: bool) -> None:
        self.stopped_ok = ok
        self.bridge.close()
        if self.tray is not None:
            self.tray.hide()
        self.stopped.emit(ok)

    # -- remembered state --------------------------------------------------------------

    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = self.settings.value("live_splitter")
        if isinstance(splitter, QByteArray):
            self.live.splitter.restoreState(splitter)
        self.tabs.setCurrentIndex(int(self.settings.value("tab", 0)))

    def _save(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("live_splitter", self.live.splitter.saveState())
        self.settings.setValue("tab", self.tabs.currentIndex())
        self.settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.banners.restyle()
            self.events.table.reshow()  # event colours follow the theme
        super().changeEvent(event)
