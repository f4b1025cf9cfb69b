"""Windows: open files so that writers can still rename and delete them; delete-pending files.

`os.open` on Windows shares a file for reading and writing but not for deletion, so
while Tailbox holds a log open its writer cannot rotate it (rename or delete fails
with a sharing violation). `open_shared` opens with `CreateFileW` and
`FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE` through ctypes, then turns
the handle into a C descriptor with `msvcrt.open_osfhandle`, so the rest of the
reader (os.read, os.fstat, os.lseek) stays the same on both systems.

A file deleted while open stays "delete pending" until its last handle closes: its
name stays taken, so a new file cannot be created at that path until Tailbox closes
it. `is_delete_pending` reads `FILE_STANDARD_INFO.DeletePending` so the tailer can
read such a file to its end and close it (like `st_nlink == 0` on POSIX).

File identity: since Python 3.12 `os.stat`/`os.fstat` fill `st_dev` with the volume
serial number and `st_ino` with the 64-bit (or 128-bit) file index on Windows, so
readers and checkpoints key files by (st_dev, st_ino) there too.

Paths compare case-insensitively on Windows (`same_path`, `path_key`).

This module imports everywhere; the Windows calls are made only when called, through
objects that tests replace (`_kernel32`, `_msvcrt`) to check flags, error mapping
and the delete-pending logic on Linux.
"""

from __future__ import annotations

import ctypes
import errno
import ntpath
import os
import sys
from typing import Any

__all__ = [
    "FILE_SHARE_ALL",
    "WINDOWS",
    "is_delete_pending",
    "is_gone",
    "open_shared",
    "path_key",
    "same_path",
]

WINDOWS = sys.platform == "win32"

GENERIC_READ = 0x80000000
FILE_SHARE_READ = 0x00000001
FILE_SHARE_WRITE = 0x00000002
FILE_SHARE_DELETE = 0x00000004
FILE_SHARE_ALL = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
OPEN_EXISTING = 3
FILE_ATTRIBUTE_NORMAL = 0x80
INVALID_HANDLE_VALUE = ctypes.c_void_p(-1).value
FILE_STANDARD_INFO_CLASS = 1  # FILE_INFO_BY_HANDLE_CLASS.FileStandardInfo

ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3
ERROR_ACCESS_DENIED = 5
ERROR_SHARING_VIOLATION = 32
ERROR_DELETE_PENDING = 303  # opening a file whose deletion is pending
ERROR_INVALID_NAME = 123


class FILE_STANDARD_INFO(ctypes.Structure):
    _fields_ = (
        ("AllocationSize", ctypes.c_int64),
        ("EndOfFile", ctypes.c_int64),
        ("NumberOfLinks", ctypes.c_uint32),
        ("DeletePending", ctypes.c_ubyte),
        ("Directory", ctypes.c_ubyte),
    )


# Replaced by tests; on Windows filled in on first use.
_kernel32: Any = None
_msvcrt: Any = None
_get_last_error: Any = getattr(ctypes, "get_last_error", lambda: 0)  # Windows-only in ctypes


def _api() -> tuple[Any, Any]:
    """kernel32 (with argument types declared) and msvcrt, loaded once."""
    global _kernel32, _msvcrt
    if _kernel32 is None:
        from ctypes import wintypes

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        k32.CreateFileW.restype = wintypes.HANDLE
        k32.CreateFileW.argtypes = (
            wintypes.LPCWSTR,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.LPVOID,
            wintypes.DWORD,
            wintypes.DWORD,
            wintypes.HANDLE,
        )
        k32.CloseHandle.argtypes = (wintypes.HANDLE,)
        k32.CloseHandle.restype = wintypes.BOOL
        k32.GetFileInformationByHandleEx.argtypes = (
            wintypes.HANDLE,
            ctypes.c_int,
            wintypes.LPVOID,
            wintypes.DWORD,
        )
        k32.GetFileInformationByHandleEx.restype = wintypes.BOOL
        _kernel32 = k32
    if _msvcrt is None:
        import msvcrt

        _msvcrt = msvcrt
    return _kernel32, _msvcrt


def _last_error() -> int:
    return int(_get_last_error())


def _error(winerror: int, path: str) -> OSError:
    """An OSError as Python raises it for `winerror` (FileNotFoundError, PermissionError...)."""
    errnos = {
        ERROR_FILE_NOT_FOUND: errno.ENOENT,
        ERROR_PATH_NOT_FOUND: errno.ENOENT,
        ERROR_INVALID_NAME: errno.ENOENT,
        ERROR_ACCESS_DENIED: errno.EACCES,
        ERROR_SHARING_VIOLATION: errno.EACCES,
        ERROR_DELETE_PENDING: errno.EACCES,
    }
    message = {
        ERROR_FILE_NOT_FOUND: "The system cannot find the file specified",
        ERROR_PATH_NOT_FOUND: "The system cannot find the path specified",
        ERROR_INVALID_NAME: "The filename, directory name, or volume label syntax is incorrect",
        ERROR_ACCESS_DENIED: "Access is denied",
        ERROR_SHARING_VIOLATION: "The file is being used by another process",
        ERROR_DELETE_PENDING: "The file is being deleted",
    }.get(winerror, f"Windows error {winerror}")
    # The errno picks the subclass (FileNotFoundError, PermissionError); `winerror` is
    # kept as Windows' own OSErrors have it. (Passing it to OSError() would make
    # Windows re-derive the errno, and ERROR_DELETE_PENDING would not be a PermissionError.)
    error = OSError(errnos.get(winerror, errno.EINVAL), message, path)
    error.winerror = winerror  # type: ignore[attr-defined]
    return error


def open_shared(path: str) -> int:
    """A read-only C descriptor of `path` that lets others read, write, rename and delete it."""
    k32, crt = _api()
    handle = k32.CreateFileW(
        path,
        GENERIC_READ,
        FILE_SHARE_ALL,
        None,
        OPEN_EXISTING,
        FILE_ATTRIBUTE_NORMAL,
        None,
    )
    if handle is None or handle == INVALID_HANDLE_VALUE or handle == -1:
        raise _error(_last_error(), path)
    try:
        return int(crt.open_osfhandle(handle, os.O_RDONLY | getattr(os, "O_BINARY", 0)))
    except BaseException:
        k32.CloseHandle(handle)
        raise


def is_delete_pending(fd: int) -> bool:
    """Whether the file behind `fd` was deleted and waits for its handles to close."""
    k32, crt = _api()
    info = FILE_STANDARD_INFO()
    ok = k32.GetFileInformationByHandleEx(
        crt.get_osfhandle(fd), FILE_STANDARD_INFO_CLASS, ctypes.byref(info), ctypes.sizeof(info)
    )
    if not ok:
        return False  # cannot tell: the stat pass keeps looking
    return bool(info.DeletePending)


def is_gone(fd: int, st: os.stat_result) -> bool:
    """Whether a file read to its end can get no more data: deleted (or delete pending)."""
    if st.st_nlink == 0:
        return True
    return WINDOWS and is_delete_pending(fd)


def path_key(path: str, windows: bool = WINDOWS) -> str:
    """`path` as a key that equal paths share (case and separators folded on Windows)."""
    return ntpath.normcase(path) if windows else path


def same_path(a: str, b: str, windows: bool = WINDOWS) -> bool:
    """Whether two paths name the same place, case-insensitively on Windows."""
    return path_key(a, windows) == path_key(b, windows)
