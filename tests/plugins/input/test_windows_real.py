"""The Windows module against the real Windows API (runs on the Windows CI runner only).

A writer must be able to rename and delete a log while Tailbox holds it open; a file
deleted while open is "delete pending" until Tailbox closes it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "win32", reason="calls CreateFileW and msvcrt: Windows only"
)


def test_open_shared_reads_and_lets_a_writer_rename_the_file(tmp_path: Path) -> None:
    from plugins.input.file._windows import is_delete_pending, open_shared

    path = tmp_path / "app.log"
    path.write_bytes(b"first\n")
    fd = open_shared(str(path))
    try:
        assert os.read(fd, 100) == b"first\n"
        st = os.fstat(fd)
        assert st.st_ino != 0  # Python >= 3.12: the file index, the file's identity
        # Rotation by rename while Tailbox holds the file: allowed by FILE_SHARE_DELETE.
        rotated = tmp_path / "app.log.1"
        os.rename(path, rotated)
        with rotated.open("ab") as writer:
            writer.write(b"second\n")
        assert os.read(fd, 100) == b"second\n"
        assert (os.fstat(fd).st_dev, os.fstat(fd).st_ino) == (st.st_dev, st.st_ino)
        assert not is_delete_pending(fd)
        # A new file at the old name is possible at once.
        path.write_bytes(b"new\n")
        assert path.read_bytes() == b"new\n"
    finally:
        os.close(fd)


def test_open_shared_lets_a_writer_delete_the_file(tmp_path: Path) -> None:
    from plugins.input.file._windows import is_gone, open_shared

    path = tmp_path / "app.log"
    path.write_bytes(b"bye\n")
    fd = open_shared(str(path))
    try:
        os.remove(path)  # would fail with a sharing violation without FILE_SHARE_DELETE
        assert os.read(fd, 100) == b"bye\n"  # still readable to its end
        # Delete pending (or, with POSIX delete semantics, no link left): gone either way.
        assert is_gone(fd, os.fstat(fd))
    finally:
        os.close(fd)
    assert not path.exists()
    path.write_bytes(b"again\n")  # once closed, the name is free
    assert path.read_bytes() == b"again\n"


def test_open_shared_errors_are_oserrors(tmp_path: Path) -> None:
    from plugins.input.file._windows import open_shared

    with pytest.raises(FileNotFoundError) as info:
        open_shared(str(tmp_path / "missing.log"))
    assert info.value.winerror == 2
    # A directory is not opened (no FILE_FLAG_BACKUP_SEMANTICS): access denied.
    with pytest.raises(PermissionError):
        open_shared(str(tmp_path))


def test_paths_compare_case_insensitively(tmp_path: Path) -> None:
    from plugins.input.file._windows import same_path

    assert same_path(str(tmp_path / "App.LOG"), str(tmp_path / "app.log"))


def test_the_tailer_lets_a_writer_rotate_and_delete_while_it_reads(tmp_path: Path) -> None:
    from tests.plugins.input.test_file import Harness, append, wait_until

    path = tmp_path / "app.log"
    path.write_bytes(b"1\n")
    h = Harness({"FilePaths": [str(tmp_path / "app.log*")]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"1"]) == [b"1"]
        # Rename rotation while the reader holds app.log open.
        os.rename(path, tmp_path / "app.log.1")
        append(tmp_path / "app.log.1", b"2\n")
        path.write_bytes(b"3\n")
        assert rec.wait_for(lambda: {b"2", b"3"} <= set(rec.lines()))
        # Deleting the rotated file while it is open works; once Tailbox has read it to
        # its end and closed it (delete pending), the name is free again.
        os.remove(tmp_path / "app.log.1")

        def recreate() -> bool:
            try:
                (tmp_path / "app.log.1").write_bytes(b"4\n")
            except PermissionError:
                return False
            return True

        assert wait_until(recreate)
        assert rec.wait_for(lambda: b"4" in rec.lines())
    assert sorted(rec.lines()) == [b"1", b"2", b"3", b"4"]
