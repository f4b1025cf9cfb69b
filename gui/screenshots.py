"""Render docs/screenshots/*.png from a real running agent on a private Xvfb display.

    python -m gui.screenshots [--out docs/screenshots]

It installs nothing. It needs an X server and Qt's xcb libraries; on Debian/Ubuntu:

    apt-get install -y xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 \
        libxkbcommon-x11-0 libxcb-render-util0 libxcb-image0

It starts `Xvfb` itself, copies the loghub samples from tests/data/loghub into a
temporary folder, runs real pipelines on them (a feeder keeps appending lines so the
view is live), and blocks one pipeline's flusher_file on a FIFO to raise the
queue-full banner. The user's pipelines and window state are not touched.

With `trayer` installed (apt-get install -y trayer: a small XEmbed system tray) it
starts that on the same display too and adds tray.png: the tray icon in its warning
state with its menu open, cropped from the screen. Without it, tray.png is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from gui.tray import Tray
    from gui.windows.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
LOGHUB = ROOT / "tests" / "data" / "loghub"
SIZE = (1360, 1000)
_APACHE = r"^\[([^\]]+)\] \[(\w+)\] (.*)$"
_HDFS = r"^(\d{6} \d{6}) (\d+) (\w+) ([^:]+): (.*)$"


@contextlib.contextmanager
def xvfb(display: int = 97) -> Iterator[None]:
    """A private X server for the duration; DISPLAY points at it."""
    if shutil.which("Xvfb") is None:
        sys.exit("gui.screenshots: Xvfb is not installed (apt-get install -y xvfb xauth ...)")
    socket = Path(f"/tmp/.X11-unix/X{display}")
    server = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", "1600x1200x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"gui.screenshots: Xvfb :{display} did not start")
            time.sleep(0.05)
        os.environ["DISPLAY"] = f":{display}"
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        yield
    finally:
        server.terminate()
        server.wait(10)


# trayer at the top right, as wide as its icons: the window (at 0,0) never covers it.
TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"]
TRAYER += ["--height", "32", "--SetDockType", "true"]


@contextlib.contextmanager
def trayer() -> Iterator[bool]:
    """A system tray on the X server of DISPLAY when `trayer` is installed; whether it is.

    Qt's xcb tray icon uses the XEmbed tray only when no StatusNotifier watcher is on
    the session D-Bus; the bus of the desktop this runs from is taken out of reach.
    """
    if shutil.which("trayer") is None:
        print("gui.screenshots: trayer is not installed; no tray.png", file=sys.stderr)
        yield False
        return
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/tailbox-screenshots"
    host = subprocess.Popen(TRAYER, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield True
    finally:
        host.terminate()
        host.wait(10)


def _pipeline(name: str, root: Path, files: str, middle: str, out: str, queue: int = 4) -> str:
    return f"""
global: {{AggregatIntervalMs: 500, DefaultLogGroupQueueSize: {queue}, StopTimeoutSecs: 10}}
inputs:
  - Type: input_file
    FilePaths: ["{root / name / files}"]
{middle}
flushers:
  - Type: flusher_file
    FilePath: "{out}"
"""


def _configs(root: Path, fifo: Path) -> dict[str, str]:
    out = root / "out"
    return {
        "apache": _pipeline(
            "apache",
            root,
            "*.log",
            f"""processors:
  - Type: processor_regex
    Regex: '{_APACHE}'
    Keys: [when, level, message]
aggregators:
  - Type: aggregator_context
    MaxLogCount: 40""",
            f"{out}/apache.jsonl",
        ),
        "hdfs": _pipeline(
            "hdfs",
            root,
            "*.log",
            f"""processors:
  - Type: processor_regex
    Regex: '{_HDFS}'
    Keys: [when, pid, level, component, message]
