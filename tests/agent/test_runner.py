"""RunningAggregator: serialised calls, the flush timer, back-pressure without loss."""

import threading
import time

from agent.events import EventBus
from agent.metrics import PipelineMetrics
from agent.plugin import Context
from agent.protocol import Log, LogBatch, LogContext, LogGroup
from agent.queue import LogGroupQueue, QueueFullError
from agent.runner import RunningAggregator


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class CountingAggregator:
    """Groups every `per_group` logs; quick-flushes to the queue; notices overlapping calls."""

    def __init__(self, per_group=4, interval_ms=0):
        self.per_group = per_group
        self.interval_ms = interval_ms
        self.current = []
        self.inside = 0
        self.overlaps = 0
        self.flushes = 0

    def _enter(self):
        self.inside += 1
        if self.inside > 1:
            self.overlaps += 1
        time.sleep(0)  # invite a thread switch inside the call

    def _leave(self):
        self.inside -= 1

    def init(self, context, queue):
        self.queue = queue
        return self.interval_ms

    def description(self):
        return "test aggregator"

    def add(self, log, ctx=None):
        self._enter()
        try:
            if len(self.current) >= self.per_group:
                self.queue.add(LogGroup(logs=self.current))  # may raise: log not taken
                self.current = []
            self.current.append(log)
        finally:
            self._leave()

    def flush(self):
        self._enter()
        try:
            self.flushes += 1
            groups = [LogGroup(logs=self.current)] if self.current else []
            self.current = []
            return groups
        finally:
            self._leave()

    def reset(self):
        self.current = []


def drain(queue, into, stop):
    while not stop.is_set() or len(queue):
        group = queue.get(timeout=0.05)
        if group is not None:
            into.extend(log.contents["n"] for log in group.logs)


def test_add_flush_reset_never_overlap_under_concurrent_callers():
    agg = CountingAggregator(per_group=3, interval_ms=5)
    queue = LogGroupQueue(10_000)  # room for every group: this test is about overlap only
    runner = RunningAggregator(agg, queue, Context(), name="agg")
    runner.start()

    def produce(base):
        for i in range(1000):
            runner.add(Log(0, {"n": f"{base}-{i}"}))

    threads = [threading.Thread(target=produce, args=(b,)) for b in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: agg.flushes >= 3)
    runner.stop()
    assert agg.overlaps == 0


def test_interval_from_init_else_pipeline_default():
    assert (
        RunningAggregator(
            CountingAggregator(interval_ms=250),
            LogGroupQueue(),
            Context(),
            name="a",
            default_interval_ms=3000,
        ).interval_ms
        == 250
    )
    assert (
        RunningAggregator(
            CountingAggregator(interval_ms=0),
            LogGroupQueue(),
            Context(),
            name="a",
            default_interval_ms=1234,
        ).interval_ms
        == 1234
    )


def test_timer_flushes_on_its_interval():
    agg = CountingAggregator(per_group=100, interval_ms=20)
    queue = LogGroupQueue(10)
    runner = RunningAggregator(agg, queue, Context(), name="agg")
    runner.start()
    runner.add(Log(0, {"n": "1"}))
    group = queue.get(timeout=5)
    runner.stop()
    assert group is not None and [log.contents["n"] for log in group.logs] == ["1"]


def test_a_failing_timed_flush_is_reported_and_the_timer_keeps_going():
    class Flaky(CountingAggregator):
        def flush(self):
            if self.flushes == 0:
                self.flushes += 1
                raise RuntimeError("plugin bug")
            return super().flush()

    agg = Flaky(per_group=100, interval_ms=20)
    queue = LogGroupQueue(10)
    events = EventBus()
    runner = RunningAggregator(agg, queue, Context(), name="agg", events=events)
    runner.start()
    runner.add(Log(0, {"n": "1"}))
    group = queue.get(timeout=5)  # a later timed flush still delivers
    runner.stop()
    assert group is not None and [log.contents["n"] for log in group.logs] == ["1"]
    errors = [e for e in events.history() if e.kind == "error"]
    assert len(errors) == 1 and "plugin bug" in errors[0].data["message"]


def test_full_queue_pauses_the_caller_fires_events_and_loses_nothing():
    agg = CountingAggregator(per_group=2)
    queue = LogGroupQueue(1)
    events = EventBus()
    metrics = PipelineMetrics("p")
    runner = RunningAggregator(
        agg,
        queue,
        Context("p"),
        name="agg",
        events=events,
        metrics=metrics,
        slow_flusher=lambda: "flusher_slow",
    )
    added = []

    def produce():
        for i in range(20):
            runner.add(Log(0, {"n": str(i)}))
            added.append(i)

    producer = threading.Thread(target=produce)
    producer.start()
    wait_until(lambda: events.history("queue_full"))
    paused_at = len(added)
    assert paused_at < 20  # the reader is held, not dropping
    full = events.history("queue_full")[0]
    assert full.pipeline == "p" and full.data["aggregator"] == "agg"
    assert full.data["flusher"] == "flusher_slow" and full.data["depth"] == 1
    assert metrics.queue_full_count == 1

    received, stop = [], threading.Event()
    consumer = threading.Thread(target=drain, args=(queue, received, stop))
    consumer.start()
    producer.join(10)
    assert not producer.is_alive()
    runner.stop()
    stop.set()
    consumer.join()
    assert received == [str(i) for i in range(20)]
    assert events.history("queue_recovered")
    assert metrics.rejected_adds >= 1


