"""The live view's per-group summary: counted by parts, bounded, decoded only when shown."""

import sys

from agent.protocol import Log, LogBatch, LogGroup, LogTag, log_size
from gui.summary import (
    MIN_SAMPLE_LOGS,
    SAMPLE_LINE_BYTES,
    SAMPLE_LOGS,
    SampleAllowance,
    summarise,
)


def batch_group(lines: list[bytes]) -> LogGroup:
    batch = LogBatch(lines, time=1_700_000_000)
    group = LogGroup(source="/var/log/app.log", topic="t", log_tags=[LogTag("host", "a")])
    group.extend_batch(batch, 0, len(lines))
    group.log_tags.append(LogTag("__pack_id__", "ABC-1"))
    return group


def test_summary_counts_and_sizes_a_batch_group_without_materialising_it():
    lines = [b"line %d" % i for i in range(1000)]
    group = batch_group(lines)
    s = summarise("p", group)
    assert (s.pipeline, s.source, s.topic, s.count) == ("p", "/var/log/app.log", "t", 1000)
    assert s.bytes == LogBatch(lines, 0).size()
    assert s.pack_id == "ABC-1" and s.tags == (("host", "a"),)
    assert not isinstance(next(group.parts()), list), "group.logs was called"


def test_summary_keeps_at_most_the_first_logs_and_cuts_long_lines():
    lines = [b"x" * (SAMPLE_LINE_BYTES * 2)] + [b"y"] * (SAMPLE_LOGS * 3)
    logs = summarise("p", batch_group(lines)).logs()
    assert len(logs) == SAMPLE_LOGS
    assert len(logs[0].contents["content"]) == SAMPLE_LINE_BYTES
    assert logs[1].contents == {"content": "y"} and logs[1].time == 1_700_000_000


def test_summary_of_a_group_of_log_objects_keeps_their_contents():
    logs = [Log(5, {"level": "ERROR", "msg": f"m{i}"}) for i in range(3)]
    s = summarise("p", LogGroup(logs=logs))
    assert s.count == 3 and s.bytes == sum(map(log_size, logs))
    assert s.logs() == logs and s.pack_id == ""


def test_summary_decodes_invalid_utf8_with_replacement():
    s = summarise("p", batch_group([b"caf\xe9"]))
    assert s.logs()[0].contents["content"] == "caf\ufffd"


def test_sample_lines_come_back_exactly_and_their_memory_is_bounded_from_above():
    lines = [b"", b"a", b"", b"\xff\xfe", b"line with \r and \x00", b"z" * 300]
    s = summarise("p", batch_group(lines))
    (part,) = s.sample
    assert part.lines() == lines  # empty lines and odd bytes included
    # The sample shares the batch's line objects (no copy); its budget counts each
    # line as long as the longest, plus the objects' overhead: never less than held.
    assert all(a is b for a, b in zip(part.lines(), lines, strict=True))
    held = sum(sys.getsizeof(line) for line in lines) + sys.getsizeof(part.lines())
    assert s.sample_bytes == part.nbytes >= held


def test_the_size_the_aggregator_counted_is_taken_as_is():
    group = batch_group([b"line %d" % i for i in range(10)])
    group.nbytes = 12_345
    assert summarise("p", group).bytes == 12_345
    group.extend_batch(LogBatch([b"more"], 0), 0, 1)  # a change makes the count unknown
    assert group.nbytes == -1
    assert summarise("p", group).bytes == sum(
        b.size(i, j) for b, i, j in group.parts() if not isinstance(b, list)
    )


def test_the_allowance_keeps_full_samples_up_to_its_rate_and_a_few_logs_beyond(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("gui.summary.time.monotonic", lambda: clock[0])
    allowance = SampleAllowance(per_second=1_000)
    burst = [allowance.take() for _ in range(20)]  # 20 groups at the same instant
    assert burst[:5] == [SAMPLE_LOGS] * 5  # 1,000 lines: five full samples
    assert burst[5:] == [MIN_SAMPLE_LOGS] * 15  # then every group still keeps a few
    clock[0] += 0.2  # 200 lines came back
    assert allowance.take() < SAMPLE_LOGS
    clock[0] += 10  # a quiet spell refills it, up to one second's worth
    assert [allowance.take() for _ in range(6)] == [SAMPLE_LOGS] * 5 + [MIN_SAMPLE_LOGS]


def test_a_cut_sample_says_so():
    lines = [b"line %d" % i for i in range(500)]
    full = summarise("p", batch_group(lines))
    assert full.kept == SAMPLE_LOGS and not full.sample_cut
    cut = summarise("p", batch_group(lines), max_logs=MIN_SAMPLE_LOGS)
    assert cut.kept == len(cut.logs()) == MIN_SAMPLE_LOGS and cut.sample_cut
    small = summarise("p", batch_group(lines[:5]), max_logs=MIN_SAMPLE_LOGS)
    assert small.kept == 5 and not small.sample_cut  # all of its logs were kept
