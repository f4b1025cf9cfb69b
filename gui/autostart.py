"""Start at login: an XDG autostart entry on Linux, the HKCU Run key on Windows.

The Windows side takes its `winreg` module as an argument so that it is tested on
Linux with a fake one.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "RUN_KEY",
    "VALUE_NAME",
    "Autostart",
    "LinuxAutostart",
    "WindowsAutostart",
    "command",
    "for_this_platform",
]

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE_NAME = "Tailbox"


def command() -> list[str]:
    """How to start this Tailbox: the frozen executable, the `tailbox` script, or -m."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = shutil.which("tailbox")
    return [script] if script else [sys.executable, "-m", "agent.cli"]


class Autostart:
    def enabled(self) -> bool:
        raise NotImplementedError

    def set_enabled(self, enabled: bool) -> None:
        raise NotImplementedError


class LinuxAutostart(Autostart):
    """`$XDG_CONFIG_HOME/autostart/tailbox.desktop` (freedesktop Desktop Application Autostart)."""

    def __init__(self, config_home: Path | None = None, argv: list[str] | None = None) -> None:
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / "tailbox.desktop"
        self.argv = argv or command()

    def enabled(self) -> bool:
        return self.path.is_file()

    def entry(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Tailbox\n"
            "Comment=Desktop log agent\n"
            f"Exec={shlex.join(self.argv)}\n"
            "Icon=tailbox\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def set_enabled(self, enabled: bool) -> None:
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(self.entry(), encoding="utf-8")
        else:
            self.path.unlink(missing_ok=True)


class WindowsAutostart(Autostart):
    """A `Tailbox` value under HKCU\\...\\Run holding the quoted command line."""

    def __init__(self, winreg: Any, argv: list[str] | None = None) -> None:
        self.winreg = winreg
        self.argv = argv or command()

    def value(self) -> str:
        return subprocess.list2cmdline(self.argv)

    def enabled(self) -> bool:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_CURRENT_USER, RUN_KEY, 0, w.KEY_READ) as key:
                w.QueryValueEx(key, VALUE_NAME)
        except OSError:
            return False
        return True

    def set_enabled(self, enabled: bool) -> None:
        w = self.winreg
        with w.CreateKeyEx(w.HKEY_CURRENT_USER, RUN_KEY, 0, w.KEY_SET_VALUE) as key:
            if enabled:
                w.SetValueEx(key, VALUE_NAME, 0, w.REG_SZ, self.value())
            else:
                with contextlib.suppress(FileNotFoundError):
                    w.DeleteValue(key, VALUE_NAME)


def for_this_platform() -> Autostart | None:
    """The autostart of the running platform, None where there is none."""
    if sys.platform == "win32":
        import winreg

        return WindowsAutostart(winreg)
    if sys.platform.startswith("linux"):
        return LinuxAutostart()
    return None
