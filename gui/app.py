"""`tailbox` without a command: the Qt application around the agent and its window."""

from __future__ import annotations

import logging
import os
import signal
import sys

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from agent.config import config_dir
from agent.params import ConfigError
from gui.autostart import for_this_platform
from gui.bridge import AgentBridge
from gui.collector import GuiThreadCollector
from gui.configstore import load_drafts, to_config
from gui.icons import app_icon
from gui.tray import Tray
from gui.windows.main_window import MainWindow

__all__ = ["create_app", "has_display", "main", "settings"]

_log = logging.getLogger("tailbox.gui")


def has_display() -> bool:
    """Whether Qt can open a window here (or was told where to draw)."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# Agent threads run long C calls (splitting and encoding whole chunks) under the GIL;
# the GUI thread re-enters Python for every cell it paints. Asking for the GIL back
# after 1 ms instead of 5 keeps painting quick under full ingest (benchmarks/gui_latency).
GUI_SWITCH_INTERVAL = 0.001


def create_app() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    # Fractional scale factors (150 %) as they are, not rounded to 2x.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Tailbox")
    app.setOrganizationName("tailbox")
    app.setDesktopFileName("tailbox")
    app.setWindowIcon(app_icon())
    GuiThreadCollector(app).start()  # cycles holding Qt objects die in this thread
    return app


def settings() -> QSettings:
    """The window's remembered state, beside the pipelines in the config dir."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def _quiet_console() -> None:
    # The log panel wants INFO from the agent; the console keeps the level the CLI set.
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.level == logging.NOTSET:
            handler.setLevel(root.level)


def main(smoke_test: bool = False) -> int:
    """Open the window with the agent running; the exit status when it closes."""
    _quiet_console()
    if smoke_test:
        from gui.smoke import run_smoke_test

        return run_smoke_test()
    if not has_display():
        print(
            "tailbox: no display to open the window on; `tailbox run` runs the agent headless",
            file=sys.stderr,
        )
        return 1
    app = create_app()
    app.setQuitOnLastWindowClosed(False)  # the tray keeps running; Quit ends the app
    bridge = AgentBridge()
    drafts = load_drafts(bridge.registry)
    configs = []
    for draft in drafts:
        try:
            configs.append(to_config(draft, bridge.registry))
        except ConfigError as e:
            _log.warning("pipeline %s is not started: %s", draft.name, e)
    tray = Tray() if Tray.available() else None
    window = MainWindow(bridge, drafts, settings(), tray, for_this_platform())
    window.stopped.connect(lambda ok: app.exit(0))
    # Ctrl+C and SIGTERM (logout) quit like the menu does: final flush first. Python
    # runs the handler at the bridge's next tick, which is Python code.
    signal.signal(signal.SIGINT, lambda *_: window.quit())
    signal.signal(signal.SIGTERM, lambda *_: window.quit())
    app.aboutToQuit.connect(lambda: _stop_now(window, bridge))
    bridge.start(configs)
    window.show()
    return app.exec()


def _stop_now(window: MainWindow, bridge: AgentBridge) -> None:
    """The session is ending without our Quit: stop the agent (final flush) before exit."""
    if window.stopped_ok is None:
        bridge.agent.stop()
        bridge.close()