aggregators:
  - Type: aggregator_default
    MaxLogCount: 64""",
            f"{out}/hdfs.jsonl",
        ),
        "system": _pipeline(
            "system",
            root,
            "*.log",
            "aggregators:\n  - Type: aggregator_default\n    MaxLogCount: 100\n"
            "    FlushIntervalMs: 1000",  # its own interval: the form shows the override
            f"{out}/system.jsonl",
        ),
        "export": _pipeline(
            "export",
            root,
            "*.log",
            "aggregators:\n  - Type: aggregator_base\n    MaxLogCount: 20",
            str(fifo),
            queue=1,
        ),
    }


class Feeder:
    """Appends the rest of each loghub sample a few lines at a time: a live log."""

    def __init__(self, sources: dict[Path, list[str]]) -> None:
        self.sources = sources
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="screenshots-feeder", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.15):
            for path, lines in self.sources.items():
                if lines:
                    batch, lines[:] = lines[:7], lines[7:]
                    with open(path, "a", encoding="utf-8") as f:
                        f.writelines(batch)


def _prepare(root: Path) -> tuple[Feeder, Path]:
    sources: dict[Path, list[str]] = {}
    for folder, names in (
        ("apache", ["Apache_2k.log"]),
        ("hdfs", ["HDFS_2k.log"]),
        ("system", ["Linux_2k.log", "OpenSSH_2k.log"]),
        ("export", ["Zookeeper_2k.log"]),
    ):
        (root / folder).mkdir(parents=True)
        for name in names:
            lines = (LOGHUB / name).read_text(encoding="utf-8", errors="replace").splitlines(True)
            target = root / folder / name.replace("_2k", "").lower()
            target.write_text("".join(lines[:400]), encoding="utf-8")
            sources[target] = lines[400:]
    fifo = root / "export.fifo"
    os.mkfifo(fifo)
    return Feeder(sources), fifo


def _wait(app: object, condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"gui.screenshots: timed out waiting for {what}")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def _settle(app: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def render(out_dir: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="tailbox-shots-") as tmp:
        root = Path(tmp)
        os.environ["TAILBOX_CONFIG_DIR"] = str(root / "config")
        os.environ["TAILBOX_STATE_DIR"] = str(root / "state")
        feeder, fifo = _prepare(root)
        with xvfb(), trayer() as tray:
            return _render(root, feeder, fifo, out_dir, tray)


def _render(
    root: Path, feeder: Feeder, fifo: Path, out_dir: Path, with_tray: bool = False
) -> list[Path]:
    from agent.config import parse_config
    from gui.app import create_app, settings
    from gui.bridge import AgentBridge
    from gui.configstore import Draft, save_pipelines
    from gui.tray import Tray
    from gui.windows.main_window import MainWindow

    app = create_app()
    bridge = AgentBridge()
    texts = _configs(root, fifo)
    configs = {name: parse_config(text, f"{name}.yml", name) for name, text in texts.items()}
    calm = [configs[n] for n in ("apache", "hdfs", "system")]
    save_pipelines(calm, set())
    tray = None
    if with_tray:
        _wait(app, Tray.available, 15, "trayer to offer a system tray")
        tray = Tray()
    drafts = [Draft(c.name, c.to_dict()) for c in calm]
    window = MainWindow(bridge, drafts, settings(), tray)
    window.resize(*SIZE)
    bridge.start(calm)
    window.show()
    feeder.thread.start()
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shot(name: str) -> None:
        _settle(app, 0.4)
        path = out_dir / name
        window.grab().save(str(path))
        shots.append(path)

    live = window.live
    _wait(app, lambda: live.model.rowCount() > 60, 30, "live groups")
    _settle(app, 2.5)  # a few samples for the sparklines
    live.set_follow(False)
    rows = [r for r in range(live.shown_rows()) if live.model.at(r).pipeline == "apache"]
    live.table.selectRow(rows[-3])
    live.table.scrollToBottom()
    live.splitter.setSizes([470, 300])
    shot("live-groups.png")

    window.tabs.setCurrentWidget(window.config)
    window.config.list.setCurrentRow(2)  # system: two files matched by one glob
    form = window.config.form
    assert form is not None
    form.aggregator.form.editor("MaxLogCount").setText("0")  # shows an inline error
    shot("configuration.png")
    form.aggregator.form.editor("MaxLogCount").setText("100")

    bridge.apply([*calm, configs["export"]])
    _wait(app, lambda: "export" in window.banners.banners, 30, "the queue-full banner")
    window.tabs.setCurrentWidget(window.status_view)
    _settle(app, 6)  # the sparklines gather some history
    shot("queue-full-banner.png")
    if tray is not None:
        shots.append(_tray_shot(app, window, tray, out_dir / "tray.png"))

    feeder.stop.set()
    with open(fifo, "rb") as unblocked:  # a reader lets the blocked flusher finish
        window.quit()
        drained = threading.Thread(target=unblocked.read, daemon=True)
        drained.start()
        _wait(app, lambda: window.stopped_ok is not None, 60, "the agent to stop")
    return shots


def _tray_shot(app: QApplication, window: MainWindow, tray: Tray, path: Path) -> Path:
    """The warning tray icon with its menu open, cropped from the screen around trayer."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QWidget

    icon = tray.icon
    _wait(app, lambda: "queue full" in icon.toolTip(), 15, "the tray's warning icon")
    # Until trayer has embedded it, the icon's geometry is at 0,0 (under the window).
    _wait(app, lambda: icon.geometry().left() > SIZE[0], 15, "the icon in trayer's panel")
    window.close()  # hides it to the tray (the app keeps running), out of the picture
    _settle(app, 0.3)
    for widget in app.topLevelWidgets():  # the notification balloons (QBalloonTip)
        if widget.metaObject().className() == "QBalloonTip":
            widget.hide()
    screen = QGuiApplication.primaryScreen()
    # Xvfb's root window is black: a plain desktop behind trayer (no window manager
    # here, so lowering it puts it under every other window).
    desktop = QWidget(None, Qt.WindowType.FramelessWindowHint)
    desktop.setStyleSheet(
        "background: qlineargradient(x1:0, y1:0, x2:1, y2:1, stop:0 #3d5a80, stop:1 #98c1d9);"
    )
    desktop.setGeometry(screen.geometry())
    desktop.show()
    desktop.lower()
    # Below the icon, as a right-click on a top panel opens it.
    tray.menu.popup(QPoint(icon.geometry().right(), icon.geometry().bottom() + 2))
    _wait(app, tray.menu.isVisible, 5, "the tray menu")
    _settle(app, 0.5)
    area = icon.geometry().united(tray.menu.geometry()).adjusted(-120, 0, 0, 30)
    area.setTop(0)
    area.setRight(screen.geometry().right())
    screen.grabWindow(0).copy(area.intersected(screen.geometry())).save(str(path))
    tray.menu.hide()
    desktop.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    for path in render(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
