"""input_file: globs, the tail start, lines (CRLF, UTF-8, long, partial), odd files, loghub."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import plugins.input.file._reader as reader_module
import plugins.input.file._tailer as tailer_module
from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.plugin import Context, Input
from agent.protocol import LogBatch, LogContext, LogTag
from plugins.input.file import MAX_LINE_BYTES, FileInput, FileOrigin
from plugins.input.file._paths import PathSpec
from tests.plugins.input.running import running, wait_until

DATA = Path(__file__).resolve().parents[2] / "data" / "loghub"
LOGHUB = sorted(DATA.glob("*_2k.log"))
DEADLINE = 10.0  # seconds a tailing test waits for something before failing


class Recorder:
    """A collector keeping every batch; with `accept` False it refuses like a stopping pipeline."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.batches: list[tuple[LogBatch, LogContext, float]] = []
        self._cond = threading.Condition()

    def add_batch(self, batch: LogBatch, ctx: LogContext) -> bool:
        with self._cond:
            self.batches.append((batch, ctx, time.monotonic()))
            self._cond.notify_all()
        return self.accept

    def add_logs(self, logs: list[Any], ctx: LogContext) -> bool:
        raise AssertionError("input_file hands over batches only")

    def lines(self, source: str | Path | None = None) -> list[bytes]:
        with self._cond:
            return [
                line
                for batch, ctx, _ in self.batches
                if source is None or ctx.source == str(source)
                for line in batch.lines
            ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_lines(self, expected: list[bytes], source: str | Path | None = None) -> list[bytes]:
        self.wait_for(lambda: len(self.lines(source)) >= len(expected))
        return self.lines(source)


class Harness:
    def __init__(self, config: dict[str, Any]) -> None:
        self.metrics = PipelineMetrics("test")
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.plugin = FileInput.create(config)
        self.plugin.init(Context(metrics=self.metrics, report=self._report))
        self.recorder = Recorder()

    def _report(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def warnings(self) -> list[str]:
        return [data["message"] for kind, data in self.events if kind == "warning"]

    def once(self) -> Recorder:
        self.plugin.run(self.recorder, threading.Event(), True)
        return self.recorder

    @contextmanager
    def tailing(self) -> Iterator[Recorder]:
        with running(self.plugin, self.recorder, "test-input-file", DEADLINE):
            yield self.recorder


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)


def once_lines(tmp_path: Path, data: bytes, **config: Any) -> list[bytes]:
    path = tmp_path / "app.log"
    path.write_bytes(data)
    return Harness({"FilePaths": [str(path)], **config}).once().lines()


def test_the_plugin_is_an_input_and_needs_file_paths() -> None:
    plugin = FileInput.create({"FilePaths": ["/x/*.log"]})
    assert isinstance(plugin, Input)
    assert plugin.description()
    bad_configs: list[dict[str, Any]] = [
        {},
        {"FilePaths": []},
        {"FilePaths": [""]},
        {"FilePaths": ["a"], "Bogus": 1},
    ]
    for bad in bad_configs:
        with pytest.raises(ConfigError):
            FileInput.create(bad)
    with pytest.raises(ConfigError, match="ReadBufferKB"):
        FileInput.create({"FilePaths": ["a"], "ReadBufferKB": 0})


# -- which files ---------------------------------------------------------------------------


def make_tree(root: Path) -> dict[str, Path]:
    files = {
        "top": root / "top.log",
        "deep": root / "a" / "b" / "deep.log",
        "mid": root / "a" / "mid.log",
        "text": root / "a" / "notes.txt",
        "skipped": root / "skip" / "s.log",
        "old": root / "a" / "old.log.gz",
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() + b"\n")
    return files


def test_double_star_matches_any_depth_including_none(tmp_path: Path) -> None:
    make_tree(tmp_path)
    lines = Harness({"FilePaths": [str(tmp_path / "**" / "*.log")]}).once().lines()
    assert sorted(lines) == [b"deep", b"mid", b"skipped", b"top"]


def test_single_star_stays_in_its_directory(tmp_path: Path) -> None:
    make_tree(tmp_path)
    lines = Harness({"FilePaths": [str(tmp_path / "*" / "*.log")]}).once().lines()
    assert sorted(lines) == [b"mid", b"skipped"]


def test_exclude_paths_by_path_glob_and_by_file_name(tmp_path: Path) -> None:
    make_tree(tmp_path)
    config = {
        "FilePaths": [str(tmp_path / "**" / "*")],
        "ExcludeFilePaths": [str(tmp_path / "skip" / "**"), "*.gz", "*.txt"],
    }
    assert sorted(Harness(config).once().lines()) == [b"deep", b"mid", b"top"]


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_bytes(b"home\n")
    assert Harness({"FilePaths": ["~/logs/*.log"]}).once().lines() == [b"home"]


def test_path_spec_matches_like_glob() -> None:
    spec = PathSpec(["/r/**/*.log", "/s/[!x]?.log"], ["/r/tmp/**", "*.old.log"])
    assert spec.matches("/r/a.log")
    assert spec.matches("/r/a/b/c.log")
    assert not spec.matches("/r/tmp/c.log")
    assert not spec.matches("/r/a/c.old.log")
    assert not spec.matches("/r/a.txt")
    assert spec.matches("/s/ab.log")
    assert not spec.matches("/s/xb.log")
    assert not spec.matches("/s/a/b.log")


def test_watch_dirs_are_recursive_only_for_double_star(tmp_path: Path) -> None:
    (tmp_path / "deep" / "sub").mkdir(parents=True)
    (tmp_path / "flat").mkdir()
    spec = PathSpec(
        [str(tmp_path / "deep" / "**" / "*.log"), str(tmp_path / "flat" / "*.log")],
        [],
    )
    assert spec.watch_dirs() == {str(tmp_path / "deep"): True, str(tmp_path / "flat"): False}


def test_a_file_reached_by_two_paths_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(b"one\n")
    (tmp_path / "link.log").symlink_to(tmp_path / "app.log")
    assert Harness({"FilePaths": [str(tmp_path / "*.log")]}).once().lines() == [b"one"]


# -- what the batches look like ------------------------------------------------------------


def test_batches_carry_context_topic_and_contiguous_origins(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    data = b"".join(b"line %04d\n" % i for i in range(500))
    path.write_bytes(data)
    h = Harness({"FilePaths": [str(path)], "Topic": "t", "ReadBufferKB": 1})
    h.once()
    st = path.stat()
    assert len(h.recorder.batches) > 1  # one batch per 1 KiB chunk
    end = 0
    for batch, ctx, _ in h.recorder.batches:
        assert ctx == LogContext(source=str(path), topic="t", tags=[LogTag("__path__", str(path))])
        assert isinstance(batch.origin, FileOrigin)
        assert batch.origin.identity == (st.st_dev, st.st_ino)
        assert batch.origin.path == str(path)
        assert batch.origin.start == end
        end = batch.origin.end
        assert data[batch.origin.start : end].split(b"\n")[:-1] == batch.lines
        assert 0 <= batch.time_ns < 1_000_000_000
        assert abs(batch.time - time.time()) < 60
    assert end == len(data)
    # One LogContext per file, not per chunk.
    assert len({id(ctx) for _, ctx, _ in h.recorder.batches}) == 1


def test_file_metrics_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\nb\nc")
    h = Harness({"FilePaths": [str(path)]})
    h.once()
    stats = h.metrics.files[str(path)]
    assert (stats.size, stats.offset, stats.lines, stats.bytes) == (5, 5, 3, 5)
    assert stats.updated > 0
    assert h.metrics.lines == 0  # the collector counts pipeline lines, not the input


def test_crlf_is_removed_and_lone_cr_kept(tmp_path: Path) -> None:
    assert once_lines(tmp_path, b"a\r\nb\r\n\r\nc\rd\r\ne") == [b"a", b"b", b"", b"c\rd", b"e"]


def test_crlf_split_between_two_chunks(tmp_path: Path) -> None:
    first = b"x" * 1023 + b"\r"  # the chunk ends between CR and LF
    assert once_lines(tmp_path, first + b"\nnext\r\n", ReadBufferKB=1) == [b"x" * 1023, b"next"]


def test_invalid_utf8_becomes_replacement_characters(tmp_path: Path) -> None:
    data = b"ok\n\xff\xfebad\nh\xc3\xa9\n\xc3\n"
    assert once_lines(tmp_path, data) == [
        b"ok",
        "\ufffd\ufffdbad".encode(),
        "hé".encode(),
        "\ufffd".encode(),
    ]


def test_a_character_split_between_chunks_stays_whole(tmp_path: Path) -> None:
    data = b"y" * 1023 + "é€😀\n".encode() + b"z\n"
    assert once_lines(tmp_path, data, ReadBufferKB=1) == [b"y" * 1023 + "é€😀".encode(), b"z"]


def test_long_lines_cross_chunk_boundaries(tmp_path: Path) -> None:
    long = bytes(range(33, 127)) * 30  # 2,820 bytes, read in 1 KiB chunks
    data = b"short\n" + long + b"\n" + b"a" * 1000 + b"\n" + long
    assert once_lines(tmp_path, data, ReadBufferKB=1) == [b"short", long, b"a" * 1000, long]


def test_over_long_lines_are_cut_and_counted_never_broken_mid_character(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    ascii_line = b"x" * (2 * MAX_LINE_BYTES + 100)
    text_line = "é".encode() * (MAX_LINE_BYTES // 2 + 7)
    path.write_bytes(ascii_line + b"\n" + text_line + b"\nend\n")
    h = Harness({"FilePaths": [str(path)], "ReadBufferKB": 200})
    lines = h.once().lines()
    assert lines[-1] == b"end"
    assert all(len(line) <= MAX_LINE_BYTES for line in lines)
    assert b"".join(lines[:3]) == ascii_line
    assert b"".join(lines[3:-1]) == text_line  # no U+FFFD: no character was cut
    assert h.metrics.files[str(path)].split_lines == len(lines) - 3


def test_an_over_long_line_inside_one_big_chunk_is_cut(tmp_path: Path) -> None:
    longest = b"w" * MAX_LINE_BYTES
    line = b"q" * (MAX_LINE_BYTES + 10)
    data = longest + b"\n" + line + b"\nok\n"
    assert once_lines(tmp_path, data, ReadBufferKB=2048) == [
        longest,
        b"q" * MAX_LINE_BYTES,
        b"q" * 10,
        b"ok",
    ]


def test_an_empty_file_gives_nothing_and_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)]})
    assert h.once().batches == []
    assert h.warnings() == []


