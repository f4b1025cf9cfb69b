"""Shared test set-up: Qt renders offscreen (there is no display on CI), Qt tests run
in the application as `tailbox` makes it, and every test gets its own config and state
dirs (checkpoints!), which subprocesses inherit."""

import os
import sys
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path_factory.mktemp("tailbox-dirs")
    monkeypatch.setenv("TAILBOX_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("TAILBOX_CONFIG_DIR", str(base / "config"))


@pytest.fixture(scope="session")
def qapp():  # type: ignore[no-untyped-def]
    """The application as `tailbox` makes it, for every test that uses Qt (pytest-qt's
    own would lack the GUI-thread garbage collector, the switch interval, the names)."""
    from gui.app import create_app

    return create_app()


@pytest.fixture(autouse=True)
def _gc_thresholds() -> Iterator[None]:
    """A test that runs `tailbox run` in-process (agent.tune_gc) must not change how
    the tests after it collect garbage."""
    import gc

    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)


@pytest.fixture(autouse=True)
def _collect_in_the_main_thread() -> Iterator[None]:
    """Once a Qt app runs, Python collects cycles only in the GUI thread, on a timer
    (gui.collector): tests that spin no event loop collect here, between tests."""
    yield
    collector = sys.modules.get("gui.collector")
    running = collector.active() if collector is not None else None
    if running is not None:
        running.check()
