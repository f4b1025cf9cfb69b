"""input_file FileEncoding: GBK and UTF-16 (BOM, LE/BE) files, with exact raw offsets."""

from __future__ import annotations

import codecs
import random
from pathlib import Path
from typing import Any

import pytest

from agent.params import ConfigError
from plugins.input.file import FileInput, FileOrigin
from plugins.input.file._decode import Splitter, codec_for
from plugins.input.file._lines import LineOptions
from plugins.input.file._multiline import parse_multiline
from tests.plugins.input.test_file import Harness, append, once_lines, wait_until
from tests.plugins.input.test_lines import assert_contiguous, read_all

# Real Chinese log text (GBK covers it all), with ASCII, punctuation and digits.
CHINESE = [
    "2026-11-28 10:00:01 信息 服务已启动，端口 8080",  # noqa: RUF001 - real Chinese text
    "2026-11-28 10:00:02 警告 磁盘使用率 91%，请清理日志目录",  # noqa: RUF001
    "2026-11-28 10:00:03 错误 数据库连接失败：超时（30 秒）",  # noqa: RUF001
    "",
    "2026-11-28 10:00:04 信息 用户「张三」登录成功",
    "mixed ASCII line with no Chinese at all",
]
# UTF-16 also carries what GBK cannot: accents, emoji (surrogate pairs), other scripts.
WORLD = [*CHINESE, "café naïve — ünïcödé", "emoji 😀🚀 in the middle 🎉", "ਗੁਰਮੁਖੀ ਨ ਊ", "Ωμέγα"]


def encoded(lines: list[str], codec: str, newline: str = "\n", bom: bytes = b"") -> bytes:
    return bom + "".join(line + newline for line in lines).encode(codec)


def offset_of(h: Harness, path: Path) -> int:
    stats = h.metrics.files.get(str(path))
    return stats.offset if stats is not None else -1


def utf8(lines: list[str]) -> list[bytes]:
    return [line.encode() for line in lines]


def test_file_encoding_is_validated() -> None:
    assert FileInput.create({"FilePaths": ["a"]}).FileEncoding == "utf8"
    for ok in ("utf8", "gbk", "utf16", "utf16le", "utf16be"):
        assert FileInput.create({"FilePaths": ["a"], "FileEncoding": ok}).FileEncoding == ok
    for bad in ("latin1", "UTF-8", "", 8):
        with pytest.raises(ConfigError, match="FileEncoding"):
            FileInput.create({"FilePaths": ["a"], "FileEncoding": bad})


def test_codec_from_the_bom() -> None:
    assert codec_for("utf16", codecs.BOM_UTF16_LE) == ("utf-16-le", 2)
    assert codec_for("utf16", codecs.BOM_UTF16_BE) == ("utf-16-be", 2)
    assert codec_for("utf16", b"a\x00") == ("utf-16-le", 0)
    assert codec_for("utf16be", b"\x00a") == ("utf-16-be", 0)
    assert codec_for("utf16le", codecs.BOM_UTF16_BE) == ("utf-16-le", 0)  # forced order
    assert codec_for("gbk", codecs.BOM_UTF16_LE) == ("gbk", 0)
    with pytest.raises(ValueError):
        codec_for("latin1", b"")


# -- GBK ---------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("read_size", [1, 2, 3, 17, 1024, 1 << 20])
def test_gbk_chinese_text_in_any_read_size(tmp_path: Path, newline: str, read_size: int) -> None:
    data = encoded(CHINESE * 20, "gbk", newline)
    path = tmp_path / "gbk.log"
    path.write_bytes(data)
    lines, origins, _ = read_all(path, LineOptions(encoding="gbk"), chunk=read_size)
    assert lines == utf8(CHINESE * 20)
    assert_contiguous(origins, len(data))
    # The offsets are the file's (GBK) offsets: each batch ends right after a newline.
    for origin in origins:
        assert data[origin.end - 1 : origin.end] == b"\n"


