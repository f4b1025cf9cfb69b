"""Closing the window with a tray: it hides, says so once, and the tray shows warnings."""

from PySide6.QtCore import QObject, Signal

from gui.app import settings
from gui.bridge import AgentBridge
from gui.tray import Notifier
from gui.windows.main_window import MainWindow
from tests.gui.conftest import blocked_pipeline


class FakeTray(QObject):
    """Stands in for gui.tray.Tray, which offscreen Qt cannot show."""

    open_requested = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.notifier = Notifier()
        self.said: list[str] = []
        self.notified: list[str] = []
        self.warnings: list[str] = []
        self.paused = False

    def say(self, title: str, text: str) -> None:
        self.said.append(title)

    def queue_full(self, pipeline: str, text: str) -> None:
        if self.notifier.should_notify(pipeline):
            self.notified.append(pipeline)

    def queue_recovered(self, pipeline: str) -> None:
        self.notifier.episode_over(pipeline)

    def set_warning(self, warnings: list[str]) -> None:
        self.warnings = warnings

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def hide(self) -> None:
        pass


def test_close_hides_to_the_tray_and_says_so_once(qtbot):
    tray = FakeTray()
    window = MainWindow(AgentBridge(), [], settings(), tray)  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert not window.isVisible() and not window.quitting
    window.show()
    window.close()
    assert tray.said == ["Tailbox keeps running"]
    tray.open_requested.emit()
    assert window.isVisible()
    tray.pause_toggled.emit(True)
    assert window.bridge.agent.paused and tray.paused
    with qtbot.waitSignal(window.stopped, timeout=10_000):
        tray.quit_requested.emit()


def test_queue_full_turns_the_tray_to_warning_and_notifies_once(qtbot, fifo, tmp_path):
    path, reader = fifo
    config = blocked_pipeline(tmp_path, path)
    tray = FakeTray()
    bridge = AgentBridge(tick_ms=50)
    window = MainWindow(bridge, [], settings(), tray)  # type: ignore[arg-type]
    bridge.start([config])
    qtbot.waitUntil(lambda: tray.warnings == ["export"], timeout=15_000)
    assert tray.notified == ["export"]
    reader.start()
    qtbot.waitUntil(lambda: tray.warnings == [], timeout=15_000)
    with qtbot.waitSignal(window.stopped, timeout=15_000):
        window.quit()
    window.deleteLater()
