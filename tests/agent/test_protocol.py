"""LogGroup's columnar batch slices behave exactly like lists of Logs."""

import sys
import threading

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.encoding import encode_groups
from agent.protocol import Log, LogBatch, LogGroup, LogTag, log_size


def test_log_size_is_ilogtails_estimate():
    log = Log(1, {"content": "hello", "no": "12"})
    assert log_size(log) == 6 + (5 + 7 + 5) + (5 + 2 + 2)
    batch = LogBatch([b"hello", b"hi"], 1)
    assert batch.size() == sum(log_size(x) for x in batch.to_logs())


def test_slices_materialise_in_order_and_merge_when_adjacent():
    batch = LogBatch([b"a", b"b", b"c", b"d"], 10, 5)
    group = LogGroup()
    group.extend_batch(batch, 0, 2)
    group.extend_batch(batch, 2, 3)
    group.append(Log(11, {"k": "v"}))
    group.extend_batch(batch, 3, 4)
    assert len(group) == 5
    assert len(list(group.parts())) == 3  # the two adjacent slices became one
    assert [log.contents for log in group.logs] == [
        {"content": "a"},
        {"content": "b"},
        {"content": "c"},
        {"k": "v"},
        {"content": "d"},
    ]
    assert group.logs[0].time == 10 and group.logs[0].time_ns == 5


def test_texts_survive_lines_that_contain_newlines():
    batch = LogBatch([b"first\nsecond", b"third"], 1)
    assert batch.texts() == ["first\nsecond", "third"]


def test_invalid_utf8_in_a_batch_becomes_replacement_character():
    assert LogBatch([b"ok\xff"], 1).texts() == ["ok\ufffd"]


def test_equality_compares_materialised_logs_and_tags():
    batch = LogBatch([b"x"], 1)
    sliced = LogGroup(topic="t", log_tags=[LogTag("k", "v")])
    sliced.extend_batch(batch, 0, 1)
    listed = LogGroup(logs=[Log(1, {"content": "x"})], topic="t", log_tags=[LogTag("k", "v")])
    assert sliced == listed
    assert sliced != LogGroup(logs=[Log(1, {"content": "x"})], topic="other")


@given(
    lines=st.lists(st.text(max_size=40), max_size=20),
    extra=st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3),
)
def test_jsonl_encoding_matches_a_per_log_encoding(lines, extra):
    lines = [line.replace("\n", " ") for line in lines]
    batch = LogBatch([line.encode("utf-8", "surrogatepass") for line in lines], 7, 3)
    group = LogGroup(topic="t", source="s", log_tags=[LogTag("__pack_id__", "AB-1")])
    group.extend_batch(batch, 0, len(lines))
    group.append(Log(8, extra))
    decoded = orjson.loads(encode_groups([group]))
    expected = [{"time": 7, "time_ns": 3, "contents": {"content": t}} for t in batch.texts()]
    expected.append({"time": 8, "contents": extra})
    assert decoded["logs"] == expected
    assert decoded["tags"] == {"__pack_id__": "AB-1"}
    assert decoded["topic"] == "t" and decoded["source"] == "s"


@given(lines=st.lists(st.binary(max_size=30), min_size=1, max_size=20))
def test_jsonl_encoding_of_raw_bytes_including_del_and_junk(lines):
    lines = [line.replace(b"\n", b" ") for line in lines]
    batch = LogBatch(lines, 1)
    group = LogGroup()
    group.extend_batch(batch, 0, len(lines))
    decoded = orjson.loads(encode_groups([group]))
    assert [log["contents"]["content"] for log in decoded["logs"]] == batch.texts()


def test_a_first_line_that_is_a_comma_stays_a_line():
    batch = LogBatch([b",", b"\x7f", b",", b"x"], 1)
    group = LogGroup()
    group.extend_batch(batch, 0, 4)
    decoded = orjson.loads(encode_groups([group]))
    assert [log["contents"]["content"] for log in decoded["logs"]] == [",", "\x7f", ",", "x"]


_FIELD_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\x00", "\x7f", "é", "😀", "\ud800"]),
    ),
    max_size=12,
)


@given(contents=st.dictionaries(_FIELD_TEXT, _FIELD_TEXT, max_size=6))
def test_log_size_counts_utf8_bytes_whatever_the_text(contents):
    expected = 6 + sum(
        5 + len(k.encode("utf-8", "replace")) + len(v.encode("utf-8", "replace"))
        for k, v in contents.items()
    )
    assert log_size(Log(1, contents)) == expected


# -- chunk batches: a reader's lines still joined --------------------------------------

_LINE = st.one_of(
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from([b"", b"\x7f", b",", "é😀".encode(), b"\xff\xfe", b'"q"\\', b"\r"]),
    st.integers(0, 3000).map(lambda n: b"L" * n),
)


