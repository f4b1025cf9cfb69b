"""GUI test set-up: offscreen Qt, an isolated config dir, and helpers to run a real agent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import PipelineConfig, parse_config
from gui.app import settings
from gui.bridge import AgentBridge
from gui.configstore import Draft
from gui.windows.main_window import MainWindow
from tests.fifo import FifoReader, write_lines

HERE = Path(__file__).resolve().parent
# Qt's offscreen platform has no window manager: it warns whenever a top-level widget
# with a layout is shown (size hints) or raised. Nothing the window does can avoid it.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test writes pipelines, window state and checkpoints under tmp_path."""
    monkeypatch.setenv("TAILBOX_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TAILBOX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "config"


def pipeline(name: str, text: str) -> PipelineConfig:
    return parse_config(text, f"{name}.yml", name)


def file_pipeline(
    name: str, pattern: Path, out: Path, interval_ms: int = 100, extra_global: str = "", **agg: int
) -> PipelineConfig:
    """input_file → aggregator_default (with `agg` options) → flusher_file."""
    options = "".join(f", {k}: {v}" for k, v in agg.items())
    return pipeline(
        name,
        f"""
global: {{AggregatIntervalMs: {interval_ms}, StopTimeoutSecs: 30{extra_global}}}
inputs: [{{Type: input_file, FilePaths: ["{pattern}"]}}]
aggregators: [{{Type: aggregator_default{options}}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
""",
    )


def blocked_pipeline(tmp_path: Path, fifo: Path, lines: int = 400) -> PipelineConfig:
    """`lines` lines into "export": aggregator_default (10 logs a group) → flusher_file
    into `fifo`, with a one-group queue, so the queue fills while nobody reads the FIFO."""
    (tmp_path / "in").mkdir()
    write_lines(tmp_path / "in" / "app.log", lines)
    return file_pipeline(
        "export",
        tmp_path / "in" / "*.log",
        fifo,
        interval_ms=50,
        extra_global=", DefaultLogGroupQueueSize: 1",
        MaxLogCount=10,
    )


@pytest.fixture
def make_window(qtbot):  # type: ignore[no-untyped-def]
    """Build a MainWindow around a real running agent; Quit (final flush) at teardown."""
    windows: list[MainWindow] = []

    def make(configs: list[PipelineConfig], drafts: list[Draft] | None = None) -> MainWindow:
        bridge = AgentBridge(tick_ms=50)
        if drafts is None:
            drafts = [Draft(c.name, c.to_dict()) for c in configs]
        # Not qtbot.addWidget: it deletes widgets before fixtures tear down, and the
        # window must outlive the agent's final flush below.
        window = MainWindow(bridge, drafts, settings())
        windows.append(window)
        bridge.start(configs)
        window.show()
        return window

    yield make
    for window in windows:
        if not window.quitting:
            window.quit()
        qtbot.waitUntil(lambda w=window: w.stopped_ok is not None, timeout=30_000)
        window.close()
        window.deleteLater()


@pytest.fixture
def idle_window(qtbot):  # type: ignore[no-untyped-def]
    """A shown MainWindow whose agent runs nothing (for view-only tests)."""
    bridge = AgentBridge()
    window = MainWindow(bridge, [], settings())
    qtbot.addWidget(window)
    window.show()
    yield window
    bridge.close()


@pytest.fixture
def fifo(tmp_path: Path, make_window) -> Iterator[tuple[Path, FifoReader]]:  # type: ignore[no-untyped-def]
    """A FIFO nobody reads yet; read at teardown (before the windows quit) so a flusher
    blocked in open() can stop."""
    path = tmp_path / "out.fifo"
    os.mkfifo(path)
    reader = FifoReader(path)
    yield path, reader
    if not reader.started:
        reader.start()
