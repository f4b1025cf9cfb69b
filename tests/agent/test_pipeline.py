"""A whole pipeline with real files: back-pressure from a blocked flusher loses nothing."""

import os
import threading
import time

import orjson

from agent.config import parse_config
from agent.pipeline import Pipeline
from agent.registry import load_registry


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def make_pipeline(tmp_path, out):
    text = f"""
global: {{AggregatIntervalMs: 200, DefaultLogGroupQueueSize: 4}}
inputs: [{{Type: input_file, FilePaths: ["{tmp_path}/in/*.log"], TailSizeKB: 1000000}}]
aggregators: [{{Type: aggregator_default}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
"""
    return Pipeline(parse_config(text, "bp.yml"), load_registry())


def test_blocked_flusher_pauses_the_reader_with_bounded_memory_and_loses_nothing(tmp_path):
    lines_total = 200_000
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "app.log").write_bytes(
        b"".join(b"line %07d of the application log\n" % i for i in range(lines_total))
    )
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)  # flusher_file's open() blocks until somebody reads: a real stuck output
    pipeline = make_pipeline(tmp_path, fifo)
    pipeline.start()

    wait_until(lambda: pipeline.events.history("queue_full"))
    full = pipeline.events.history("queue_full")[0].data
    assert full["aggregator"] == "aggregator_default" and full["flusher"] == "flusher_file"
    read_when_full = pipeline.metrics.lines
    # Let the reader try for a while: its refused adds pile up, its reading does not.
    wait_until(lambda: pipeline.metrics.rejected_adds >= 20)
    assert pipeline.metrics.lines == read_when_full
    # Queue (4) + the flusher's backlog (8) + one in flight + the aggregator's two groups
    # + one chunk: a bound in groups of 1024, far below the file.
    assert read_when_full < 30 * 1024 < lines_total
    assert pipeline.queue.depth == pipeline.queue.capacity

    received = bytearray()
    reader = threading.Thread(target=lambda: received.extend(fifo.read_bytes()))
    reader.start()
    wait_until(lambda: pipeline.metrics.delivered_logs == lines_total, timeout=120)
    assert pipeline.stop(timeout=30)
    reader.join(30)
    assert pipeline.events.history("queue_recovered")

    numbers = [
        int(log["contents"]["content"][5:12])
        for line in received.splitlines()
        for log in orjson.loads(line)["logs"]
    ]
    assert numbers == list(range(lines_total))


def test_stop_delivers_what_the_aggregator_still_holds(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.log").write_bytes(b"only line\n")
    out = tmp_path / "out.jsonl"
    pipeline = make_pipeline(tmp_path, out)
    pipeline.aggregator.set_interval(default_ms=3_600_000)  # only the final flush delivers
    pipeline.start()
    wait_until(lambda: pipeline.metrics.lines == 1)
    assert not out.exists() or out.read_bytes() == b""
    assert pipeline.stop(timeout=10)
    [group] = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [log["contents"]["content"] for log in group["logs"]] == ["only line"]


def test_logs_an_aggregator_drops_do_not_hold_the_checkpoint_back(tmp_path):
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    log.write_bytes(
        b"".join(b"%s line %d\n" % (b"keep" if i % 3 else b"drop", i) for i in range(3000))
    )
    out = tmp_path / "out.jsonl"
    text = f"""
inputs: [{{Type: input_file, FilePaths: ["{log}"]}}]
aggregators: [{{Type: aggregator_logstore_router, SourceKey: content, RouterRegex: ["keep.*"],
               RouterLogstore: [kept], DropDisMatch: true}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
"""
    pipeline = Pipeline(parse_config(text, "drops.yml"), load_registry(), once=True)
    assert pipeline.run_once()
    delivered = sum(len(orjson.loads(line)["logs"]) for line in out.read_bytes().splitlines())
    assert delivered == 2000
    assert pipeline.metrics.files[str(log)].committed == log.stat().st_size


def test_a_large_chunk_is_processed_a_step_at_a_time_and_committed_only_at_its_end(tmp_path):
    """Its first step's logs are delivered before the next step is processed; the
    file's offset must still wait for the whole chunk (the hold)."""
    from agent.pipeline import PROCESS_STEP

    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "app.log"
    lines = 3 * PROCESS_STEP + 10
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(lines)))
    out = tmp_path / "out.jsonl"
    text = f"""
global: {{AggregatIntervalMs: 100}}
inputs: [{{Type: input_file, FilePaths: ["{log}"]}}]
processors: [{{Type: processor_add_fields, Fields: {{step: "yes"}}}}]
aggregators: [{{Type: aggregator_default}}]
flushers: [{{Type: flusher_file, FilePath: "{out}"}}]
"""
    pipeline = Pipeline(parse_config(text, "steps.yml"), load_registry(), once=True)
    _, processor = pipeline.processors[0]
    committed_between_steps: list[int] = []
    process_logs = processor.process_logs

    def one_step(logs):  # type: ignore[no-untyped-def]
        done = pipeline.metrics.logs  # logs of earlier steps, handed to the aggregator
        if done:
            wait_until(lambda: pipeline.metrics.delivered_logs >= done)
            committed_between_steps.append(pipeline.metrics.files[str(log)].committed)
        return process_logs(logs)

    processor.process_logs = one_step
    assert pipeline.run_once()
    assert len(committed_between_steps) == 3  # four steps: three after delivered ones
    assert committed_between_steps == [0, 0, 0]
    delivered = [
        entry["contents"]
        for row in out.read_bytes().splitlines()
        for entry in orjson.loads(row)["logs"]
    ]
    assert [d["content"] for d in delivered] == [f"line {i}" for i in range(lines)]
    assert all(d["step"] == "yes" for d in delivered)
    assert pipeline.metrics.files[str(log)].committed == log.stat().st_size
