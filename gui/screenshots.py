"""Render docs/screenshots/*.png from a real running agent on a private Xvfb display.

    python -m gui.screenshots [--out docs/screenshots]

It installs nothing. It needs an X server and Qt's xcb libraries; on Debian/Ubuntu:

    apt-get install -y xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 \
        libxkbcommon-x11-0 libxcb-render-util0 libxcb-image0

It starts `Xvfb` itself, copies the loghub samples from tests/data/loghub into a
temporary folder, runs real pipelines on them (a feeder keeps appending lines so the
view is live), and blocks one pipeline's flusher_file on a FIFO to raise the
queue-full banner. The user's pipelines and window state are not touched.
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
            "aggregators:\n  - Type: aggregator_default\n    MaxLogCount: 100",
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
        with xvfb():
            return _render(root, feeder, fifo, out_dir)


def _render(root: Path, feeder: Feeder, fifo: Path, out_dir: Path) -> list[Path]:
    from agent.config import parse_config
    from gui.app import create_app, settings
    from gui.bridge import AgentBridge
    from gui.configstore import Draft, save_pipelines
    from gui.windows.main_window import MainWindow

    app = create_app()
    bridge = AgentBridge()
    texts = _configs(root, fifo)
    configs = {name: parse_config(text, f"{name}.yml", name) for name, text in texts.items()}
    calm = [configs[n] for n in ("apache", "hdfs", "system")]
    save_pipelines(calm, set())
    window = MainWindow(bridge, [Draft(c.name, c.to_dict()) for c in calm], settings())
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
    rows = [r for r in range(live.proxy.rowCount()) if live.model.at(r).pipeline == "apache"]
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

    feeder.stop.set()
    with open(fifo, "rb") as unblocked:  # a reader lets the blocked flusher finish
        window.quit()
        drained = threading.Thread(target=unblocked.read, daemon=True)
        drained.start()
        _wait(app, lambda: window.stopped_ok is not None, 60, "the agent to stop")
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    for path in render(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
