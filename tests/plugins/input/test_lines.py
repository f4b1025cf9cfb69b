"""input_file lines: MaxLineBytes, binary junk, odd endings, Multiline, and the file metrics."""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.params import ConfigError
from plugins.input.file import MAX_LINE_BYTES, FileInput, FileOrigin, _reader
from plugins.input.file._lines import LineOptions, SplitReader
from plugins.input.file._multiline import Multiline, parse_multiline
from plugins.input.file._reader import FileReader
from tests.plugins.input.test_file import Harness, append, once_lines, wait_until

DATA = Path(__file__).resolve().parents[2] / "data" / "loghub"
MiB = 1024 * 1024


def read_all(
    path: Path, options: LineOptions, chunk: int = 1 << 20, flush: bool = True
) -> tuple[list[bytes], list[FileOrigin], FileReader]:
    """Every line of `path` through a reader made like the tailer makes it, in `chunk` reads."""
    reader = options.open(str(path), "")
    lines: list[bytes] = []
    origins: list[FileOrigin] = []
    try:
        while True:
            n, batch = reader.read(chunk)
            if batch is not None:
                lines.extend(batch.lines)
                assert isinstance(batch.origin, FileOrigin)
                origins.append(batch.origin)
            if not n:
                break
        if flush:
            batch = reader.flush_partial()
            if batch is not None:
                lines.extend(batch.lines)
                assert isinstance(batch.origin, FileOrigin)
                origins.append(batch.origin)
    finally:
        reader.close()
    return lines, origins, reader


def assert_contiguous(origins: list[FileOrigin], size: int) -> None:
    end = origins[0].start if origins else 0
    for origin in origins:
        assert origin.start == end
        assert origin.end > origin.start
        end = origin.end
    assert end == size


# -- MaxLineBytes ------------------------------------------------------------------------


def test_max_line_bytes_is_a_validated_param() -> None:
    plugin = FileInput.create({"FilePaths": ["/x/*.log"]})
    assert plugin.MaxLineBytes == MAX_LINE_BYTES == 512 * 1024
    assert FileInput.create({"FilePaths": ["a"], "MaxLineBytes": 256}).MaxLineBytes == 256
    for bad in (255, 0, -1, "big", 1.5, True):
        with pytest.raises(ConfigError, match="MaxLineBytes"):
            FileInput.create({"FilePaths": ["a"], "MaxLineBytes": bad})


@pytest.mark.parametrize("multiline", [False, True], ids=["plain", "split-reader"])
def test_lines_of_several_mib_are_cut_counted_and_rejoin_exactly(
    tmp_path: Path, multiline: bool
) -> None:
    rng = random.Random(7)
    words = [b"alpha", b"beta", "gamma-\u03b3".encode(), "\u4e2d\u6587".encode(), b"x" * 17]
    huge = b" ".join(rng.choice(words) for _ in range(700_000))  # ~6 MiB, mixed widths
    assert len(huge) > 5 * MiB
    path = tmp_path / "big.log"
    path.write_bytes(b"2026-01-01 before\n" + huge + b"\n2026-01-01 after\n")
    config: dict[str, Any] = {"FilePaths": [str(path)]}
    if multiline:
        # Every line starts a record, so the cut pieces come out one by one.
        config["Multiline"] = {"StartPattern": "."}
    h = Harness(config)
    lines = h.once().lines()
    assert lines[0] == b"2026-01-01 before"
    assert lines[-1] == b"2026-01-01 after"
    pieces = lines[1:-1]
    assert all(len(p) <= MAX_LINE_BYTES for p in pieces)
    assert b"".join(pieces) == huge  # cut at character boundaries: nothing lost or replaced
    for p in pieces:
        p.decode("utf-8")
    stats = h.metrics.files[str(path)]
    assert stats.split_lines == len(pieces) - 1
    assert stats.offset == stats.size == path.stat().st_size


def test_a_small_max_line_bytes_cuts_multibyte_text_on_character_boundaries(
    tmp_path: Path,
) -> None:
    text = ("é€😀" * 400).encode()  # 2,800 bytes of 2-, 3- and 4-byte characters
    lines = once_lines(tmp_path, text + b"\nok\n", MaxLineBytes=256, ReadBufferKB=1)
    assert lines[-1] == b"ok"
    assert all(len(line) <= 256 for line in lines)
    assert b"".join(lines[:-1]) == text
    assert all("\ufffd" not in line.decode() for line in lines)