@given(
    lines=st.lists(_LINE, min_size=1, max_size=60),
    ranges=st.lists(st.tuples(st.integers(-2, 62), st.integers(-2, 62)), max_size=8),
    view=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    materialise=st.booleans(),
)
def test_a_chunk_batch_answers_every_question_as_its_list_of_lines_does(
    lines, ranges, view, materialise
):
    chunked = LogBatch.of_chunk(b"\n".join(lines), len(lines), 5, 6, "k", "origin")
    assert chunked.chunk == b"\n".join(lines)
    assert LogBatch(lines, 5).chunk is None
    _same_answers(chunked, lines, ranges, materialise)
    # A sub-batch (the part left after a refusal) is a view of the same chunk.
    a, b = sorted(view)
    a, b = min(a, len(lines) - 1), min(max(b, a + 1), len(lines))
    part = LogBatch.of_chunk(b"\n".join(lines), len(lines), 5, 6, "k", "origin").sub(a, b)
    assert part.chunk == b"\n".join(lines[a:b])
    _same_answers(part, lines[a:b], ranges, materialise)


def _same_answers(chunked, lines, ranges, materialise):
    listed = LogBatch(list(lines), 5, 6, "k", "origin")
    assert len(chunked) == len(lines)
    assert chunked.line_bytes() == listed.line_bytes() == sum(map(len, lines))
    if materialise:  # a GUI sample or a processor asked for the list first
        assert chunked.lines == lines
    n = len(lines)
    # Queried in any order: the line starts found for one range serve the next ones.
    for start, stop in ranges:
        # As list slicing reads them: negative from the end, clamped, empty when crossed.
        assert chunked.joined(start, stop) == b"\n".join(lines[start:stop])
        assert chunked.size(start, stop) == listed.size(start, stop)
        assert chunked.sub(start, stop).lines == lines[start:stop]
        assert chunked.line_list(start, stop) == lines[start:stop]
        assert chunked.texts(start, stop) == listed.texts(start, stop)
        if -n <= start < n:
            assert chunked.line_length(start) == len(lines[start])
        else:
            with pytest.raises(IndexError):
                chunked.line_length(start)
        start = max(0, min(start, n))
        stop = max(start, min(stop, n))
        assert chunked.size(start, stop) == listed.size(start, stop)
        assert chunked.joined(start, stop) == b"\n".join(lines[start:stop])
        assert chunked.joined(start, stop, b"\x7f") == b"\x7f".join(lines[start:stop])
        assert chunked.line_list(start, stop) == lines[start:stop]
        assert chunked.texts(start, stop) == listed.texts(start, stop)
        assert chunked.to_logs(start, stop) == listed.to_logs(start, stop)
        part = chunked.sub(start, stop)
        assert part.lines == lines[start:stop] and part.origin == "origin"
        assert part.line_bytes() == sum(map(len, lines[start:stop]))
        if start < n:
            assert chunked.line_length(start) == len(lines[start])
        group = LogGroup()
        group.extend_batch(chunked, start, stop)
        other = LogGroup()
        other.extend_batch(listed, start, stop)
        assert encode_groups([group]) == encode_groups([other])
    assert chunked.size() == listed.size()
    assert chunked == listed
    assert chunked.lines == lines


def test_an_empty_chunk_batch_has_no_lines_and_one_empty_line_is_a_line():
    empty = LogBatch.of_chunk(b"", 0, 1)
    assert len(empty) == 0 and empty.lines == [] and empty.line_bytes() == 0
    assert empty.texts() == [] and empty.size() == 0
    one = LogBatch.of_chunk(b"", 1, 1)
    assert one.lines == [b""] and one.texts() == [""] and one.size() == LogBatch([b""], 1).size()


def test_a_chunk_cut_in_many_places_splits_once_instead_of_searching_each_time():
    lines = [b"line %d" % i for i in range(3000)]
    batch = LogBatch.of_chunk(b"\n".join(lines), len(lines), 1)
    # A keyed aggregator with alternating keys asks for every line's start and length.
    for i in range(len(lines)):
        assert batch.line_length(i) == len(lines[i])
        assert batch.size(i, i + 1) == LogBatch([lines[i]], 1).size()
    assert len(batch._starts or ()) <= 70  # the search's memory stays bounded
    assert batch.lines == lines


def test_two_threads_may_ask_one_chunk_batch_for_line_starts():
    # The input's thread cuts a batch while the flusher's encodes a group sliced from it.
    lines = [b"x" * (i % 50) for i in range(2000)]
    chunk = b"\n".join(lines)
    errors: list[BaseException] = []

    def ask(batch: LogBatch, first: int, ready: threading.Barrier) -> None:
        ready.wait()
        try:
            for i in range(first, len(lines), 67):
                assert batch.joined(i, i + 3) == b"\n".join(lines[i : i + 3])
        except BaseException as e:
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        for _ in range(100):
            batch = LogBatch.of_chunk(chunk, len(lines), 1)
            ready = threading.Barrier(2)
            threads = [threading.Thread(target=ask, args=(batch, k, ready)) for k in (0, 33)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