def test_gbk_through_the_plugin_and_invalid_bytes(tmp_path: Path) -> None:
    good = encoded(CHINESE, "gbk", "\r\n")
    bad = b"\x81\n\xff\xfe tail \x80\n"  # a lead byte before a newline, bytes GBK lacks
    h = Harness({"FilePaths": [str(tmp_path / "*.log")], "FileEncoding": "gbk", "ReadBufferKB": 1})
    (tmp_path / "app.log").write_bytes(good + bad)
    lines = h.once().lines()
    assert lines[: len(CHINESE)] == utf8(CHINESE)
    assert lines[len(CHINESE) :] == ["\ufffd".encode(), "\ufffd\ufffd tail \ufffd".encode()]
    stats = h.metrics.files[str(tmp_path / "app.log")]
    assert stats.offset == stats.size == len(good + bad)
    assert stats.lines == len(CHINESE) + 2


def test_a_gbk_file_appended_while_tailing(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(encoded(CHINESE[:2], "gbk"))
    h = Harness({"FilePaths": [str(path)], "FileEncoding": "gbk", "TailSizeKB": 0})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        data = encoded(CHINESE[2:], "gbk", "\r\n")
        append(path, data[:7])  # half a character: nothing yet
        append(path, data[7:])
        expected = utf8(CHINESE[2:])
        assert rec.wait_lines(expected) == expected


def test_gbk_tail_start_lands_on_a_line_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    lines = [f"{i:05d} 第{i}行日志内容" for i in range(400)]
    data = encoded(lines, "gbk")
    path.write_bytes(data)
    h = Harness({"FilePaths": [str(path)], "FileEncoding": "gbk", "TailSizeKB": 1})
    with h.tailing() as rec:
        assert wait_until(lambda: offset_of(h, path) == len(data))
        got = rec.lines()
    assert got and got == utf8(lines[-len(got) :])
    assert sum(map(len, (line.encode("gbk") + b"\n" for line in lines[-len(got) :]))) <= 1024


# -- UTF-16 ------------------------------------------------------------------------------

UTF16_CASES = [
    ("utf16", "utf-16-le", codecs.BOM_UTF16_LE),
    ("utf16", "utf-16-be", codecs.BOM_UTF16_BE),
    ("utf16", "utf-16-le", b""),  # no BOM: little endian, as Windows writes it
    ("utf16le", "utf-16-le", b""),
    ("utf16be", "utf-16-be", b""),
    ("utf16be", "utf-16-be", codecs.BOM_UTF16_BE),
]
UTF16_IDS = ["le-bom", "be-bom", "le-no-bom", "forced-le", "forced-be", "forced-be-bom"]


@pytest.mark.parametrize(("encoding", "codec", "bom"), UTF16_CASES, ids=UTF16_IDS)
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("read_size", [1, 3, 1023, 1 << 20])
def test_utf16_files_in_any_read_size(
    tmp_path: Path, encoding: str, codec: str, bom: bytes, newline: str, read_size: int
) -> None:
    data = encoded(WORLD * 10, codec, newline, bom)
    path = tmp_path / "u16.log"
    path.write_bytes(data)
    lines, origins, _ = read_all(path, LineOptions(encoding=encoding), chunk=read_size)
    assert lines == utf8(WORLD * 10)
    assert origins[0].start == len(bom)
    assert_contiguous(origins, len(data))
    for origin in origins:
        assert origin.start % 2 == 0 and origin.end % 2 == 0


def test_utf16_through_the_plugin_without_trailing_newline(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_BE + "第一行\r\n😀 second\r\nlast".encode("utf-16-be")
    lines = once_lines(tmp_path, data, FileEncoding="utf16", ReadBufferKB=1)
    assert lines == ["第一行".encode(), "😀 second".encode(), b"last"]


def test_utf16_invalid_code_units_become_replacement_characters(tmp_path: Path) -> None:
    lone = b"\x3d\xd8"  # a high surrogate without its low half
    data = codecs.BOM_UTF16_LE + b"a\x00" + lone + b"\n\x00" + b"\x00\xdcb\x00\n\x00"
    assert once_lines(tmp_path, data, FileEncoding="utf16") == [
        "a\ufffd".encode(),
        "\ufffdb".encode(),
    ]


def test_a_misaligned_newline_byte_pair_is_not_a_newline(tmp_path: Path) -> None:
    # U+0A41 then U+0100 in UTF-16 LE are 41 0A 00 01: "\n\x00" at an odd offset.
    text = "\u0a41\u0100 one\ntwo\n"
    lines = once_lines(tmp_path, text.encode("utf-16-le"), FileEncoding="utf16", ReadBufferKB=1)
    assert lines == ["\u0a41\u0100 one".encode(), b"two"]


def test_a_utf16_file_appended_while_tailing(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"")  # the BOM is not there yet when the file is first seen
    h = Harness({"FilePaths": [str(path)], "FileEncoding": "utf16", "FlushTimeoutSecs": 0.3})
    with h.tailing() as rec:
        assert wait_until(lambda: str(path) in h.metrics.files)
        data = encoded(WORLD, "utf-16-be", "\r\n", codecs.BOM_UTF16_BE)
        for i in range(0, len(data), 5):  # odd pieces: units and pairs cut everywhere
            append(path, data[i : i + 5])
        assert rec.wait_lines(utf8(WORLD)) == utf8(WORLD)
        append(path, "unfinished 😀".encode("utf-16-be"))
        expected = [*utf8(WORLD), "unfinished 😀".encode()]
        assert rec.wait_lines(expected) == expected
        append(path, "\r\nafter\r\n".encode("utf-16-be"))
        assert rec.wait_lines([*expected, b""])[-1] == b"after"
        assert rec.lines() == [*expected, b"after"]
        stats = h.metrics.files[str(path)]
        assert wait_until(lambda: stats.offset == path.stat().st_size)


def test_a_truncated_utf16_file_is_read_again_with_its_new_bom(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(encoded(["old one", "old two"], "utf-16-le", bom=codecs.BOM_UTF16_LE))
    h = Harness({"FilePaths": [str(path)], "FileEncoding": "utf16"})
    with h.tailing() as rec:
        assert rec.wait_lines([b"old one", b"old two"]) == [b"old one", b"old two"]
        with path.open("r+b") as f:
            f.truncate(0)
            f.write(encoded(["新的"], "utf-16-be", bom=codecs.BOM_UTF16_BE))
        expected = [b"old one", b"old two", "新的".encode()]
        assert rec.wait_lines(expected) == expected
        assert h.metrics.files[str(path)].truncations == 1


def test_utf16_tail_start_is_aligned_to_a_line_start(tmp_path: Path) -> None:
    lines = [f"line {i:04d} ✓" for i in range(300)]
    data = encoded(lines, "utf-16-le", bom=codecs.BOM_UTF16_LE)
    for tail in (1, 2):
        path = tmp_path / f"app{tail}.log"
        path.write_bytes(data + (b"x" if tail == 2 else b""))  # an odd size: still aligned
        h = Harness({"FilePaths": [str(path)], "FileEncoding": "utf16", "TailSizeKB": tail})
        with h.tailing() as rec:
            assert wait_until(lambda p=path, hh=h: offset_of(hh, p) >= len(data))
            got = rec.lines()
        assert got and got == utf8(lines[-len(got) :])


def test_splitter_start_at_aligns_to_units() -> None:
    s = Splitter("utf16", codecs.BOM_UTF16_LE, 1024, want_ends=False)
    assert s.start_at(0, align=True) == 2  # after the BOM
    assert (s.start_at(101, align=True), s.discard) == (98, True)  # one unit early
    s = Splitter("utf16", codecs.BOM_UTF16_LE, 1024, want_ends=False)
    assert (s.start_at(3, align=True), s.discard) == (2, False)
    assert s.start_at(7, align=False) == 6
    s = Splitter("gbk", b"ab", 1024, want_ends=False)
    assert (s.start_at(10, align=True), s.discard) == (9, True)


@pytest.mark.parametrize("encoding", ["gbk", "utf16"])
def test_over_long_lines_in_other_encodings_are_cut_on_characters(
    tmp_path: Path, encoding: str
) -> None:
    codec = "gbk" if encoding == "gbk" else "utf-16-le"
    rng = random.Random(11)
    text = "".join(rng.choice("日志内容abc，。") for _ in range(5000))  # noqa: RUF001
    path = tmp_path / "long.log"
    data = (text + "\n短行\n" + text).encode(codec)  # the last line also has no newline
    path.write_bytes(data)
    lines, origins, reader = read_all(path, LineOptions(max_line_bytes=1000, encoding=encoding))
    assert all(len(line) <= 1000 for line in lines)
    i = lines.index("短行".encode())
    assert b"".join(lines[:i]).decode() == text
    assert b"".join(lines[i + 1 :]).decode() == text
    assert_contiguous(origins, len(data))
    # Cuts counted: every piece after the first of each long line.
    assert reader.split_lines == len(lines) - 3


def test_multiline_utf16_records_end_at_raw_offsets(tmp_path: Path) -> None:
    text = "2026-01-01 错误\r\n  在 第一行\r\n2026-01-02 正常\r\n  详情\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    path = tmp_path / "ml.log"
    path.write_bytes(data)
    options = LineOptions(encoding="utf16", multiline=parse_multiline({"StartPattern": r"\d{4}-"}))
    lines, origins, _ = read_all(path, options, chunk=5, flush=False)
    assert lines == ["2026-01-01 错误\n  在 第一行".encode()]
    assert origins[-1].end == len(codecs.BOM_UTF16_LE) + len(
        "2026-01-01 错误\r\n  在 第一行\r\n".encode("utf-16-le")
    )
    lines, origins, _ = read_all(path, options, chunk=5)
    assert lines[-1] == "2026-01-02 正常\n  详情".encode()
    assert_contiguous(origins, len(data))


@pytest.mark.parametrize("config", [{"FileEncoding": "utf16"}, {"FileEncoding": "gbk"}])
def test_origins_identify_the_file(tmp_path: Path, config: dict[str, Any]) -> None:
    path = tmp_path / "app.log"
    codec = "utf-16" if config["FileEncoding"] == "utf16" else "gbk"
    path.write_bytes("一\n二\n".encode(codec))
    h = Harness({"FilePaths": [str(path)], **config})
    h.once()
    st = path.stat()
    for batch, _, _ in h.recorder.batches:
        assert isinstance(batch.origin, FileOrigin)
        assert batch.origin.identity == (st.st_dev, st.st_ino)
    assert h.recorder.lines() == ["一".encode(), "二".encode()]


def test_splitter_edges_cr_waiting_odd_byte_and_late_bom() -> None:
    s = Splitter("utf16", b"", 1024, want_ends=True)
    assert s.start_at(0, align=False) == 0
    assert s.feed(b"\xff") == ([], [], 0)  # one byte: the BOM cannot be told yet
    assert not s.has_partial
    lines, ends, start = s.feed(b"\xfea\x00\n\x00b\x00")
    assert (lines, ends, start) == ([b"a"], [6], 2)  # the BOM is skipped, not a character
    assert s.has_partial
    flushed = s.flush()
    assert flushed == ([b"b"], [8], 6)
    # The flushed line's CR came with it; its LF comes alone and makes no empty line.
    assert s.feed(b"\r\x00") == ([], [], 8)
    assert s.feed(b"\n") == ([], [], 8)  # half a CRLF: waiting
    assert not s.has_partial
    assert s.feed(b"\x00c\x00\n\x00") == ([b"c"], [16], 12)
    # An odd trailing byte is never flushed: the file's code units stay aligned.
    s.feed(b"d\x00e")
    assert s.flush() == ([b"d"], [18], 16)
    assert s.carry == b"e"
    assert s.feed(b"\x00\n\x00") == ([b"e"], [22], 18)


def test_splitter_skips_a_crlf_that_ends_a_flushed_line() -> None:
    s = Splitter("gbk", b"", 1024, want_ends=False)
    s.start_at(0, align=False)
    assert s.feed(b"half")[0] == []
    assert s.flush() == ([b"half"], [4], 0)
    assert s.feed(b"\r") == ([], [], 4)
    assert not s.has_partial  # a CR that may end the flushed line is not a line yet
    assert s.feed(b"\nnext\n")[0] == [b"next"]
    s.rewind()
    assert (s.pos, s.carry, s.skip_lf) == (0, b"", False)