@pytest.mark.parametrize(
    "options",
    [
        LineOptions(max_line_bytes=4096),
        LineOptions(max_line_bytes=4096, encoding="gbk"),
        LineOptions(max_line_bytes=4096, encoding="utf16"),
        LineOptions(max_line_bytes=4096, multiline=parse_multiline({"EndPattern": "END"})),
    ],
    ids=["utf8", "gbk", "utf16", "multiline"],
)
def test_a_line_without_newline_never_holds_more_than_about_max_line_bytes(
    tmp_path: Path, options: LineOptions
) -> None:
    path = tmp_path / "endless.log"
    unit = 2 if options.encoding == "utf16" else 1
    path.write_bytes("y".encode("utf-16-le" if unit == 2 else "ascii") * (8 * MiB))
    reader = options.open(str(path), "")
    out = 0
    try:
        while True:
            n, batch = reader.read(256 * 1024)
            if not n:
                break
            if batch is not None:
                assert max(map(len, batch.lines)) <= 4096
                out += sum(map(len, batch.lines))
            if isinstance(reader, SplitReader):
                held = len(reader._splitter.carry)
                if reader._multiline is not None:
                    held += sum(map(len, reader._multiline._lines))
            else:
                held = reader._carry_len
            assert held <= 2 * 4096 * unit  # bounded, whatever the line's length
    finally:
        reader.close()
    assert out >= 8 * MiB - 2 * 4096


# -- junk and odd endings ---------------------------------------------------------------


def test_binary_junk_is_read_without_a_crash_as_replacement_characters(tmp_path: Path) -> None:
    rng = random.Random(3)
    junk = bytes(rng.randrange(256) for _ in range(300_000))
    lines = once_lines(tmp_path, junk, ReadBufferKB=7)
    assert len(lines) == junk.count(b"\n") + (not junk.endswith(b"\n"))
    texts = [line.decode("utf-8") for line in lines]  # always valid UTF-8
    assert any("\ufffd" in t for t in texts)
    assert "\x00" in "".join(texts)  # NUL bytes are data, kept


@pytest.mark.parametrize("encoding", ["utf8", "gbk", "utf16"])
def test_binary_junk_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    rng = random.Random(5)
    junk = bytes(rng.randrange(256) for _ in range(100_000))
    lines = once_lines(tmp_path, junk, FileEncoding=encoding, ReadBufferKB=3)
    assert lines
    for line in lines:
        line.decode("utf-8")


