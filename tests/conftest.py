"""Shared test set-up: Qt renders offscreen (there is no display on CI), and every test
gets its own config and state dirs (checkpoints!), which subprocesses inherit."""

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path_factory.mktemp("tailbox-dirs")
    monkeypatch.setenv("TAILBOX_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("TAILBOX_CONFIG_DIR", str(base / "config"))


@pytest.fixture(autouse=True)
def _collect_in_the_main_thread() -> object:
    """Once a Qt app runs, Python collects cycles only in the GUI thread, on a timer
    (gui.collector): tests that spin no event loop collect here, between tests."""
    yield
    collector = sys.modules.get("gui.collector")
    running = collector.active() if collector is not None else None
    if running is not None:
        running.check()
