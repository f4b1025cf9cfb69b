"""The child process of tests/gui/test_tray_real.py: Tailbox on a real X server with a
real XEmbed system tray (trayer), driven with real X input.

    python -m tests.gui.real_tray_app WORKDIR

DISPLAY, QT_QPA_PLATFORM=xcb and the private TAILBOX_* dirs come from the parent. It
saves one pipeline (input_file → aggregator_default → flusher_file into a FIFO nobody
reads yet), then runs `gui.app.main()` — the real start-up: the tray exists only if Qt
finds a tray host — and drives it from a timer: right-clicks on the tray icon and
clicks menu items through XTEST, closes the window with WM_DELETE_WINDOW as a window
manager would, looks at the icon's pixels on the screen. The last stdout line is
`RESULT <json>`; the exit status is main()'s.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QColor, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon, QWidget

from tests.fifo import FifoReader, write_lines
from tests.gui.xlib import XDisplay

LINES = 400  # written before start: 40 groups of 10 fill the queue of one
MAX_LOG_COUNT = 10
MAX_GROUP_COUNT = 2  # groups the aggregator holds per source (they wait for a flush)
EXTRA = 7  # lines written while the window is hidden in the tray
TIMEOUT = 30.0

PIPELINE = """
global: {{AggregatIntervalMs: 1000, DefaultLogGroupQueueSize: 1, StopTimeoutSecs: 30}}
inputs: [{{Type: input_file, FilePaths: ["{pattern}"]}}]
aggregators:
  - Type: aggregator_default
    MaxLogCount: {max_log_count}
    MaxLogGroupCount: {max_group_count}
    FlushIntervalMs: 3600000
flushers: [{{Type: flusher_file, FilePath: "{fifo}"}}]
"""


class Failed(Exception):
    pass


def wait(what: str, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Run the event loop until `condition()` holds; Failed after `timeout` seconds."""
    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f}s waiting for {what}")
        app.processEvents()  # type: ignore[union-attr]
        time.sleep(0.01)


class BalloonWatch(QObject):
    """Records the title of every tray message Qt puts on the screen (a QBalloonTip:
    the XEmbed tray has no notification service)."""

    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.metaObject().className() == "QBalloonTip"
        ):
            labels = [label.text() for label in watched.findChildren(QLabel)]
            self.titles.append(next((t for t in labels if t), ""))
        return False


def _count_on_screen(geometry: Any, match: Callable[[QColor], bool]) -> int:
    image = (
        QGuiApplication.primaryScreen()
        .grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height())
        .toImage()
    )
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if match(image.pixelColor(x, y))
    )


def amber_pixels(geometry: Any) -> int:
    """Pixels of the warning badge's amber on the screen where the icon is."""
    return _count_on_screen(
        geometry, lambda c: c.red() > 200 and 120 < c.green() < 190 and c.blue() < 90
    )


def blue_pixels(geometry: Any) -> int:
    """Pixels of the icon's blue box there: the icon really is painted on the screen."""
    return _count_on_screen(
        geometry, lambda c: c.blue() > 150 and c.red() < 80 and 80 < c.green() < 140
    )