@pytest.mark.parametrize(
    "config",
    [{}, {"FileEncoding": "gbk"}, {"FileEncoding": "utf16"}, {"Multiline": {"StartPattern": "x"}}],
    ids=["plain", "gbk", "utf16", "multiline"],
)
def test_an_empty_file_gives_nothing(tmp_path: Path, config: dict[str, Any]) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)], **config})
    assert h.once().batches == []
    assert h.warnings() == []
    stats = h.metrics.files[str(path)]
    assert (stats.size, stats.offset, stats.lines, stats.split_lines) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "config",
    [{}, {"FileEncoding": "gbk"}, {"Multiline": {"StartPattern": "[a-z]"}}],
    ids=["plain", "gbk", "multiline"],
)
def test_a_file_without_trailing_newline_gives_its_last_line(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    assert once_lines(tmp_path, b"a\nb\r\nlast", **config) == [b"a", b"b", b"last"]


def test_tailing_flushes_a_last_line_without_newline_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness({"FilePaths": [str(path)], "FileEncoding": "gbk", "FlushTimeoutSecs": 0.3})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        written = time.monotonic()
        append(path, "完成\n一半".encode("gbk"))
        expected = ["完成".encode(), "一半".encode()]
        assert rec.wait_lines(expected) == expected
        assert rec.batches[-1][2] - written >= 0.3
        append(path, "\n之后\n".encode("gbk"))  # the newline that ends the flushed line
        assert rec.wait_lines([*expected, b""])[-1] == "之后".encode()
        assert rec.lines() == [*expected, "之后".encode()]


# -- Multiline: configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("multiline", "message"),
    [
        ({"StartPattern": "("}, "Multiline.StartPattern: is not a valid regular expression"),
        ({"EndPattern": "[a-"}, "Multiline.EndPattern: is not a valid regular expression"),
        ({"StartPattern": "a", "ContinuePattern": "*x"}, "Multiline.ContinuePattern"),
        ({"ContinuePattern": "a"}, "Multiline.StartPattern: a StartPattern or an EndPattern"),
        ({"UnmatchedContentTreatment": "discard"}, "Multiline.StartPattern"),
        (
            {"StartPattern": "a", "ContinuePattern": "b", "EndPattern": "c"},
            "Multiline.ContinuePattern: cannot be used with both",
        ),
        ({"Mode": "regex", "StartPattern": "a"}, "Multiline.Mode: must be one of custom, JSON"),
        (
            {"StartPattern": "a", "UnmatchedContentTreatment": "split"},
            "Multiline.UnmatchedContentTreatment: must be one of single_line, discard",
        ),
        ({"StartPatern": "a"}, "Multiline.StartPatern: unknown key"),
        ({"startpattern": "a"}, "did you mean StartPattern"),
        ({"StartPattern": 5}, "Multiline.StartPattern: must be a string"),
        (
            {"Mode": "JSON", "StartPattern": "a"},
            "Multiline.StartPattern: is not used with Mode JSON",
        ),
    ],
)
def test_invalid_multiline_options_name_the_sub_key(
    multiline: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        FileInput.create({"FilePaths": ["a"], "Multiline": multiline})
    assert info.value.key == "Multiline"
    assert message in str(info.value)


def test_valid_multiline_options() -> None:
    assert FileInput.create({"FilePaths": ["a"]}).Multiline == {}
    assert parse_multiline({}) is None
    rule = parse_multiline({"StartPattern": r"\d+.*", "UnmatchedContentTreatment": "discard"})
    assert rule is not None
    assert (rule.mode, rule.start, rule.cont, rule.end, rule.discard) == (
        "custom",
        r"\d+",  # iLogtail drops a trailing ".*"
        None,
        None,
        True,
    )
    json_rule = parse_multiline({"Mode": "JSON"})
    assert json_rule is not None and json_rule.mode == "JSON"
    for ok in (
        {"StartPattern": "a", "ContinuePattern": "b"},
        {"StartPattern": "a", "EndPattern": "b"},
        {"ContinuePattern": "a", "EndPattern": "b"},
        {"EndPattern": "b"},
        {"Mode": "custom", "StartPattern": "中"},
    ):
        FileInput.create({"FilePaths": ["a"], "Multiline": ok})


# -- Multiline: records -----------------------------------------------------------------

JAVA = b"""\
2026-11-28 10:00:01,100 INFO  [main] Server started
2026-11-28 10:00:02,200 ERROR [worker-1] Request failed
java.lang.IllegalStateException: connection reset
\tat org.example.Client.read(Client.java:42)
\tat org.example.Client.call(Client.java:17)
Caused by: java.io.IOException: reset by peer
\tat sun.nio.ch.SocketDispatcher.read0(Native Method)
\t... 12 more
2026-11-28 10:00:03,300 WARN  [worker-2] Slow response: 1200 ms
2026-11-28 10:00:04,400 ERROR [worker-3] Crash
java.lang.NullPointerException
\tat org.example.Handler.handle(Handler.java:88)
"""
DATE = r"\d{4}-\d{2}-\d{2}"


def java_records(data: bytes) -> list[bytes]:
    """The expected records of JAVA-style text: each starts at a dated line."""
    records: list[list[bytes]] = []
    for line in data.split(b"\n")[:-1]:
        if line[:4].isdigit():
            records.append([line])
        else:
            records[-1].append(line)
    return [b"\n".join(r) for r in records]


@pytest.mark.parametrize("read_size", [1, 7, 64, 1 << 20])
def test_java_stack_traces_become_one_log_each_with_exact_offsets(
    tmp_path: Path, read_size: int
) -> None:
    path = tmp_path / "java.log"
    path.write_bytes(JAVA)
    options = LineOptions(multiline=parse_multiline({"StartPattern": DATE}))
    lines, origins, _ = read_all(path, options, chunk=read_size, flush=False)
    expected = java_records(JAVA)
    # The last record is still open (another stack line may come): held back, not read.
    assert lines == expected[:-1]
    last_start = JAVA.index(b"2026-11-28 10:00:04")
    assert origins[-1].end == last_start
    assert_contiguous(origins, last_start)
    # Each batch ends where a record begins: resuming there loses and splits nothing.
    for origin in origins:
        assert JAVA[origin.end : origin.end + 4] == b"2026"
    lines, origins, _ = read_all(path, options, chunk=read_size)
    assert lines == expected
    assert_contiguous(origins, len(JAVA))


def test_multiline_on_a_loghub_sample_with_stack_traces_mixed_in(tmp_path: Path) -> None:
    sample = (DATA / "Zookeeper_2k.log").read_bytes().replace(b"\r\n", b"\n").split(b"\n")[:300]
    trace = b"java.io.IOException: Broken pipe\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)"
    parts: list[bytes] = []
    for i, line in enumerate(sample):
        parts.append(line + (b"\n" + trace if i % 10 == 3 else b""))
    data = b"\r\n".join(parts) + b"\r\n"
    path = tmp_path / "zk.log"
    path.write_bytes(data)
    h = Harness({"FilePaths": [str(path)], "ReadBufferKB": 1, "Multiline": {"StartPattern": DATE}})
    lines = h.once().lines()
    assert lines == parts
    assert sum(b"Broken pipe" in line for line in lines) == 30
    assert h.metrics.files[str(path)].lines == 300


def feed_all(rule: dict[str, Any], text: bytes, max_bytes: int = 1 << 20) -> list[bytes]:
    parsed = parse_multiline(rule)
    assert parsed is not None
    ml = Multiline(parsed, max_bytes)
    lines = text.split(b"\n")
    ends = []
    pos = 0
    for line in lines:
        pos += len(line) + 1
        ends.append(pos)
    out = ml.feed(lines, ends, 0)
    return out + ml.flush(pos)


MIXED = b"\n".join(
    [
        b"noise 1",
        b"[start] one",
        b"  more",
        b"  ... 3 more",
        b"noise 2",
        b"[start] two",
        b"  ... 1 more",
        b"[start] three",
        b"  tail",
    ]
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"StartPattern": r"\[start\]"},
            [
                b"noise 1",
                b"[start] one\n  more\n  ... 3 more\nnoise 2",
                b"[start] two\n  ... 1 more",
                b"[start] three\n  tail",
            ],
        ),
        (
            {"StartPattern": r"\[start\]", "ContinuePattern": r"\s"},
            [
                b"noise 1",
                b"[start] one\n  more\n  ... 3 more",
                b"noise 2",
                b"[start] two\n  ... 1 more",
                b"[start] three\n  tail",
            ],
        ),
        (
            {"StartPattern": r"\[start\]", "EndPattern": r".*\.\.\. \d+ more"},
            [
                b"noise 1",
                b"[start] one\n  more\n  ... 3 more",
                b"noise 2",
                b"[start] two\n  ... 1 more",
                # Open at the end and no EndPattern seen: unmatched, one log per line.
                b"[start] three",
                b"  tail",
            ],
        ),
        (
            {"ContinuePattern": r"\[start\]|\s+more", "EndPattern": r"\s+\.\.\."},
            [
                b"noise 1",
                b"[start] one\n  more\n  ... 3 more",
                b"noise 2",
                b"[start] two\n  ... 1 more",
                b"[start] three",  # the record ends at a line that is neither: unmatched
                b"  tail",
            ],
        ),
        (
            {"EndPattern": r".*more$"},
            [
                b"noise 1\n[start] one\n  more",
                b"  ... 3 more",
                b"noise 2\n[start] two\n  ... 1 more",
                b"[start] three",
                b"  tail",
            ],
        ),
    ],
    ids=["start", "start+continue", "start+end", "continue+end", "end"],
)
def test_pattern_combinations_follow_ilogtail(rule: dict[str, Any], expected: list[bytes]) -> None:
    assert feed_all(rule, MIXED) == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"StartPattern": r"\[start\]"},
            [
                b"[start] one\n  more\n  ... 3 more\nnoise 2",
                b"[start] two\n  ... 1 more",
                b"[start] three\n  tail",
            ],
        ),
        (
            {"StartPattern": r"\[start\]", "ContinuePattern": r"\s"},
            [
                b"[start] one\n  more\n  ... 3 more",
                b"[start] two\n  ... 1 more",
                b"[start] three\n  tail",
            ],
        ),
        (
            {"StartPattern": r"\[start\]", "EndPattern": r".*\.\.\. \d+ more"},
            [b"[start] one\n  more\n  ... 3 more", b"[start] two\n  ... 1 more"],
        ),
    ],
    ids=["start", "start+continue", "start+end"],
)
def test_unmatched_content_can_be_discarded(rule: dict[str, Any], expected: list[bytes]) -> None:
    assert feed_all({**rule, "UnmatchedContentTreatment": "discard"}, MIXED) == expected


