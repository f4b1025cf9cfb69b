"""input_file while files rotate under it: rename+create, copytruncate, delete+recreate,
truncation, copies, idle handles, fairness, and a big tree with a link loop."""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

import plugins.input.file._reader as reader_module
import plugins.input.file._tailer as tailer_module
from agent.protocol import LogBatch, LogContext
from plugins.input.file._paths import PathSpec
from tests.plugins.input.acking import (
    Acking,
    Run,
    append,
    expect,
    numbered,
    offset_of,
    tailing,
)
from tests.plugins.input.running import wait_until


def config(tmp_path: Path, pattern: str = "app.log*", **more: object) -> dict[str, object]:
    return {
        "FilePaths": [str(tmp_path / "logs" / pattern)],
        "FlushTimeoutSecs": 0.2,
        "TailSizeKB": 100_000,
        **more,
    }


def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir(exist_ok=True)
    return directory


def settle(run: Run, count: int) -> None:
    """Wait for `count` lines, then for the tailer to go over every file once more: what
    it would read again is delivered by then. The test asserts the exact lines after the
    run's stop."""
    run.collector.wait_count(count)
    assert run.rounds.full_pass(), "the tailer did not go over its files again"


def open_handles(path: Path) -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            count += os.readlink(fd).startswith(str(path))
        except OSError:
            continue
    return count


class Gated(Acking):
    """A collector that blocks (back-pressure) while `gate` is clear."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        if not self.gate.is_set():
            self.waiting.set()
            self.gate.wait()
        return super().add_batch(batch, ctx)


class Lag:
    """Makes the tailer fall behind on chosen files, as a loaded or back-pressured agent
    does, but deterministically: while a file's name is held, its rounds pass it by (it
    is not checked, read or recognised); everything else goes on as usual (globs, other
    files, the truncation handling of files that are not held)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: frozenset[str] = frozenset()
        service = tailer_module.Tailer._service
        lag = self

        def lagging(tailer: tailer_module.Tailer, key: tuple[int, int]) -> bool:
            if tailer._readers[key].path in lag.held:
                return False  # not got round to it yet
            return service(tailer, key)

        monkeypatch.setattr(tailer_module.Tailer, "_service", lagging)

    def hold(self, *paths: Path) -> None:
        """Hold these names (only these): readers opened under them are passed by."""
        self.held = frozenset(str(p) for p in paths)

    def release(self) -> None:
        self.hold()


def copytruncate(app: Path, copy: Path) -> None:
    """logrotate's copytruncate: copy the file, then truncate it in place."""
    shutil.copyfile(app, copy)
    with app.open("r+b") as f:
        f.truncate(0)


def test_rename_and_create_reads_both_files_once(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 100))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(100)
        with app.open("ab") as writer:  # the application's handle follows the rename
            app.rename(app.with_name("app.log.1"))
            writer.write(numbered(100, 50))
        app.write_bytes(numbered(1000, 30))
        settle(run, 180)
    assert sorted(run.collector.lines()) == sorted(expect(0, 150) + expect(1000, 30))


def test_a_file_renamed_out_of_the_globs_is_read_to_its_end_then_released(
    tmp_path: Path,
) -> None:
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app = d / "app.log"
    app.write_bytes(numbered(0, 10))
    cfg = config(tmp_path, "*.log", CloseUnusedReaderIntervalSec=1)
    with tailing(store, cfg) as run:
        run.collector.wait_count(10)
        old = d / "app.old"
        with app.open("ab") as writer:
            app.rename(old)
            writer.write(numbered(10, 20))  # after the rename: still read
        run.collector.wait_count(30)
        # Held (it grew just now; released after a second idle): asked before settling.
        assert open_handles(old) == 1
        old.unlink()  # deleted while we hold it open: its space is freed on release
        assert wait_until(lambda: open_handles(old) == 0)
        assert run.rounds.full_pass()  # and it is not found and read again
    assert sorted(run.collector.lines()) == expect(0, 30)