class Driver:
    def __init__(self, work: Path, fifo: Path, log: Path) -> None:
        self.work = work
        self.fifo = fifo
        self.log = log
        self.reader = FifoReader(fifo)
        self.balloons = BalloonWatch()
        self.x = XDisplay(os.environ["DISPLAY"])
        self.result: dict[str, Any] = {"error": None, "steps": []}
        self.metrics: Any = None

    def step(self, name: str, **values: Any) -> None:
        self.result["steps"].append(name)
        self.result.update(values)
        print(f"step: {name} {values}", file=sys.stderr, flush=True)

    # -- real input ----------------------------------------------------------------------

    def menu_click(self, tray: Any, action: QAction) -> None:
        """Right-click the tray icon (X pointer, XTEST), then click `action` in its menu."""
        centre = tray.icon.geometry().center()
        self.x.click(centre.x(), centre.y(), button=3)
        menu = tray.menu
        wait("the tray menu to open", menu.isVisible)
        wait(
            "the tray menu to be on the screen",
            lambda: (w := self.x.window(int(menu.winId()))) is not None and w.mapped,
        )
        point = menu.mapToGlobal(menu.actionGeometry(action).center())
        self.x.click(point.x(), point.y(), button=1)
        wait("the tray menu to close", lambda: not menu.isVisible())

    # -- the scenario --------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        except Exception as e:
            self.result["error"] = f"{e}\n{traceback.format_exc()}"
            self._abort()

    def _abort(self) -> None:
        app = QApplication.instance()
        window = self._window()
        self.reader.start()
        if window is not None and not window.quitting:
            window.quit()
        else:
            app.exit(1)  # type: ignore[union-attr]

    def _window(self) -> Any:
        from gui.windows.main_window import MainWindow

        app = QApplication.instance()
        return next(
            (w for w in app.topLevelWidgets() if isinstance(w, MainWindow)),  # type: ignore[union-attr]
            None,
        )

    def _run(self) -> None:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.installEventFilter(self.balloons)
        window = self._window()
        if window is None:
            raise Failed("gui.app.main() showed no MainWindow")
        tray = window.tray
        self.step(
            "started",
            platform=app.platformName(),
            tray_available=QSystemTrayIcon.isSystemTrayAvailable(),
            tray_created=tray is not None,
        )
        if tray is None:
            raise Failed("gui.app.main() created no tray although a tray host runs")
        pipeline = window.bridge.agent.pipelines["export"]
        self.metrics = pipeline.metrics
        normal_key = tray._normal.cacheKey()
        warning_key = tray._warning.cacheKey()

        # The icon is embedded in trayer's panel: an X window of ours inside it.
        def host_and_icon() -> tuple[Any, list[Any]]:
            host = self.x.tray_host()
            ours = [] if host is None else self.x.windows_of(os.getpid(), host.id)
            return host, [w for w in ours if w.mapped]

        wait("the tray icon's window inside trayer's panel", lambda: bool(host_and_icon()[1]))
        host, ours = host_and_icon()
        wait(
            "the tray icon's geometry inside trayer's panel",
            lambda: host.contains(*tray.icon.geometry().getRect()),
        )
        geometry = tray.icon.geometry()
        wait("the icon painted on the screen", lambda: blue_pixels(geometry) > 20)
        self.step(
            "embedded",
            icon_visible=tray.icon.isVisible(),
            icon_geometry=list(geometry.getRect()),
            host_geometry=[host.x, host.y, host.width, host.height],
            host_class=host.cls,
            icon_windows=[[w.x, w.y, w.width, w.height] for w in ours],
            icon_key_normal_at_start=tray.icon.icon().cacheKey() == normal_key,
            amber_at_start=amber_pixels(geometry),
        )

        # The flusher blocks in open() on the FIFO: the queue fills, the icon warns.
        wait("the warning icon", lambda: tray.icon.icon().cacheKey() == warning_key)
        wait("the warning badge on the screen", lambda: amber_pixels(geometry) > 10)
        self.step(
            "queue_full",
            amber_when_full=amber_pixels(geometry),
            tooltip_when_full=tray.icon.toolTip(),
            banner_shown="export" in window.banners.banners,
        )

        # Closing the window (as a window manager asks) hides it to the tray.
        def on_screen() -> bool:  # the X window's own state (its id can change)
            w = self.x.window(int(window.winId()))
            return w is not None and w.mapped

        self.x.request_close(int(window.winId()))
        wait("the window to hide", lambda: not window.isVisible())
        wait("the window to leave the screen", lambda: not on_screen())
        ticks: list[object] = []
        window.bridge.ticked.connect(ticks.append)
        write_lines(self.log, EXTRA, start=LINES)
        wait("the agent to keep ticking with the window hidden", lambda: len(ticks) >= 5)
        self.step(
            "closed",
            hidden_after_close=not window.isVisible(),
            quitting_after_close=window.quitting,
            still_running=not window.quitting and "export" in window.bridge.agent.pipelines,
        )
        window.bridge.ticked.disconnect(ticks.append)

        # Open Tailbox from the tray menu, then close it again: no second message.
        actions = {a.text(): a for a in tray.menu.actions()}
        self.menu_click(tray, actions["Open Tailbox"])
        wait("the window to come back", window.isVisible)
        wait("the window back on the screen", on_screen)
        self.step("reopened", visible_after_open=window.isVisible())
        self.x.request_close(int(window.winId()))
        wait("the window to hide again", lambda: not window.isVisible())
        self.step("closed_again", hidden_after_second_close=not window.isVisible())

        # Reading the FIFO unblocks the flusher: the queue recovers, the icon is calm.
        self.reader.start()
        wait("the normal icon", lambda: tray.icon.icon().cacheKey() == normal_key)
        wait("the badge to leave the screen", lambda: amber_pixels(geometry) == 0)
        total = LINES + EXTRA
        held = MAX_GROUP_COUNT * MAX_LOG_COUNT
        m = self.metrics
        # Everything is read and all but the groups the aggregator holds is delivered;
        # those wait for a flush interval of an hour — or for Quit's final flush.
        wait(
            "every line read and all but the held groups delivered",
            lambda: m.lines == total and m.delivered_logs >= total - held,
        )
        self.step(
            "recovered",
            tooltip_after_recovery=tray.icon.toolTip(),
            amber_after_recovery=amber_pixels(geometry),
            banner_after_recovery="export" in window.banners.banners,
        )

        # Pause and resume every pipeline from the tray menu.
        self.menu_click(tray, actions["Pause all pipelines"])
        wait("the agent to pause", lambda: window.bridge.agent.paused)
        paused = (window.bridge.agent.paused, window.pause_action.isChecked())
        self.menu_click(tray, actions["Pause all pipelines"])
        wait("the agent to resume", lambda: not window.bridge.agent.paused)
        self.step(
            "paused_resumed",
            paused_from_menu=list(paused),
            resumed_from_menu=[window.bridge.agent.paused, window.pause_action.isChecked()],
        )

        # Quit from the tray menu: the final flush delivers the held groups.
        self.step("quitting", delivered_before_quit=m.delivered_logs, lines_read=m.lines)
        self.menu_click(tray, actions["Quit"])
        wait("the agent to stop", lambda: window.stopped_ok is not None)
        self.step(
            "stopped",
            stopped_ok=window.stopped_ok,
            icon_visible_after_quit=tray.icon.isVisible(),
        )