def test_json_mode_joins_objects_spanning_lines() -> None:
    text = b"\n".join(
        [
            b'{"a": 1}',
            b"{",
            b'  "msg": "a } brace and \\" quote",',
            b'  "list": [1, {"b": 2}]',
            b"}",
            b"stray text",
            b"[1,",
            b" 2]",
        ]
    )
    assert feed_all({"Mode": "JSON"}, text) == [
        b'{"a": 1}',
        b'{\n  "msg": "a } brace and \\" quote",\n  "list": [1, {"b": 2}]\n}',
        b"stray text",
        b"[1,\n 2]",
    ]
    assert b"stray text" not in feed_all(
        {"Mode": "JSON", "UnmatchedContentTreatment": "discard"}, text
    )


def test_non_ascii_patterns_match_text(tmp_path: Path) -> None:
    data = "开始 一\n  细节\n开始 二\n".encode()
    lines = once_lines(tmp_path, data, Multiline={"StartPattern": "[开始]{2}"})
    assert lines == ["开始 一\n  细节".encode(), "开始 二".encode()]


def test_a_record_longer_than_max_line_bytes_is_cut_and_counted(tmp_path: Path) -> None:
    body = [b"  at frame %04d" % i for i in range(200)]  # 15 bytes each
    data = b"2026-01-01 boom\n" + b"\n".join(body) + b"\n2026-01-01 next\n"
    path = tmp_path / "app.log"
    path.write_bytes(data)
    h = Harness(
        {"FilePaths": [str(path)], "MaxLineBytes": 1000, "Multiline": {"StartPattern": DATE}}
    )
    lines = h.once().lines()
    assert lines[-1] == b"2026-01-01 next"
    assert all(len(line) <= 1000 for line in lines)
    assert b"\n".join(lines[:-1]) == b"2026-01-01 boom\n" + b"\n".join(body)
    assert h.metrics.files[str(path)].split_lines == len(lines) - 2