def test_copytruncate_reads_the_copy_from_where_the_original_had_got_to(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 200))
    collector = Gated()
    with tailing(store, config(tmp_path), collector) as run:
        collector.wait_count(200)
        collector.gate.clear()
        append(app, numbered(200, 100))  # read, then held by back-pressure
        assert collector.waiting.wait(5)
        append(app, numbered(300, 100))  # not read yet when the rotation happens
        shutil.copyfile(app, app.with_name("app.log.1"))  # logrotate's copytruncate
        with app.open("r+b") as f:
            f.truncate(0)
        append(app, numbered(5000, 400))  # longer than before: only the first KiB tells
        collector.gate.set()
        settle(run, 800)
        assert wait_until(lambda: offset_of(store, app.with_name("app.log.1")) == 3600)
        assert wait_until(lambda: offset_of(store, app) == 3600)
    assert sorted(collector.lines()) == sorted(expect(0, 400) + expect(5000, 400))


@pytest.mark.parametrize("moved_on", ["renamed", "compressed"])
def test_copytruncate_a_copy_rotated_on_before_it_was_read_is_read_from_its_handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moved_on: str
) -> None:
    """The reader lags: the truncation is seen and the copy found at app.log.1, but before
    the tailer gets round to the copy the next rotation moves it on (to app.log.2, or
    compressed to app.log.2.gz and deleted) and puts the next copy at app.log.1. What the
    original had not been read to is still read from the first copy: app.log.1 is
    another file by then, the handle the tailer holds is not."""
    lag = Lag(monkeypatch)
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app, first, second = d / "app.log", d / "app.log.1", d / "app.log.2"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path, ExcludeFilePaths=["*.gz"])) as run:
        run.collector.wait_count(200)
        lag.hold(app, first)
        append(app, numbered(200, 100))  # not read before the rotation
        copytruncate(app, first)
        append(app, numbered(5000, 150))
        lag.hold(first)  # app.log is looked at: truncated, the copy found, not read yet
        run.collector.wait_count(350)  # the new content read: the truncation was handled
        first.rename(second)  # the next rotation, while the copy still waits its turn
        if moved_on == "compressed":  # compress + delaycompress: app.log.2 → app.log.2.gz
            second.with_name("app.log.2.gz").write_bytes(gzip.compress(second.read_bytes()))
            second.unlink()
        copytruncate(app, first)
        append(app, numbered(9000, 120))
        lag.release()
        settle(run, 570)
        if moved_on == "renamed":  # the copy's checkpoint: committed to its end
            assert wait_until(lambda: offset_of(store, second) == 2700)
    assert sorted(run.collector.lines()) == sorted(
        expect(0, 300) + expect(5000, 150) + expect(9000, 120)
    )