def test_once_reads_whole_files_despite_tail_size(tmp_path: Path) -> None:
    data = b"".join(b"%05d\n" % i for i in range(1000))
    assert len(once_lines(tmp_path, data, TailSizeKB=0)) == 1000


def test_once_emits_the_last_line_without_newline(tmp_path: Path) -> None:
    assert once_lines(tmp_path, b"a\nb\nlast") == [b"a", b"b", b"last"]


def test_once_stops_when_the_collector_refuses(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.log").write_bytes(b"x\n" * 5000)
    h = Harness({"FilePaths": [str(tmp_path / "*.log")], "ReadBufferKB": 1})
    h.recorder.accept = False
    h.once()
    assert len(h.recorder.batches) == 1


def loghub_lines(path: Path) -> list[bytes]:
    """The sample's lines without their CRLF (some samples end without one)."""
    lines = path.read_bytes().split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def test_loghub_samples_are_all_there() -> None:
    assert len(LOGHUB) == 7


@pytest.mark.parametrize("path", LOGHUB, ids=lambda p: p.name)
def test_loghub_samples_give_exactly_their_2000_lines(path: Path) -> None:
    h = Harness({"FilePaths": [str(path)]})
    lines = h.once().lines()
    assert len(lines) == 2000
    assert lines == loghub_lines(path)
    origin = h.recorder.batches[-1][0].origin
    assert isinstance(origin, FileOrigin)
    assert origin.end == path.stat().st_size


def test_loghub_samples_in_small_chunks() -> None:
    h = Harness({"FilePaths": [str(DATA / "*_2k.log")], "ReadBufferKB": 1})
    h.once()
    for path in LOGHUB:
        assert h.recorder.lines(path) == loghub_lines(path)


# -- tailing -------------------------------------------------------------------------------


def numbered(first: int, count: int) -> bytes:
    return b"".join(b"line %010d\n" % i for i in range(first, first + count))  # 16 B each


def test_tail_starts_tail_size_before_the_end_at_a_line_start(tmp_path: Path) -> None:
    exact = tmp_path / "exact.log"
    exact.write_bytes(numbered(0, 128))  # 2 KiB: the last KiB starts at line 64
    shifted = tmp_path / "shifted.log"
    shifted.write_bytes(numbered(0, 128) + b"tail\n")  # the last KiB starts inside line 64
    h = Harness({"FilePaths": [str(tmp_path / "*.log")], "TailSizeKB": 1})
    with h.tailing() as rec:
        expected = numbered(64, 64).splitlines()
        assert rec.wait_lines(expected, exact) == expected
        expected_shifted = [*numbered(65, 63).splitlines(), b"tail"]
        assert rec.wait_lines(expected_shifted, shifted) == expected_shifted
        append(exact, b"more\n")
        assert rec.wait_lines([*expected, b"more"], exact) == [*expected, b"more"]


def test_tail_size_zero_reads_only_what_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old\nold partial")
    h = Harness({"FilePaths": [str(path)], "TailSizeKB": 0})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        append(path, b" rest\nnew\n")
        assert rec.wait_lines([b"new"]) == [b"new"]


def test_tail_size_larger_than_the_file_reads_it_all(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"first\nsecond\n")
    with Harness({"FilePaths": [str(path)], "TailSizeKB": 1}).tailing() as rec:
        assert rec.wait_lines([b"first", b"second"]) == [b"first", b"second"]


def test_appended_lines_and_new_files_are_picked_up(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "app.log"
    path.write_bytes(b"a\n")
    h = Harness({"FilePaths": [str(tmp_path / "**" / "*.log")], "TailSizeKB": 0})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        append(path, b"b\n")
        assert rec.wait_lines([b"b"], path) == [b"b"]
        # Files that appear later are read from their start, whatever TailSizeKB says.
        new = tmp_path / "sub" / "deeper" / "new.log"
        new.parent.mkdir()
        new.write_bytes(b"n" * 3000 + b"\nn2\n")
        assert rec.wait_lines([b"n", b"n2"], new) == [b"n" * 3000, b"n2"]
        for i in range(50):
            append(path, b"c%d\n" % i)
        expected = [b"b", *(b"c%d" % i for i in range(50))]
        assert rec.wait_lines(expected, path) == expected


def test_partial_line_is_held_then_flushed_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)], "FlushTimeoutSecs": 0.4})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        written = time.monotonic()
        append(path, b"done\nhalf a line")
        assert rec.wait_lines([b"done"]) == [b"done"]
        assert rec.wait_lines([b"done", b"half a line"]) == [b"done", b"half a line"]
        flushed_at = rec.batches[-1][2]
        assert flushed_at - written >= 0.4
        # The newline that finally ends the flushed line does not make an empty line.
        append(path, b"\nafter\n")
        assert rec.wait_lines([b"done", b"half a line", b"after"])[-1] == b"after"
        assert rec.lines() == [b"done", b"half a line", b"after"]