def test_multiline_with_gbk_and_crlf(tmp_path: Path) -> None:
    text = "2026-01-01 错误\r\n  在 第一行\r\n2026-01-02 正常\r\n"
    lines = once_lines(
        tmp_path,
        text.encode("gbk"),
        FileEncoding="gbk",
        ReadBufferKB=1,
        Multiline={"StartPattern": DATE},
    )
    assert lines == ["2026-01-01 错误\n  在 第一行".encode(), "2026-01-02 正常".encode()]


def test_an_open_record_is_flushed_after_the_timeout_while_tailing(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness(
        {
            "FilePaths": [str(path)],
            "FlushTimeoutSecs": 0.5,
            "Multiline": {"StartPattern": DATE},
        }
    )
    first = b"2026-11-28 10:00:02 ERROR boom\n\tat a.B(B.java:1)\n\tat a.C(C.java:2)"
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        written = time.monotonic()
        append(path, first + b"\n")
        assert rec.wait_lines([first]) == [first]
        assert rec.batches[-1][2] - written >= 0.5  # held while the record could go on
        origin = rec.batches[-1][0].origin
        assert isinstance(origin, FileOrigin) and origin.end == len(first) + 1
        # A record closed by the next start line goes at once, the next one is held.
        append(path, b"2026-11-28 10:00:03 INFO ok\n2026-11-28 10:00:04 INFO held\n")
        ok = b"2026-11-28 10:00:03 INFO ok"
        assert rec.wait_lines([first, ok]) == [first, ok]
        assert rec.wait_lines([first, ok, b""])[-1] == b"2026-11-28 10:00:04 INFO held"
        assert h.metrics.files[str(path)].lines == 3


def test_a_record_completed_before_the_timeout_stays_one_log(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")
    h = Harness(
        {"FilePaths": [str(path)], "FlushTimeoutSecs": 30, "Multiline": {"StartPattern": DATE}}
    )
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        append(path, b"2026-01-01 a\n  x\n")
        assert wait_until(lambda: h.metrics.files[str(path)].offset == 17)
        append(path, b"  y\n2026-01-02 b\n")
        assert rec.wait_lines([b"2026-01-01 a\n  x\n  y"]) == [b"2026-01-01 a\n  x\n  y"]


# -- the file metrics ---------------------------------------------------------------------


def test_file_metrics_show_size_offset_lag_lines_cuts_truncations_and_errors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\n" + b"z" * 700 + b"\nb\n")
    locked = tmp_path / "locked.log"
    if hasattr(os, "mkfifo"):
        os.mkfifo(locked)  # cannot be read: its problem shows in its metrics
    else:
        locked.mkdir()  # Windows: a directory named like a log is never read
    h = Harness({"FilePaths": [str(tmp_path / "*.log")], "MaxLineBytes": 256})
    with h.tailing() as rec:
        assert rec.wait_lines([b""] * 5, path)[-1] == b"b"
        stats = h.metrics.files[str(path)]
        assert wait_until(lambda: stats.offset == 705)
        assert (stats.size, stats.lines, stats.split_lines, stats.lag) == (705, 5, 2, 0)
        with path.open("r+b") as f:
            f.truncate(0)
            f.write(b"new\n")
        assert rec.wait_lines([b""] * 6, path)[-1] == b"new"
        assert wait_until(lambda: stats.truncations == 1 and stats.offset == 4)
        assert (stats.size, stats.lines, stats.last_error) == (4, 6, "")
        if hasattr(os, "mkfifo"):
            assert wait_until(lambda: str(locked) in h.metrics.files)
            assert "not a regular file" in h.metrics.files[str(locked)].last_error
        entries = {f["path"]: f for f in h.metrics.snapshot()["files"]}
        entry = entries[str(path)]
        for key in ("size", "offset", "committed", "lag", "lines", "truncations", "last_error"):
            assert key in entry
        assert (entry["split_lines"], entry["lag"], entry["size"]) == (2, 0, 4)


def rebuild(outputs: list[bytes], data: bytes) -> int:
    """Walk `data` through `outputs`: each is the next span of the file, joined to the
    one before by the file's own newline or by nothing (a cut); the cuts counted."""
    pos = cuts = 0
    for i, out in enumerate(outputs):
        if i:
            if data[pos : pos + 1] == b"\n":
                pos += 1
            else:
                cuts += 1
        assert data.startswith(out, pos), (i, out[:40], data[pos : pos + 40])
        pos += len(out)
    assert data[pos:] in (b"", b"\n")
    return cuts


@pytest.mark.parametrize("read_size", [5, 100, 1 << 20])
def test_a_cut_line_inside_a_record_is_never_joined_with_a_newline_it_lacks(
    tmp_path: Path, read_size: int
) -> None:
    data = b"2026 a\n  " + b"y" * 1000 + b"\n  tail\n2026 b\n  c\n"
    path = tmp_path / "app.log"
    path.write_bytes(data)
    options = LineOptions(max_line_bytes=256, multiline=parse_multiline({"StartPattern": r"\d{4}"}))
    lines, origins, reader = read_all(path, options, chunk=read_size)
    assert all(len(line) <= 256 for line in lines)
    assert rebuild(lines, data) == 3  # the long line's three cuts, nothing else
    assert lines[0] == b"2026 a"  # with the long line it would exceed MaxLineBytes
    assert lines[-2].endswith(b"y\n  tail")  # the cut line's rest and its real newline
    assert lines[-1] == b"2026 b\n  c"
    assert reader.split_lines == 4  # three cuts of the line, one of the record
    assert_contiguous(origins, len(data))


@pytest.mark.parametrize(
    "rule",
    [
        {"StartPattern": r"\d{4}"},
        {"StartPattern": r"\d{4}", "ContinuePattern": r"\s"},
        {"StartPattern": r"\d{4}", "EndPattern": "END"},
        {"ContinuePattern": r"\s", "EndPattern": "END"},
        {"EndPattern": "END"},
        {"Mode": "JSON"},
    ],
)
@pytest.mark.parametrize("treatment", ["single_line", "discard"])
def test_every_rule_keeps_its_output_a_faithful_slice_of_the_file(
    tmp_path: Path, rule: dict[str, Any], treatment: str
) -> None:
    rng = random.Random(1)
    shapes = [b"2026 start %d", b"  at frame %d", b"END of %d", b"noise %d", b'{"k": %d,', b" %d}"]
    lines = [rng.choice(shapes) % i + b"z" * rng.choice([0, 0, 0, 300]) for i in range(400)]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "app.log"
    path.write_bytes(data)
    options = LineOptions(
        max_line_bytes=256,
        multiline=parse_multiline({**rule, "UnmatchedContentTreatment": treatment}),
    )
    got: list[list[bytes]] = []
    for size in (7, 4096):
        out, origins, _ = read_all(path, options, chunk=size)
        assert all(len(line) <= 256 for line in out)
        if treatment == "single_line":
            assert_contiguous(origins, len(data))
            rebuild(out, data)
        else:  # discarded lines at the end are in no batch: read again after a restart
            assert_contiguous(origins, origins[-1].end)
            assert origins[-1].end <= len(data)
        got.append(out)
    assert got[0] == got[1]  # the same records whatever the read size


def _read_batches(reader: FileReader, sizes: Iterable[int]) -> list[Any]:
    """Every batch of the file, read in `sizes` then 1 MiB reads, and its partial last line."""
    out = []
    try:
        for size in itertools.chain(sizes, itertools.repeat(1 << 20)):
            n, batch = reader.read(size)
            if batch is not None:
                out.append(batch)
            if not n:
                break
        last = reader.flush_partial()
        if last is not None:
            out.append(last)
    finally:
        reader.close()
    return out


_PIECES = [b"a", b"bc", b"\n", b"\r\n", b"\r", "é".encode(), b"\xff", b"x" * 300, b"\xc3"]


@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=60),
    chunk=st.integers(1, 64),
    max_line=st.sampled_from([256, 1024]),
)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_batch_knows_the_bytes_of_its_lines(
    tmp_path: Path, pieces: list[bytes], chunk: int, max_line: int
) -> None:
    path = tmp_path / "nbytes.log"
    path.write_bytes(b"".join(pieces))
    reader = FileReader.open(str(path), "")
    reader.max_line_bytes = max_line
    for batch in _read_batches(reader, itertools.repeat(chunk)):
        assert batch.line_bytes() == sum(map(len, batch.lines))
        assert batch.size() == sum(18 + len(line) for line in batch.lines)


