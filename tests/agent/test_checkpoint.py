"""Checkpoints: the store (atomic, torn-write recovery, pruning), acknowledgement counting,
and the pipeline's wiring from delivered groups to committed file offsets."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore, checkpoint_path
from agent.config import parse_config, state_dir
from agent.delivery import Delivery
from agent.pipeline import Pipeline
from agent.plugin import DeliveryRejected
from agent.protocol import Log, LogBatch, LogGroup
from agent.queue import LogGroupQueue
from agent.registry import load_registry
from plugins.input.file import FileOrigin
from plugins.input.file._states import Ledger


def wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# -- the store ----------------------------------------------------------------------------


def entry(ino: int, offset: int, seen: float | None = None) -> dict[str, Any]:
    return {
        "dev": 1,
        "ino": ino,
        "path": f"/logs/{ino}.log",
        "offset": offset,
        "fp_len": 4,
        "fp": "x",
        "seen": time.time() if seen is None else seen,
    }


def test_the_store_lives_in_the_state_dir_one_file_per_pipeline() -> None:
    assert checkpoint_path("app") == state_dir() / "checkpoints" / "app.json"
    odd = checkpoint_path("my app/../x")
    assert odd.parent == state_dir() / "checkpoints"
    assert odd.name != checkpoint_path("my app_.._x").name  # sanitised names stay distinct
    assert checkpoint_path(".hidden").name[0] != "."


def test_save_and_load_round_trip_with_the_documented_format(tmp_path: Path) -> None:
    path = tmp_path / "cp" / "p.json"
    store = CheckpointStore(path, pipeline="p")
    assert not store.existed and store.entries("input_file") == []
    store.attach("input_file", lambda now: [entry(7, 120)])
    store.close()
    data = orjson.loads(path.read_bytes())
    assert data["version"] == 1 and data["pipeline"] == "p"
    [saved] = data["sections"]["input_file"]
    assert saved["ino"] == 7 and saved["offset"] == 120
    assert not path.with_name("p.json.tmp").exists()  # the temp file became the file

    again = CheckpointStore(path, pipeline="p")
    [loaded] = again.entries("input_file")
    assert again.existed and loaded["offset"] == 120
    assert again.saved_at == pytest.approx(data["saved"])


def test_a_torn_write_falls_back_to_the_previous_copy_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    offset = {"now": 100}
    store = CheckpointStore(path, pipeline="p")
    store.attach("input_file", lambda now: [entry(7, offset["now"])])
    store.save()
    offset["now"] = 200
    store.close()
    assert path.with_name("p.json.bak").exists()
    # A crash in the middle of writing the main file (no fsync/replace protection assumed).
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])

    warnings: list[str] = []
    recovered = CheckpointStore(path, pipeline="p", report=warnings.append)
    [loaded] = recovered.entries("input_file")
    assert loaded["offset"] == 100  # the previous good state: older, never newer
    assert recovered.recovered
    [warning] = warnings
    assert "damaged" in warning and "p.json.bak" in warning
    # The next save writes a good main file and does not keep the damaged one as backup.
    recovered.attach("input_file", lambda now: [entry(7, 300)])
    recovered.close()
    assert orjson.loads(path.read_bytes())["sections"]["input_file"][0]["offset"] == 300
    assert orjson.loads(path.with_name("p.json.bak").read_bytes())["version"] == 1


def test_nothing_usable_means_a_fresh_start_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'{"version": 1, "sections": {"input_file": [')
    path.with_name("p.json.bak").write_bytes(b"\x00\x00garbage")
    warnings: list[str] = []
    store = CheckpointStore(path, pipeline="p", report=warnings.append)
    assert store.entries("input_file") == []
    assert store.existed  # there were checkpoints: files are not "first seen" then
    assert len(warnings) == 1 and "no usable previous copy" in warnings[0]


def test_unclaimed_entries_are_kept_until_stale_claimed_ones_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    now = time.time()
    old, fresh, taken = entry(1, 10, now - 10_000), entry(2, 20, now - 10), entry(3, 30)
    path.write_bytes(orjson.dumps({"version": 1, "sections": {"input_file": [old, fresh, taken]}}))
    store = CheckpointStore(path, pipeline="p", prune_after=3600)
    [claimed] = [e for e in store.entries("input_file") if e["ino"] == 3]
    store.claim(claimed)
    assert {e["ino"] for e in store.entries("input_file")} == {1, 2}
    store.attach("input_file", lambda now: [entry(3, 33)])
    store.close()
    saved = orjson.loads(path.read_bytes())["sections"]["input_file"]
    assert sorted((e["ino"], e["offset"]) for e in saved) == [(2, 20), (3, 33)]


def test_a_store_without_inputs_never_writes(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "p.json")
    store.changed()
    store.close()
    assert not (tmp_path / "p.json").exists()


def test_changes_are_written_at_most_once_per_interval(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "p.json", interval=0.2)
    store.attach("input_file", lambda now: [entry(1, 1)])
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        store.changed()
        time.sleep(0.005)
    saves = store.saves
    store.close()
    assert 2 <= saves <= 7  # ~5 in one second at 0.2 s, not ~200


def test_a_failing_write_warns_once_and_keeps_going(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    warnings: list[str] = []
    store = CheckpointStore(blocker / "p.json", report=warnings.append)
    store.attach("input_file", lambda now: [entry(1, 1)])
    assert not store.save()
    assert not store.save()
    assert len(warnings) == 1 and "not saved" in warnings[0]
    store.close()


# -- counting acknowledgements --------------------------------------------------------------


def origin_of(ledger: Ledger, start: int, end: int) -> FileOrigin:
    return ledger.sent(FileOrigin(1, 2, "/a.log", start, end))


def group_of(*parts: tuple[LogBatch, int, int] | list[Log]) -> LogGroup:
    group = LogGroup()
    for part in parts:
        if isinstance(part, list):
            for log in part:
                group.append(log)
        else:
            group.extend_batch(*part)
    return group


def test_the_committed_offset_is_the_lowest_unacknowledged_position() -> None:
    changes: list[int] = []
    ledger = Ledger((1, 2), "/a.log", 0, notify=lambda: changes.append(1))
    a, b, c = origin_of(ledger, 0, 10), origin_of(ledger, 10, 25), origin_of(ledger, 25, 40)
    ledger.done(c)
    assert ledger.committed == 0 and not changes  # c is acknowledged, a and b are not
    ledger.done(a)
    assert ledger.committed == 10
    ledger.done(b)
    assert ledger.committed == 40 and ledger.in_flight == 0
    ledger.done(b)  # twice, or an unknown origin: ignored
    ledger.done(FileOrigin(1, 2, "/a.log", 40, 50))
    assert ledger.committed == 40 and len(changes) == 2


def test_a_batch_split_over_groups_is_done_when_its_last_slice_is() -> None:
    counter = AckCounter()
    ledger = Ledger((1, 2), "/a.log", 0)
    batch = LogBatch([b"l%d" % i for i in range(10)], 1, origin=origin_of(ledger, 0, 30))
    counter.expect(batch.origin, len(batch))
    # The runner re-offers the rest after a partial QueueFullError: same origin object.
    rest = LogBatch(batch.lines[4:], 1, origin=batch.origin)
    counter.group_done(group_of((rest, 0, 6)))
    assert ledger.committed == 0 and len(counter) == 1
    counter.group_done(group_of((batch, 0, 4)))
    assert ledger.committed == 30 and len(counter) == 0


def test_a_hold_keeps_an_origin_open_across_steps_until_released() -> None:
    counter = AckCounter()
    ledger = Ledger((1, 2), "/a.log", 0)
    origin = origin_of(ledger, 0, 40)
    counter.expect(origin, 1)  # the hold: its logs come in two steps
    first = LogBatch([b"a", b"b"], 1, origin=origin)
    counter.expect(origin, 2)
    counter.group_done(group_of((first, 0, 2)))
    assert ledger.committed == 0  # the second step has not even been expected yet
    second = LogBatch([b"c"], 1, origin=origin)
    counter.expect(origin, 1)
    counter.expect(origin, 0)  # a step whose logs a processor dropped: still held
    counter.release(origin)
    assert ledger.committed == 0  # released, but "c" is not delivered
    counter.group_done(group_of((second, 0, 1)))
    assert ledger.committed == 40 and len(counter) == 0
    held = origin_of(ledger, 40, 50)
    counter.expect(held, 1)
    counter.release(held)  # every step's logs dropped: done at the release
    assert ledger.committed == 50


def test_logs_count_one_each_and_materialised_groups_still_count() -> None:
    counter = AckCounter()
    ledger = Ledger((1, 2), "/a.log", 0)
    batch = LogBatch([b"a", b"b", b"c"], 1, origin=origin_of(ledger, 0, 6))
    counter.expect(batch.origin, 3)
    group = group_of((batch, 0, 3))
    assert all(log.origin is batch.origin for log in group.logs)  # a flusher read .logs
    counter.group_done(group)
    assert ledger.committed == 6


def test_an_origin_without_logs_is_done_at_once_and_foreign_groups_are_ignored() -> None:
    counter = AckCounter()
    ledger = Ledger((1, 2), "/a.log", 0)
    counter.expect(origin_of(ledger, 0, 8), 0)  # every line dropped by a processor
    assert ledger.committed == 8
    counter.expect(None, 5)
    counter.expect(object(), 5)  # no ledger: nobody waits
    counter.group_done(group_of([Log(1, {"content": "x"})]))
    assert len(counter) == 0


# -- delivery ------------------------------------------------------------------------------


class Flaky:
    def __init__(self, reject: bool = False) -> None:
        self.reject = reject
        self.flushed: list[LogGroup] = []

    def flush(self, groups: list[LogGroup]) -> None:
        if self.reject:
            raise DeliveryRejected("400 bad request")
        self.flushed.extend(groups)

    def stop(self) -> None:
        pass


def test_groups_refused_for_good_are_acknowledged_lost_ones_are_not() -> None:
    acked: list[LogGroup] = []
    queue = LogGroupQueue(4)
    delivery = Delivery(
        queue, [("a", Flaky()), ("b", Flaky(reject=True))], "p", on_ack=acked.append
    )
    delivery.start()
    group = LogGroup([Log(1, {"content": "x"})])
    queue.add(group)
    wait_until(lambda: acked == [group])
    queue.close()
    assert delivery.stop(5)

    class Stuck(Flaky):
        def flush(self, groups: list[LogGroup]) -> None:
            raise OSError("down")

    lost: list[LogGroup] = []
    queue = LogGroupQueue(4)
    delivery = Delivery(queue, [("s", Stuck())], "p", on_ack=lost.append)
    delivery.start()
    queue.add(LogGroup([Log(1, {"content": "y"})]))
    queue.close()
    assert not delivery.stop(0.3)
    assert lost == []


# -- the pipeline ---------------------------------------------------------------------------


def checkpoint_offsets(name: str) -> dict[str, int]:
    data = orjson.loads(checkpoint_path(name).read_bytes())
    return {e["path"]: e["offset"] for e in data["sections"]["input_file"]}


def make_pipeline(tmp_path: Path, extra: str = "", flusher: str = "") -> Pipeline:
    out = tmp_path / "out.jsonl"
    text = f"""
