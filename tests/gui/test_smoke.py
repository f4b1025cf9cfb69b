"""`tailbox --smoke-test`, exactly as the packaged build runs it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_test_opens_the_window_runs_a_pipeline_and_exits_0():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)  # it must choose offscreen itself without a display
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--smoke-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "OK: window opened (offscreen), a group of 3 log(s)" in result.stdout


def test_without_a_display_the_window_says_what_to_do_instead(monkeypatch, capsys):
    from gui.app import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main() == 1
    assert "`tailbox run` runs the agent headless" in capsys.readouterr().err