# -- long lines: the find-loop splitter ------------------------------------------------------

# A long line from a short draw (a pattern and a length): large examples stay cheap to make.
_long_line = st.builds(
    lambda pattern, length: (pattern * (length // len(pattern) + 1))[:length],
    st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\n", b"n").replace(b"\r", b"r")),
    st.integers(1200, 6000),
)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_long_line, min_size=8, max_size=40),
    short=st.lists(st.tuples(st.integers(0, 40), st.sampled_from([b"", b"x", b"\r"])), max_size=3),
    sep=st.sampled_from([b"\n", b"\r\n"]),
    edges=st.tuples(st.booleans(), st.booleans()),
)
def test_long_lines_split_by_find_exactly_as_bytes_split(
    lines: list[bytes], short: list[tuple[int, bytes]], sep: bytes, edges: tuple[bool, bool]
) -> None:
    for at, line in short:  # a few short or empty lines among the long ones
        lines.insert(at, line)
    data = sep.join(lines)
    data = (sep if edges[0] else b"") + data + (sep if edges[1] else b"")
    if len(data) < 2 * _reader._PROBE_BYTES:
        data = data + sep + b"y" * (2 * _reader._PROBE_BYTES)
    assert data.count(sep, 0, _reader._PROBE_BYTES) < _reader._LONG_LINES_PROBE  # the find way
    assert _reader._split(data, sep) == data.split(sep)