global: {{AggregatIntervalMs: 100}}
inputs: [{{Type: input_file, FilePaths: ["{tmp_path}/in/*.log"]}}]
{extra}
aggregators: [{{Type: aggregator_default, MaxLogCount: 7}}]
flushers: [{flusher or f'{{Type: flusher_file, FilePath: "{out}"}}'}]
"""
    return Pipeline(parse_config(text, "cp.yml"), load_registry())


def test_a_pipeline_commits_what_its_flushers_delivered(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(100)))
    pipeline = make_pipeline(tmp_path)
    pipeline.start()
    wait_until(lambda: pipeline.metrics.delivered_logs == 100)
    wait_until(lambda: checkpoint_offsets("cp").get(str(log)) == log.stat().st_size)
    assert pipeline.metrics.files[str(log)].committed == log.stat().st_size
    assert len(pipeline.acks) == 0
    assert pipeline.stop(10)


def test_a_flusher_down_for_a_while_pauses_reading_and_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    total = 300_000
    log.write_bytes(b"".join(b"line %06d of the application log\n" % i for i in range(total)))
    blocker = tmp_path / "down"
    blocker.write_bytes(b"")  # the output's folder is a file: every delivery fails
    flusher = f'{{Type: flusher_file, FilePath: "{blocker}/out.jsonl"}}'
    extra = "global: {AggregatIntervalMs: 100, DefaultLogGroupQueueSize: 2}"
    pipeline = Pipeline(
        parse_config(
            f"{extra}\ninputs: [{{Type: input_file, FilePaths: ['{tmp_path}/in/*.log'], "
            f"TailSizeKB: 100000}}]\nflushers: [{flusher}]\n",
            "down.yml",
        ),
        load_registry(),
    )
    pipeline.start()
    wait_until(lambda: pipeline.events.history("queue_full"))
    paused_at = pipeline.metrics.lines
    wait_until(lambda: pipeline.metrics.rejected_adds >= 5)
    # Reading waits: queue + backlog + aggregator + one chunk, far below the file.
    assert pipeline.metrics.lines == paused_at < total // 4
    assert checkpoint_offsets("down")[str(log)] == 0
    blocker.unlink()  # the output comes back
    wait_until(lambda: pipeline.metrics.delivered_logs == total, timeout=60)
    assert pipeline.stop(10)
    numbers = [
        int(entry["contents"]["content"][5:11])
        for line in (blocker / "out.jsonl").read_bytes().splitlines()
        for entry in orjson.loads(line)["logs"]
    ]
    assert numbers == list(range(total))
    assert checkpoint_offsets("down")[str(log)] == log.stat().st_size


def test_logs_dropped_by_processors_do_not_hold_the_checkpoint_back(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    log.write_bytes(b"".join(b"%s %d\n" % (b"keep" if i % 3 else b"drop", i) for i in range(50)))
    extra = 'processors: [{Type: processor_filter_regex, Exclude: {content: "^drop"}}]'
    pipeline = make_pipeline(tmp_path, extra)
    pipeline.start()
    wait_until(lambda: pipeline.metrics.delivered_logs == 33)
    assert pipeline.stop(10)
    assert checkpoint_offsets("cp")[str(log)] == log.stat().st_size


def test_an_undelivered_group_keeps_the_checkpoint_before_it(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    log.write_bytes(b"first\n")
    # The output path is a directory: every delivery fails and is retried.
    flusher = f'{{Type: flusher_file, FilePath: "{tmp_path}"}}'
    pipeline = make_pipeline(tmp_path, flusher=flusher)
    pipeline.start()
    wait_until(lambda: pipeline.metrics.lines == 1)
    wait_until(lambda: pipeline.events.history("flusher_error"))
    assert not pipeline.stop(0.3)  # given up at shutdown: not acknowledged
    assert checkpoint_offsets("cp")[str(log)] == 0


def test_in_order_commits_the_end_of_the_longest_acknowledged_run():
    from agent.acks import InOrder

    order = InOrder()
    a, b, c, d = (object() for _ in range(4))
    for origin in (a, b, c, d):
        order.add(origin)
    assert order.done(c) is None  # b and a still on their way
    assert order.done(object()) is None  # never added
    assert order.done(a) is a and len(order) == 3
    assert order.done(b) is c and len(order) == 1  # b closes the gap up to c
    assert order.done(b) is None  # acknowledged before
    assert order.done(d) is d and len(order) == 0