def main() -> int:
    work = Path(sys.argv[1])
    from agent.config import parse_config
    from gui.app import create_app
    from gui.configstore import save_pipelines

    (work / "in").mkdir(parents=True)
    log = work / "in" / "app.log"
    write_lines(log, LINES)
    fifo = work / "out.fifo"
    os.mkfifo(fifo)
    text = PIPELINE.format(
        pattern=work / "in" / "*.log",
        fifo=fifo,
        max_log_count=MAX_LOG_COUNT,
        max_group_count=MAX_GROUP_COUNT,
    )
    save_pipelines([parse_config(text, "export.yml", "export")], set())

    create_app()  # gui.app.main() takes this instance as its own
    driver = Driver(work, fifo, log)
    QTimer.singleShot(0, driver.run)

    import gui.app

    code = gui.app.main()
    result = driver.result
    result["exit_code"] = code
    result["balloons"] = driver.balloons.titles
    if driver.metrics is not None:
        result["delivered_after_quit"] = driver.metrics.delivered_logs
    if driver.reader.started:
        driver.reader.join()
        result["logs_in_fifo"] = driver.reader.logs()
    result["expected_logs"] = LINES + EXTRA
    driver.x.close()
    print("RESULT " + json.dumps(result), flush=True)
    return code if result["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