@pytest.mark.parametrize("ending", ["lf", "crlf", "mixed"])
def test_a_file_of_long_lines_reads_every_line_exactly_in_any_chunk_size(
    tmp_path: Path, ending: str
) -> None:
    rng = random.Random(ending)
    expected = [
        bytes(rng.randrange(32, 127) for _ in range(rng.randrange(700, 4000))) for _ in range(400)
    ]
    expected[7] = b""  # an empty line among long ones
    ends = {"lf": [b"\n"], "crlf": [b"\r\n"], "mixed": [b"\n", b"\r\n"]}[ending]
    data = b"".join(line + rng.choice(ends) for line in expected) + b"partial"
    path = tmp_path / "long.log"
    path.write_bytes(data)
    for chunk in (100_000, 1 << 20):
        lines, origins, _ = read_all(path, LineOptions(), chunk=chunk)
        assert lines == [*expected, b"partial"]
        assert_contiguous(origins, len(data))


# -- chunk batches: the fast path against the per-line one --------------------------------------


class _ListReader(FileReader):
    """The reader with its chunk path turned off: every chunk split into a list of lines."""

    def _chunk_batch(self, *args: Any) -> Any:
        return False


@given(
    pieces=st.lists(st.sampled_from([*_PIECES, b"\n\n", b"\r\n\r", b"y" * 90]), max_size=80),
    chunks=st.lists(st.integers(1, 200), max_size=30),
    max_line=st.sampled_from([64, 256, 4096]),
)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chunk_batches_hold_the_lines_offsets_and_cuts_of_the_per_line_path(
    tmp_path: Path, pieces: list[bytes], chunks: list[int], max_line: int
) -> None:
    path = tmp_path / "both.log"
    path.write_bytes(b"".join(pieces))
    got = []
    for cls in (FileReader, _ListReader):
        reader = cls.open(str(path), "")
        reader.max_line_bytes = max_line
        batches = _read_batches(reader, chunks)
        # The chunk path reads a part line again with the next chunk instead of carrying
        # it, so its batches may end elsewhere: the same lines, contiguous and exact.
        assert_contiguous([b.origin for b in batches], reader.offset)
        for b in batches:
            assert b.line_bytes() == sum(map(len, b.lines))
            assert b.size() == sum(18 + len(line) for line in b.lines)
            assert b.chunk is None or b.chunk == b"\n".join(b.lines)
        got.append(([line for b in batches for line in b.lines], reader.split_lines, reader.offset))
    assert got[0] == got[1]