def test_partial_line_completed_in_time_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)], "FlushTimeoutSecs": 30})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        append(path, b"abc")
        assert wait_until(lambda: h.metrics.files[str(path)].offset == 3)
        append(path, b"def\r\n")
        assert rec.wait_lines([b"abcdef"]) == [b"abcdef"]


def test_truncation_restarts_at_the_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"one\ntwo\n")
    h = Harness({"FilePaths": [str(path)]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"one", b"two"]) == [b"one", b"two"]
        with path.open("r+b") as f:
            f.truncate(0)
            f.write(b"3\n")
        assert rec.wait_lines([b"one", b"two", b"3"]) == [b"one", b"two", b"3"]
        assert h.metrics.files[str(path)].truncations == 1


def test_a_renamed_file_is_not_read_again_under_its_new_name(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"1\n2\n")
    h = Harness({"FilePaths": [str(tmp_path / "app.log*")]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"1", b"2"]) == [b"1", b"2"]
        with path.open("ab") as writer:  # the writer keeps its handle across the rotation
            path.rename(tmp_path / "app.log.1")
            path.write_bytes(b"3\n")
            writer.write(b"x\n")
        assert rec.wait_for(lambda: {b"3", b"x"} <= set(rec.lines()))
        # A re-read of app.log.1 would come in the round that found the new app.log.
        append(path, b"4\n")
        assert sorted(rec.wait_lines([b""] * 5)) == [b"1", b"2", b"3", b"4", b"x"]


