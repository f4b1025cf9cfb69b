"""`tailbox --smoke-test`: the window, a tiny pipeline end to end, a group in the live view.

Runs in a temporary config/state dir (the user's pipelines are not touched), offscreen
when there is no display. Exit 0 only if a group reached the live view, the flusher
wrote every line, and Quit stopped the agent with everything delivered.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QTimer

from agent.config import parse_config

__all__ = ["LINES", "TIMEOUT_SECS", "run_smoke_test"]

TIMEOUT_SECS = 30.0
LINES = 3


def _quiet_offscreen() -> None:
    """Drop the warning Qt's offscreen platform prints for any window with a layout.

    It has no window manager to pass size hints to; the packaged build's smoke test
    treats unexpected stderr as failure, so this known line must not reach it.
    """
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: object, message: str) -> None:
        if "does not support propagateSizeHints" not in message:
            print(message, file=sys.stderr, flush=True)

    qInstallMessageHandler(handler)


def _fail(text: str) -> int:
    print(f"tailbox --smoke-test: FAILED: {text}", file=sys.stderr, flush=True)
    return 1


def run_smoke_test() -> int:
    with tempfile.TemporaryDirectory(prefix="tailbox-smoke-") as tmp:
        root = Path(tmp)
        os.environ["TAILBOX_CONFIG_DIR"] = str(root / "config")
        os.environ["TAILBOX_STATE_DIR"] = str(root / "state")
        from gui.app import has_display

        if not has_display():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            _quiet_offscreen()
        return _run(root)


def _run(root: Path) -> int:
    from gui.app import create_app, settings
    from gui.bridge import AgentBridge
    from gui.configstore import Draft
    from gui.windows.main_window import MainWindow

    (root / "in").mkdir()
    (root / "in" / "app.log").write_text(
        "".join(f"smoke test line {i}\n" for i in range(LINES)), encoding="utf-8"
    )
    out = root / "out.jsonl"
    config = parse_config(
        f"""
global: {{AggregatIntervalMs: 100, StopTimeoutSecs: 10}}
inputs: [{{Type: input_file, FilePaths: ["{root / "in" / "*.log"}"]}}]
aggregators: [{{Type: aggregator_default}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
""",
        "smoke.yml",
        "smoke",
    )
    app = create_app()
    bridge = AgentBridge()
    window = MainWindow(bridge, [Draft("smoke", config.to_dict())], settings())
    result: dict[str, object] = {}
    started = time.monotonic()

    def check() -> None:
        if window.quitting:
            return
        if window.live.model.rowCount() >= 1:
            result["group"] = window.live.model.at(0)
            window.quit()
        elif time.monotonic() - started > TIMEOUT_SECS:
            result["timeout"] = True
            window.quit()

    def stopped(ok: bool) -> None:
        result["delivered"] = ok
        app.exit(0)

    window.stopped.connect(stopped)
    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(check)
    bridge.start([config])
    window.show()
    poll.start()
    app.exec()
    poll.stop()
    window.deleteLater()

    if result.get("timeout"):
        return _fail(f"no LogGroup reached the live view within {TIMEOUT_SECS:.0f} s")
    if not result.get("delivered"):
        return _fail("the agent did not deliver everything it read before stopping")
    written = out.read_text(encoding="utf-8") if out.exists() else ""
    missing = [i for i in range(LINES) if f"smoke test line {i}" not in written]
    if missing:
        return _fail(f"flusher_file did not write line(s) {missing}")
    group = result["group"]
    print(
        f"tailbox --smoke-test: OK: window opened ({app.platformName()}), a group of "
        f"{group.count} log(s) from {group.source} reached the live view, "  # type: ignore[attr-defined]
        f"{LINES} lines written by flusher_file, agent stopped with everything delivered",
        flush=True,
    )
    return 0
