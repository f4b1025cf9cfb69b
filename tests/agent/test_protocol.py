"""LogGroup's columnar batch slices behave exactly like lists of Logs."""

import orjson
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