def open_handles(path: Path) -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        count += target.startswith(str(path))
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_new_file_at_the_same_path_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old\n")
    h = Harness({"FilePaths": [str(path)]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"old"]) == [b"old"]
        path.unlink()
        path.write_bytes(b"new 1\nnew 2\n")
        assert rec.wait_lines([b"old", b"new 1", b"new 2"]) == [b"old", b"new 1", b"new 2"]
        # The deleted file's handle is closed; only the new file stays open.
        assert wait_until(lambda: open_handles(path) == 1)


def test_stop_returns_promptly_and_stops_the_observer(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"x\n")
    h = Harness({"FilePaths": [str(path)]})
    stop = threading.Event()
    thread = threading.Thread(target=h.plugin.run, args=(h.recorder, stop, False))
    thread.start()
    assert h.recorder.wait_lines([b"x"]) == [b"x"]
    assert wait_until(
        lambda: any(t.name == "tailbox-input-file-watch" for t in threading.enumerate())
    )
    started = time.monotonic()
    stop.set()
    thread.join(DEADLINE)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "tailbox-input-file-watch" for t in threading.enumerate())


def test_without_file_events_it_polls_and_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoInotify:
        name = ""

        def start(self) -> None:
            raise OSError(errno.EMFILE, "inotify instance limit reached")

    monkeypatch.setattr(tailer_module, "Observer", NoInotify)
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)]})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        append(path, b"polled\n")
        assert rec.wait_lines([b"polled"]) == [b"polled"]
    [warning] = h.warnings()
    assert "polling" in warning
    assert "inotify instance limit reached" in warning


