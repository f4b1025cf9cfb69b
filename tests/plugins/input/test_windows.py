"""The Windows module, on any system: flags, error mapping, delete-pending, paths.

`_windows` calls kernel32 and msvcrt through module attributes; these tests put fakes
there and check what is asked of Windows and what is made of its answers. The same
calls against the real Windows API run in test_windows_real.py on a Windows runner.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import pytest

import plugins.input.file._reader as reader_module
import plugins.input.file._windows as win
from tests.plugins.input.test_file import Harness, wait_until


class FakeKernel32:
    def __init__(self, handle: Any = 1234, delete_pending: int = 0, info_ok: bool = True) -> None:
        self.handle = handle
        self.delete_pending = delete_pending
        self.info_ok = info_ok
        self.create_calls: list[tuple[Any, ...]] = []
        self.closed: list[Any] = []
        self.info_calls: list[tuple[Any, int, int]] = []

    def CreateFileW(self, *args: Any) -> Any:
        self.create_calls.append(args)
        return self.handle

    def CloseHandle(self, handle: Any) -> int:
        self.closed.append(handle)
        return 1

    def GetFileInformationByHandleEx(
        self, handle: Any, info_class: int, ref: Any, size: int
    ) -> int:
        self.info_calls.append((handle, info_class, size))
        if not self.info_ok:
            return 0
        info = ctypes.cast(ref, ctypes.POINTER(win.FILE_STANDARD_INFO)).contents
        info.NumberOfLinks = 1
        info.DeletePending = self.delete_pending
        return 1


class FakeMsvcrt:
    def __init__(self, fd: int = 42, fail: bool = False) -> None:
        self.fd = fd
        self.fail = fail
        self.opened: list[tuple[Any, int]] = []

    def open_osfhandle(self, handle: Any, flags: int) -> int:
        self.opened.append((handle, flags))
        if self.fail:
            raise OSError(24, "Too many open files")
        return self.fd

    def get_osfhandle(self, fd: int) -> int:
        return 5000 + fd


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeKernel32, FakeMsvcrt]:
    k32, crt = FakeKernel32(), FakeMsvcrt()
    monkeypatch.setattr(win, "_kernel32", k32)
    monkeypatch.setattr(win, "_msvcrt", crt)
    monkeypatch.setattr(win, "_get_last_error", lambda: 0)
    return k32, crt


def test_the_module_imports_everywhere_and_knows_its_platform() -> None:
    assert (os.name == "nt") == win.WINDOWS
    assert win.FILE_SHARE_ALL == 0x7


def test_open_shared_asks_for_read_access_with_every_sharing_flag(
    fake: tuple[FakeKernel32, FakeMsvcrt],
) -> None:
    k32, crt = fake
    assert win.open_shared(r"C:\logs\app.log") == 42
    [(path, access, share, security, disposition, flags, template)] = k32.create_calls
    assert path == r"C:\logs\app.log"
    assert access == 0x80000000  # GENERIC_READ only: never written
    assert share == 0x1 | 0x2 | 0x4  # FILE_SHARE_READ | WRITE | DELETE
    assert share & win.FILE_SHARE_DELETE  # what lets the writer rename and delete
    assert (security, template) == (None, None)
    assert disposition == 3  # OPEN_EXISTING: never creates a file
    assert flags == 0x80
    [(handle, oflags)] = crt.opened
    assert handle == 1234
    assert oflags & (os.O_WRONLY | os.O_RDWR) == 0
    assert k32.closed == []


@pytest.mark.parametrize(
    ("winerror", "exc", "errno"),
    [
        (2, FileNotFoundError, 2),
        (3, FileNotFoundError, 2),
        (5, PermissionError, 13),
        (32, PermissionError, 13),
        (303, PermissionError, 13),
        (1450, OSError, 22),
    ],
)
def test_open_shared_errors_become_the_oserrors_python_raises(
    monkeypatch: pytest.MonkeyPatch,
    fake: tuple[FakeKernel32, FakeMsvcrt],
    winerror: int,
    exc: type[OSError],
    errno: int,
) -> None:
    k32, crt = fake
    k32.handle = win.INVALID_HANDLE_VALUE
    monkeypatch.setattr(win, "_get_last_error", lambda: winerror)
    with pytest.raises(exc) as info:
        win.open_shared("C:\\missing.log")
    error = info.value
    assert type(error) is exc
    assert error.errno == errno
    assert error.filename == "C:\\missing.log"
    assert getattr(error, "winerror", None) == winerror
    assert error.strerror
    assert crt.opened == []


def test_a_failed_descriptor_conversion_closes_the_handle(
    fake: tuple[FakeKernel32, FakeMsvcrt],
) -> None:
    k32, crt = fake
    crt.fail = True
    with pytest.raises(OSError, match="Too many open files"):
        win.open_shared("C:\\app.log")
    assert k32.closed == [1234]


@pytest.mark.parametrize(("pending", "expected"), [(1, True), (0, False)])
def test_delete_pending_comes_from_file_standard_info(
    fake: tuple[FakeKernel32, FakeMsvcrt], pending: int, expected: bool
) -> None:
    k32, _ = fake
    k32.delete_pending = pending
    assert win.is_delete_pending(7) is expected
    [(handle, info_class, size)] = k32.info_calls
    assert handle == 5007  # the OS handle behind the descriptor
    assert info_class == 1  # FileStandardInfo
    assert size == ctypes.sizeof(win.FILE_STANDARD_INFO)


def test_delete_pending_is_false_when_windows_cannot_tell(
    fake: tuple[FakeKernel32, FakeMsvcrt],
) -> None:
    k32, _ = fake
    k32.info_ok = False
    k32.delete_pending = 1
    assert win.is_delete_pending(7) is False


def test_file_standard_info_has_the_windows_layout() -> None:
    # LARGE_INTEGER x2, DWORD, BOOLEAN x2 (+ padding): 24 bytes, as in the Windows SDK.
    assert ctypes.sizeof(win.FILE_STANDARD_INFO) == 24
    assert win.FILE_STANDARD_INFO.DeletePending.offset == 20


def test_is_gone(monkeypatch: pytest.MonkeyPatch, fake: tuple[FakeKernel32, FakeMsvcrt]) -> None:
    k32, _ = fake
    st = os.stat(__file__)
    gone = os.stat_result((st.st_mode, st.st_ino, st.st_dev, 0, 0, 0, 0, 0, 0, 0))
    assert win.is_gone(3, gone)  # no name left (POSIX unlink)
    monkeypatch.setattr(win, "WINDOWS", False)
    k32.delete_pending = 1
    assert not win.is_gone(3, st)  # not asked off Windows
    monkeypatch.setattr(win, "WINDOWS", True)
    assert win.is_gone(3, st)
    k32.delete_pending = 0
    assert not win.is_gone(3, st)


def test_paths_compare_case_insensitively_on_windows() -> None:
    assert win.same_path(r"C:\Logs\App.log", "c:/logs/app.LOG", windows=True)
    assert win.path_key(r"C:\Logs\App.log", windows=True) == r"c:\logs\app.log"
    assert not win.same_path(r"C:\Logs\App.log", r"C:\Logs\App.log.1", windows=True)
    assert not win.same_path("/var/log/App.log", "/var/log/app.log", windows=False)
    assert win.same_path("/var/log/app.log", "/var/log/app.log", windows=False)


def test_open_file_uses_open_shared_on_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"x\n")
    opened: list[str] = []

    def open_shared(p: str) -> int:
        opened.append(p)
        return os.open(p, os.O_RDONLY)

    monkeypatch.setattr(reader_module, "WINDOWS", True)
    monkeypatch.setattr(reader_module, "open_shared", open_shared)
    fd, st = reader_module.open_file(str(path))
    try:
        assert opened == [str(path)]
        assert st.st_size == 2
    finally:
        os.close(fd)
    monkeypatch.setattr(reader_module, "WINDOWS", False)
    fd, _ = reader_module.open_file(str(path))
    os.close(fd)
    assert opened == [str(path)]  # elsewhere os.open as before


def test_a_delete_pending_file_is_read_to_its_end_and_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"one\n")
    deleted = {"yes": False}
    monkeypatch.setattr(win, "WINDOWS", True)
    monkeypatch.setattr(win, "is_delete_pending", lambda fd: deleted["yes"])
    h = Harness({"FilePaths": [str(path)]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"one"]) == [b"one"]
        assert str(path) in h.metrics.files
        with path.open("ab") as f:
            f.write(b"last words\n")
        # The writer deleted the file; Windows keeps it "delete pending" while it is open
        # (its name stays taken until Tailbox lets go of it). Here it is moved out of the
        # glob's sight with a link left (nlink 1): only delete-pending says it is gone.
        path.rename(tmp_path / "unlinked.tmp")
        deleted["yes"] = True
        assert rec.wait_lines([b"one", b"last words"]) == [b"one", b"last words"]
        assert wait_until(lambda: str(path) not in h.metrics.files)
    assert rec.lines() == [b"one", b"last words"]