def test_plain_and_crlf_chunks_arrive_as_chunk_batches(tmp_path: Path) -> None:
    lines = [b"line %d " % i + b"x" * (i % 300) for i in range(5000)]
    for end in (b"\n", b"\r\n"):
        path = tmp_path / "plain.log"
        path.write_bytes(b"".join(line + end for line in lines))
        batches = _read_batches(FileReader.open(str(path), ""), [70_000] * 100)
        assert len(batches) > 3
        assert all(b.chunk is not None for b in batches)  # no list of lines was made
        # Each chunk but the last ended inside a line, which the next read began with.
        assert_contiguous([b.origin for b in batches], path.stat().st_size)
        assert [line for b in batches for line in b.lines] == lines
        assert sum(map(len, batches)) == len(lines)


def test_a_part_line_carried_into_a_chunk_is_cut_when_its_end_takes_it_over_the_limit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "carry.log"
    path.write_bytes(b"a" * 50 + b"b" * 30 + b"\nshort\n")
    reader = FileReader.open(str(path), "")
    reader.max_line_bytes = 64
    batches = _read_batches(reader, [50, 100])  # the second read ends the carried line
    assert [line for b in batches for line in b.lines] == [
        b"a" * 50 + b"b" * 14,
        b"b" * 16,
        b"short",
    ]
    assert reader.split_lines == 1


def test_a_part_line_is_read_again_after_a_full_read_and_held_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "part.log"
    path.write_bytes(b"a\nbc")
    reader = FileReader.open(str(path), "")
    try:
        n, batch = reader.read(3)  # "a\nb": full, the file has more
        assert n == 3 and batch is not None and batch.lines == [b"a"]
        assert reader.offset == 2 and not reader.has_partial  # "b" comes again
        n, batch = reader.read(3)  # "bc": the end for now
        assert n == 2 and batch is None and reader.has_partial and reader.offset == 4
        with path.open("ab") as f:
            f.write(b"d\ne\nf")
        n, batch = reader.read(100)  # short: "f" is held for FlushTimeoutSecs
        assert batch is not None and batch.lines == [b"bcd", b"e"]
        assert batch.origin.start == 2 and batch.origin.end == 8
        assert reader.has_partial and reader.offset == 9
        assert reader.flush_partial().lines == [b"f"]
    finally:
        reader.close()


@pytest.mark.parametrize("reader_class", [FileReader, _ListReader], ids=["chunk", "list"])
def test_a_cr_before_a_crlf_at_a_chunk_start_stays_in_its_line(
    tmp_path: Path, reader_class: type[FileReader]
) -> None:
    path = tmp_path / "cr.log"
    path.write_bytes(b"x\r\na\r\r\nb\r")  # line "a\r" ends with CRLF; "b" waits for its LF
    # The first read ends between "a\r" and its CRLF; a carried "a\r" is no split CRLF.
    for sizes in ([5, 100], [4, 2, 100]):  # then "a\r" carried alone into the chunk path
        batches = _read_batches(reader_class.open(str(path), ""), sizes)
        assert [line for b in batches for line in b.lines] == [b"x", b"a\r", b"b"]
    path.write_bytes(b"x\r\na\r\nb\n")  # here the first read ends inside a CRLF
    batches = _read_batches(reader_class.open(str(path), ""), [5, 100])
    assert [line for b in batches for line in b.lines] == [b"x", b"a", b"b"]