def _watch_thread() -> bool:
    return any(t.name == "tailbox-input-file-watch" for t in threading.enumerate())


class Storm:
    """20 empty files, a storm threshold of 100 events a second, and rounds of one line
    per file (each line remembered in `written`)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, hold: float) -> None:
        monkeypatch.setattr(tailer_module, "STORM_EVENTS", 100)
        monkeypatch.setattr(tailer_module, "STORM_HOLD", hold)
        self.files = [root / f"app-{i:02d}.log" for i in range(20)]
        for f in self.files:
            f.write_bytes(b"")
        self.harness = Harness({"FilePaths": [str(root / "app-*.log*")]})
        self.written: list[bytes] = []

    def write_round(self) -> None:
        for f in self.files:
            line = b"%s line %d" % (f.name.encode(), len(self.written))
            append(f, line + b"\n")
            self.written.append(line)

    def start(self) -> None:
        """Once the files are found: write rounds until watching is off."""
        assert wait_until(lambda: len(self.harness.metrics.files) == len(self.files))
        assert _watch_thread()
        assert wait_until(lambda: self.write_round() or not _watch_thread())


def test_an_event_storm_turns_watching_off_for_a_while_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    storm = Storm(tmp_path, monkeypatch, hold=2.0)
    written = storm.written
    with caplog.at_level(logging.INFO, logger="tailbox"), storm.harness.tailing() as rec:
        storm.start()  # many small writes over many files: the stat pass finds them too many
        assert "file events a second" in caplog.text
        storm.write_round()  # read by the stat pass, with no event to say so
        assert sorted(rec.wait_lines(written)) == sorted(written)
        # After STORM_HOLD a quiet tree is watched again, and its writes still arrive.
        assert wait_until(_watch_thread)
        append(storm.files[0], b"after the storm\n")
        written.append(b"after the storm")
        assert sorted(rec.wait_lines(written)) == sorted(written)
    assert sorted(rec.lines()) == sorted(written)  # each line once


def test_rotation_and_truncation_during_a_storm_lose_and_repeat_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storm = Storm(tmp_path, monkeypatch, hold=600.0)  # no watching again in this test
    written = storm.written
    with storm.harness.tailing() as rec:
        storm.start()
        assert sorted(rec.wait_lines(written)) == sorted(written)
        # Only the stat pass looks now. rename + create, the writer keeping its handle:
        rotated, truncated = storm.files[0], storm.files[1]
        with rotated.open("ab") as writer:
            rotated.rename(tmp_path / "app-00.log.1")
            rotated.write_bytes(b"new file\n")
            writer.write(b"old file's tail\n")
        # and a truncation (`> file`) followed by new content:
        truncated.write_bytes(b"after truncation\n")
        written += [b"new file", b"old file's tail", b"after truncation"]
        assert sorted(rec.wait_lines(written)) == sorted(written)
        assert storm.harness.metrics.files[str(truncated)].truncations == 1
        assert not _watch_thread()
    assert sorted(rec.lines()) == sorted(written)


def test_watchdogs_overflow_warning_does_not_say_lines_were_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What watchdog logs when the kernel's inotify queue overflows (a burst of writes):
    # events are hints here, the stat pass reads what they missed, so no line is lost.
    watchdog = logging.getLogger("watchdog.observers.inotify_c")
    with caplog.at_level(logging.DEBUG):
        watchdog.warning("Inotify queue overflowed; filesystem events were lost")
        watchdog.error("a real error")
    assert [r.getMessage() for r in caplog.records] == ["a real error"]


# -- files that cannot be read -------------------------------------------------------------


def test_permission_denied_warns_once_then_reads_once_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file, so the refusal is simulated where the reader opens files.
    denied = {"yes": True}
    real_open = reader_module.open_file

    def open_file(path: str) -> tuple[int, os.stat_result]:
        if denied["yes"]:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(reader_module, "open_file", open_file)
    path = tmp_path / "app.log"
    path.write_bytes(b"locked\n")
    h = Harness({"FilePaths": [str(path)]})
    with h.tailing() as rec:
        assert wait_until(lambda: len(h.warnings()) == 1)
        assert "cannot be opened: Permission denied" in h.warnings()[0]
        assert h.metrics.files[str(path)].last_error
        denied["yes"] = False
        assert rec.wait_lines([b"locked"]) == [b"locked"]
        assert h.metrics.files[str(path)].last_error == ""
    assert len(h.warnings()) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_skipped_with_a_warning_and_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.log")
    (tmp_path / "ok.log").write_bytes(b"fine\n")
    h = Harness({"FilePaths": [str(tmp_path / "*.log")]})
    with h.tailing() as rec:
        assert rec.wait_lines([b"fine"]) == [b"fine"]
        assert wait_until(lambda: len(h.warnings()) == 1)
        assert "not a regular file" in h.warnings()[0]
    assert len(h.warnings()) == 1  # re-globbing does not repeat it


def test_a_dangling_symlink_warns_and_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "gone.log").symlink_to(tmp_path / "missing")
    (tmp_path / "ok.log").write_bytes(b"fine\n")
    h = Harness({"FilePaths": [str(tmp_path / "*.log")]})
    assert h.once().lines() == [b"fine"]
    [warning] = h.warnings()
    assert "gone.log" in warning and "symbolic link" in warning
    assert h.metrics.files[str(tmp_path / "gone.log")].last_error