def test_batch_path_retries_only_the_lines_not_consumed():
    class BatchAggregator(CountingAggregator):
        def add_batch(self, batch, ctx):
            for taken, log in enumerate(batch.to_logs()):
                try:
                    self.add(log, ctx)
                except QueueFullError as e:
                    raise QueueFullError(consumed=taken) from e

    agg = BatchAggregator(per_group=3)
    queue = LogGroupQueue(1)
    runner = RunningAggregator(agg, queue, Context(), name="agg")
    received, stop = [], threading.Event()
    batch = LogBatch([str(i).encode() for i in range(50)], 0, key="n")
    producer = threading.Thread(target=runner.add_batch, args=(batch, LogContext()))
    producer.start()
    wait_until(lambda: queue.is_full())
    consumer = threading.Thread(target=drain, args=(queue, received, stop))
    consumer.start()
    producer.join(10)
    runner.stop()
    stop.set()
    consumer.join()
    assert received == [str(i) for i in range(50)]


def test_abandon_releases_a_blocked_caller():
    agg = CountingAggregator(per_group=1)
    queue = LogGroupQueue(1)
    runner = RunningAggregator(agg, queue, Context(), name="agg")
    results = []

    def produce():
        results.append(all(runner.add(Log(0, {"n": str(i)})) for i in range(10)))

    producer = threading.Thread(target=produce)
    producer.start()
    wait_until(lambda: queue.is_full())
    runner.abandon()
    producer.join(5)
    assert results == [False]


def test_stop_makes_a_final_flush():
    agg = CountingAggregator(per_group=100)
    queue = LogGroupQueue(4)
    runner = RunningAggregator(agg, queue, Context(), name="agg")
    runner.start()
    runner.add(Log(0, {"n": "last"}))
    assert runner.stop()
    assert [log.contents["n"] for log in queue.get(0).logs] == ["last"]


def edge_of_full(runner: RunningAggregator, queue: LogGroupQueue, logs: int) -> None:
    """Add `logs` one-log groups into a one-slot queue that a consumer drains only once
    an add was refused: it refuses and accepts again and again, as under a backfill."""
    taken: list[LogGroup] = []
    metrics = runner.metrics
    assert metrics is not None

    def consume() -> None:
        while len(taken) < logs - 2:  # one group stays queued, one log in the aggregator
            wait_until(lambda: metrics.rejected_adds > len(taken))
            group = queue.get(timeout=5)
            if group is not None:
                taken.append(group)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(logs):
        runner.add(Log(0, {"n": str(i)}))
    consumer.join(10)


def one_slot_runner() -> tuple[RunningAggregator, LogGroupQueue, EventBus]:
    """A started runner of one-log groups in front of a one-slot queue."""
    queue, events = LogGroupQueue(1), EventBus()
    runner = RunningAggregator(
        CountingAggregator(per_group=1),
        queue,
        Context("p"),
        name="agg",
        events=events,
        metrics=PipelineMetrics("p"),
    )
    runner.start()
    return runner, queue, events


def test_a_queue_at_its_edge_is_one_episode_until_it_stops(monkeypatch):
    monkeypatch.setattr("agent.runner.RECOVERED_AFTER_S", 60)
    runner, queue, events = one_slot_runner()
    edge_of_full(runner, queue, 31)
    assert len(events.history("queue_full")) == 1
    assert not events.history("queue_recovered") and runner.full_since
    assert queue.get(timeout=5) is not None  # the 30th group
    assert runner.stop()  # the final flush was taken: the episode is over
    (recovered,) = events.history("queue_recovered")
    assert recovered.data["rejected"] >= 29  # 29 refusals, one episode
    assert 0 <= recovered.data["duration"] < 60 and not runner.full_since


def test_an_episode_ends_once_the_queue_has_accepted_for_a_while(monkeypatch):
    monkeypatch.setattr("agent.runner.RECOVERED_AFTER_S", 0.05)
    runner, queue, events = one_slot_runner()
    edge_of_full(runner, queue, 3)  # the last add was taken; nothing is added after it
    wait_until(lambda: events.history("queue_recovered"))  # the timer ends the episode
    assert len(events.history("queue_full")) == 1 and not runner.full_since
    queue.get(timeout=5)
    assert runner.stop()
