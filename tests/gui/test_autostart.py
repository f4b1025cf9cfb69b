"""Start at login: the XDG autostart entry, and the HKCU Run key through a fake winreg."""

import contextlib
import shlex

import pytest

from gui.autostart import RUN_KEY, VALUE_NAME, LinuxAutostart, WindowsAutostart, command


def test_linux_entry_is_written_and_removed(tmp_path):
    autostart = LinuxAutostart(tmp_path, ["/opt/tail box/tailbox"])
    assert not autostart.enabled()
    autostart.set_enabled(True)
    entry = (tmp_path / "autostart" / "tailbox.desktop").read_text()
    assert autostart.enabled()
    assert "[Desktop Entry]" in entry and "Type=Application" in entry
    assert f"Exec={shlex.join(['/opt/tail box/tailbox'])}" in entry
    autostart.set_enabled(False)
    assert not autostart.enabled()
    autostart.set_enabled(False)  # already off: no error


def test_linux_entry_honours_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert LinuxAutostart().path == tmp_path / "cfg" / "autostart" / "tailbox.desktop"


def test_the_command_starts_this_tailbox():
    argv = command()
    assert argv[-1].endswith("tailbox") or argv[-2:] == ["-m", "agent.cli"]


class FakeWinreg:
    """The part of winreg the Run key needs, over a dict."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_READ = 1
    KEY_SET_VALUE = 2
    REG_SZ = 1

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}

    @contextlib.contextmanager
    def OpenKey(self, root, path, reserved, access):
        if (root, path) not in self.keys:
            raise FileNotFoundError(path)
        yield (root, path)

    @contextlib.contextmanager
    def CreateKeyEx(self, root, path, reserved, access):
        self.keys.setdefault((root, path), {})
        yield (root, path)

    def QueryValueEx(self, key, name):
        kind, value = self.keys[key].get(name, (None, None))
        if kind is None:
            raise FileNotFoundError(name)
        return value, kind

    def SetValueEx(self, key, name, reserved, kind, value):
        self.keys[key][name] = (kind, value)

    def DeleteValue(self, key, name):
        if name not in self.keys[key]:
            raise FileNotFoundError(name)
        del self.keys[key][name]


def test_windows_run_key_holds_the_quoted_command():
    winreg = FakeWinreg()
    autostart = WindowsAutostart(winreg, [r"C:\Program Files\Tailbox\tailbox.exe"])
    assert not autostart.enabled()
    autostart.set_enabled(True)
    assert autostart.enabled()
    assert winreg.keys[("HKCU", RUN_KEY)][VALUE_NAME] == (
        winreg.REG_SZ,
        r'"C:\Program Files\Tailbox\tailbox.exe"',
    )
    autostart.set_enabled(False)
    assert not autostart.enabled()
    autostart.set_enabled(False)


@pytest.mark.parametrize("enabled", [True, False])
def test_windows_autostart_touches_only_its_own_value(enabled):
    winreg = FakeWinreg()
    with winreg.CreateKeyEx("HKCU", RUN_KEY, 0, 2) as key:
        winreg.SetValueEx(key, "OneDrive", 0, 1, "onedrive.exe")
    WindowsAutostart(winreg, ["t.exe"]).set_enabled(enabled)
    assert winreg.keys[("HKCU", RUN_KEY)]["OneDrive"] == (1, "onedrive.exe")