def test_copytruncate_twice_before_the_lagging_reader_sees_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy is found as a copy of the file being read (not read: the original has
    the same lines); then, before the tailer looks at the original again, the copy is
    rotated on and a second copytruncate happens. The first copy goes on from where the
    original had got to; the second, of content nobody read, is read whole."""
    lag = Lag(monkeypatch)
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app, first = d / "app.log", d / "app.log.1"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(200)
        lag.hold(app)
        append(app, numbered(200, 100))
        copytruncate(app, first)
        append(app, numbered(5000, 150))
        assert run.rounds.full_pass()  # the copy is found at app.log.1
        first.rename(d / "app.log.2")
        copytruncate(app, first)
        append(app, numbered(9000, 120))
        lag.release()
        settle(run, 570)
    assert sorted(run.collector.lines()) == sorted(
        expect(0, 300) + expect(5000, 150) + expect(9000, 120)
    )


@pytest.mark.parametrize("encoding", ["utf8", "gbk"])  # gbk: the splitting reader
def test_copytruncate_the_copy_seen_a_round_before_the_truncation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """copy, then truncate, seen in two rounds while the reader lags: the copy is found
    and waits as a copy of the file being read; the truncation retires the original at
    the offset read, and the copy goes on from there (and is committed to its end)."""
    lag = Lag(monkeypatch)
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app, copy = d / "app.log", d / "app.log.1"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path, FileEncoding=encoding)) as run:
        run.collector.wait_count(200)
        lag.hold(app)
        append(app, numbered(200, 100))
        shutil.copyfile(app, copy)
        assert run.rounds.full_pass()  # found, recognised as a copy, not read
        with app.open("r+b") as f:
            f.truncate(0)
        append(app, numbered(5000, 150))
        lag.release()
        settle(run, 450)
        assert wait_until(lambda: offset_of(store, copy) == 2700)
        assert wait_until(lambda: offset_of(store, app) == 1350)
    assert sorted(run.collector.lines()) == sorted(expect(0, 300) + expect(5000, 150))


def test_copytruncate_the_truncation_seen_before_the_copy_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lagging reader sees the truncation while the copy is not there yet (still
    under a name the globs do not match): the original's content waits retired, and the
    copy, once it appears, goes on from where the original had been read."""
    lag = Lag(monkeypatch)
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app, copy = d / "app.log", d / "app.log.1"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(200)
        lag.hold(app)
        append(app, numbered(200, 100))
        hidden = d / "copying.tmp"
        copytruncate(app, hidden)
        append(app, numbered(5000, 150))
        lag.release()
        run.collector.wait_count(350)  # the new content read: the truncation was handled
        hidden.rename(copy)
        settle(run, 450)
        assert wait_until(lambda: offset_of(store, copy) == 2700)
    assert sorted(run.collector.lines()) == sorted(expect(0, 300) + expect(5000, 150))


def test_a_plain_copy_of_a_file_being_read_is_not_read_again(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(200)
        copy = app.with_name("app.log.bak")
        shutil.copyfile(app, copy)
        assert wait_until(lambda: open_handles(copy) == 1)  # found, held, not read
        append(app, numbered(200, 10))
        run.collector.wait_count(210)
        assert run.rounds.full_pass()  # a stat pass and a glob look at the copy again
    assert run.collector.lines() == expect(0, 210)


def test_delete_and_recreate_reads_the_new_file_from_its_start(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 150))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(150)
        app.unlink()
        app.write_bytes(numbered(500, 150))
        settle(run, 300)
    assert sorted(run.collector.lines()) == sorted(expect(0, 150) + expect(500, 150))


def test_truncation_in_place_restarts_at_zero_even_when_rewritten_fast(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 150))
    collector = Gated()
    with tailing(store, config(tmp_path), collector) as run:
        collector.wait_count(150)
        with app.open("r+b") as f:  # `> app.log`, seen shrinking
            f.truncate(0)
        append(app, numbered(300, 10))
        collector.wait_count(160)
        collector.gate.clear()
        append(app, numbered(310, 10))
        assert collector.waiting.wait(5)
        with app.open("r+b") as f:  # truncated and refilled past the old size while
            f.truncate(0)  # the reader waited: no stat ever sees it shrink
        append(app, numbered(900, 200))
        collector.gate.set()
        want = expect(0, 150) + expect(300, 20) + expect(900, 200)
        settle(run, len(want))
    assert sorted(collector.lines()) == sorted(want)


def test_idle_handles_close_and_reopen_when_the_file_grows(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 5))
    with tailing(store, config(tmp_path, CloseUnusedReaderIntervalSec=1)) as run:
        run.collector.wait_count(5)
        assert open_handles(app) == 1
        assert wait_until(lambda: open_handles(app) == 0)
        append(app, numbered(5, 5))
        assert run.collector.wait_count(10) == expect(0, 10)
        assert open_handles(app) == 1
        app.unlink()
        assert wait_until(lambda: open_handles(app) == 0)


