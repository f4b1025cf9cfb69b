"""The tray icon on a real X server with a real system tray, driven with real X input.

Everything else in tests/gui runs offscreen, where Qt has no system tray. Here the test
starts its own Xvfb and `trayer` (a freedesktop XEmbed tray host; Qt's xcb tray falls
back to XEmbed when no StatusNotifier watcher is on D-Bus, so the child gets no bus),
then runs tests/gui/real_tray_app.py: `gui.app.main()` with one pipeline whose
flusher_file writes into a FIFO nobody reads yet. See that module for the scenario.

Needs Debian's `xvfb` and `trayer`, and Qt's xcb libraries (see gui/screenshots.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.screenshots import TRAYER
from tests.gui.xlib import XDisplay, xtest_available

ROOT = Path(__file__).resolve().parents[2]
SCREEN = "1600x1000x24"  # wider than the window (1280x800 at 0,0), so trayer stays visible
START_TIMEOUT = 15.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (apt-get install xvfb)"),
    pytest.mark.skipif(
        shutil.which("trayer") is None, reason="needs a system tray host (apt-get install trayer)"
    ),
]


def _private_env(tmp_path: Path, display: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "XAUTHORITY")}
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        # A bus address that leads nowhere: no StatusNotifierWatcher, so Qt uses XEmbed
        # (and nothing autolaunches a bus).
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'no-bus'}",
        XDG_RUNTIME_DIR=str(runtime),
        TAILBOX_CONFIG_DIR=str(tmp_path / "config"),
        TAILBOX_STATE_DIR=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
    )
    return env


def _wait(what: str, condition: object, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():  # type: ignore[operator]
        if process.poll() is not None:
            pytest.fail(f"{what}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _start_xvfb() -> tuple[str, subprocess.Popen[bytes]]:
    """Xvfb on the first display number in 120-199 that nobody uses (or just took)."""
    for n in range(120, 200):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        server = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", SCREEN, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while server.poll() is None and time.monotonic() < deadline:
            try:
                XDisplay(f":{n}").close()
                return f":{n}", server
            except OSError:
                time.sleep(0.05)
        _stop(server)  # lost a race for that number (or did not start): try the next
    pytest.fail("no free X display number in 120-199 for Xvfb")


@pytest.fixture
def tray_display(tmp_path: Path) -> Iterator[str]:
    """A private X server with trayer owning the system-tray selection; its DISPLAY."""
    display, server = _start_xvfb()
    env = _private_env(tmp_path, display)
    log = open(tmp_path / "trayer.log", "wb")  # noqa: SIM115 - closed below
    trayer = subprocess.Popen(
        TRAYER,  # top right: the window (at 0,0) never covers it
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with XDisplay(display) as x:
            _wait("trayer to own the tray selection", lambda: x.selection_owner() != 0, trayer)
            _wait("trayer's panel on the screen", lambda: x.tray_host() is not None, trayer)
        yield display
    finally:
        _stop(trayer)
        log.close()
        _stop(server)


def test_the_tray_icon_works_in_a_real_system_tray(tray_display, tmp_path):
    assert xtest_available(), "the test clicks through XTEST: apt-get install libxtst6"
    result = subprocess.run(
        [sys.executable, "-m", "tests.gui.real_tray_app", str(tmp_path / "work")],
        cwd=ROOT,
        env=_private_env(tmp_path, tray_display),
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result (exit {result.returncode})\n{result.stdout}\n{result.stderr}"
    r = json.loads(lines[-1].removeprefix("RESULT "))
    why = f"{json.dumps(r, indent=1)}\n--- child stderr ---\n{result.stderr}"
    assert r["error"] is None, why

    # A tray exists on this display and gui.app.main() made the icon there.
    assert r["platform"] == "xcb" and r["tray_available"] and r["tray_created"], why
    # Embedded in trayer's panel: an X window of the child's inside it, and Qt's geometry
    # of the icon is non-empty and within the panel.
    assert r["icon_visible"] and r["host_class"] == "trayer", why
    x, y, w, h = r["icon_geometry"]
    hx, hy, hw, hh = r["host_geometry"]
    assert w > 0 and h > 0, why
    assert hx <= x and hy <= y and x + w <= hx + hw and y + h <= hy + hh, why
    assert r["icon_windows"], why
    # The icon on the screen: calm, amber badge while the queue is full, calm again.
    assert r["icon_key_normal_at_start"] and r["amber_at_start"] == 0, why
    assert r["amber_when_full"] > 10 and r["tooltip_when_full"].endswith("queue full: export")
    assert r["banner_shown"], why
    assert r["amber_after_recovery"] == 0 and r["tooltip_after_recovery"] == "Tailbox", why
    assert not r["banner_after_recovery"], why
    # Closing the window (WM_DELETE_WINDOW) hides it; the agent keeps running; the tray's
    # "Open Tailbox" brings it back; the second close says nothing.
    assert r["hidden_after_close"] and r["still_running"] and not r["quitting_after_close"]
    assert r["visible_after_open"] and r["hidden_after_second_close"], why
    # On screen, exactly: one queue-full message for the episode, one "keeps running".
    assert r["balloons"] == ["Tailbox: export is backing up", "Tailbox keeps running"], why
    # Pause all / resume all from the tray menu (the window's action follows).
    assert r["paused_from_menu"] == [True, True], why
    assert r["resumed_from_menu"] == [False, False], why
    # Quit from the tray menu: the final flush delivers the groups the aggregator held
    # (its flush interval is an hour), the icon goes, the process exits 0.
    expected = r["expected_logs"]
    assert r["lines_read"] == expected and r["delivered_before_quit"] < expected, why
    assert r["stopped_ok"] and r["delivered_after_quit"] == expected, why
    assert r["logs_in_fifo"] == expected, why
    assert not r["icon_visible_after_quit"], why
    assert r["exit_code"] == 0 and result.returncode == 0, why