def test_a_file_forgotten_out_of_the_globs_and_back_is_not_read_again(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app = d / "app.log"
    app.write_bytes(numbered(0, 5))  # small: under the 1 KiB of a fingerprint
    with tailing(store, config(tmp_path, CloseUnusedReaderIntervalSec=1)) as run:
        run.collector.wait_count(5)
        away = d / "away.txt"
        app.rename(away)  # out of the globs: read to its end, idle, forgotten
        assert wait_until(lambda: open_handles(away) == 0)
        back = d / "app.log.1"
        away.rename(back)  # and back in: the same file, known by identity and first bytes
        assert wait_until(lambda: open_handles(back) == 1)
        append(back, numbered(5, 1))
        settle(run, 6)
    assert sorted(run.collector.lines()) == expect(0, 6)


def test_a_busy_file_does_not_starve_quiet_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tailer_module, "READ_BUDGET", 64 * 1024)
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    (d / "busy.log").write_bytes(numbered(0, 400_000))  # 3.6 MB: 55 rounds of budget
    for i in range(200):
        (d / f"quiet{i:03d}.log").write_bytes(b"quiet %d\n" % i)
    cfg = config(tmp_path, "*.log", ReadBufferKB=64)
    with tailing(store, cfg) as run:
        lines = run.collector.wait_count(400_200, timeout=60)
        assert len(lines) == 400_200
        last_quiet = max(i for i, line in enumerate(lines) if line.startswith(b"quiet"))
        assert last_quiet < 20_000  # all 200 quiet files within the first rounds


def test_a_thousand_files_a_link_loop_an_unreadable_file_and_depth_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logs(tmp_path)
    files = []
    for i in range(1000):
        path = root / f"d{i % 10}" / f"s{i % 7}" / f"f{i:04d}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"file %d line 1\nfile %d line 2\n" % (i, i))
        files.append(path)
    (root / "d0" / "loop").symlink_to(root)  # a loop back to the top
    (root / "d1" / "s1" / "x" / "too" / "deep").mkdir(parents=True)
    (root / "d1" / "s1" / "x" / "too" / "deep" / "hidden.log").write_bytes(b"too deep\n")
    locked = root / "d2" / "locked.log"
    locked.write_bytes(b"secret\n")
    if os.geteuid() == 0:  # root reads anything: refuse where the reader opens files
        real_open = reader_module.open_file

        def open_file(path: str) -> tuple[int, os.stat_result]:
            if path == str(locked):
                raise PermissionError(errno.EACCES, "Permission denied", path)
            return real_open(path)

        monkeypatch.setattr(reader_module, "open_file", open_file)
    else:
        locked.chmod(0)

    pattern = str(root / "**" / "*.log")
    spec = PathSpec([pattern], [], max_depth=3)
    assert len(spec.glob()) == 1001  # each file once, the loop not followed, not too deep
    assert PathSpec([pattern], [], max_depth=1).glob() == [str(locked)]  # `**` = 0..1 levels
    assert len(PathSpec([pattern], []).glob()) == 1002

    cfg = {"FilePaths": [pattern], "MaxDirSearchDepth": 3, "TailSizeKB": 100_000}
    store = tmp_path / "cp.json"
    started = time.monotonic()
    with tailing(store, cfg) as run:
        lines = run.collector.wait_count(2000, timeout=60)
        assert sorted(lines) == sorted(
            b"file %d line %d" % (i, n) for i in range(1000) for n in (1, 2)
        )
        assert wait_until(lambda: any("locked.log" in w for w in run.warnings()))
        append(files[500], b"file 500 line 3\n")
        assert run.collector.wait_count(2001)[-1] == b"file 500 line 3"
        elapsed = time.monotonic() - started
    [warning] = [w for w in run.warnings() if "locked.log" in w]
    assert "Permission denied" in warning
    assert elapsed < 30


def test_the_inotify_watch_limit_falls_back_to_polling_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchdog.observers import Observer

    class Limited(Observer):  # type: ignore[misc,valid-type]
        def schedule(self, *args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(tailer_module, "Observer", Limited)
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 3))
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(3)
        append(app, numbered(3, 3))
        assert run.collector.wait_count(6) == expect(0, 6)
        [warning] = run.warnings()
        assert "polling" in warning and "watch limit" in warning
