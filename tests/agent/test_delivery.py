"""Delivery: one lane per flusher, retries with backoff, acknowledgement after all flushers."""

import threading
import time

import pytest

from agent import delivery
from agent.events import EventBus
from agent.metrics import PipelineMetrics
from agent.plugin import DeliveryRejected
from agent.protocol import Log, LogGroup
from agent.queue import LogGroupQueue


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class ListFlusher:
    def __init__(self, fail_first=0, gate=None, reject=False):
        self.groups = []
        self.fail_first = fail_first
        self.gate = gate
        self.reject = reject
        self.calls = 0
        self.stopped = False

    def flush(self, groups):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait()
        if self.reject:
            raise DeliveryRejected("400 bad request")
        if self.calls <= self.fail_first:
            raise ConnectionError("receiver down")
        self.groups.extend(groups)

    def stop(self):
        self.stopped = True


def group(n):
    g = LogGroup(logs=[Log(0, {"n": str(n)})])
    return g


def test_every_flusher_gets_every_group_and_ack_follows_the_last(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST", 0.01)
    queue = LogGroupQueue(100)
    fast, flaky = ListFlusher(), ListFlusher(fail_first=3)
    acked = []
    d = delivery.Delivery(
        queue, [("fast", fast), ("flaky", flaky)], "p", EventBus(), PipelineMetrics("p")
    )
    d.start()
    for i in range(20):
        g = group(i)
        g.acks.append(lambda i=i: acked.append((i, len(flaky.groups) > 0)))
        queue.add(g)
    queue.close()
    assert d.stop(timeout=10)
    assert len(fast.groups) == len(flaky.groups) == 20
    assert sorted(i for i, _ in acked) == list(range(20))
    assert all(flaky_had_it for _, flaky_had_it in acked)
    assert fast.stopped and flaky.stopped


def test_a_stuck_flusher_does_not_stop_the_others_until_its_backlog_fills():
    queue = LogGroupQueue(4)
    gate = threading.Event()
    stuck, healthy = ListFlusher(gate=gate), ListFlusher()
    metrics = PipelineMetrics("p")
    d = delivery.Delivery(queue, [("stuck", stuck), ("healthy", healthy)], "p", EventBus(), metrics)
    d.start()
    for i in range(6):
        queue.add_with_wait(group(i), timeout=5)
    wait_until(lambda: len(healthy.groups) == 6)
    assert stuck.groups == [] and d.slowest() == "stuck"
    assert metrics.groups == 0  # nothing acknowledged while one flusher has not delivered
    gate.set()
    queue.close()
    assert d.stop(timeout=10)
    assert len(stuck.groups) == 6 and metrics.groups == 6


def test_failures_raise_one_event_per_episode_and_recovery_is_announced(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST", 0.001)
    queue = LogGroupQueue(4)
    events = EventBus()
    flaky = ListFlusher(fail_first=5)
    d = delivery.Delivery(queue, [("flaky", flaky)], "p", events, PipelineMetrics("p"))
    d.start()
    queue.add(group(1))
    queue.close()
    assert d.stop(timeout=10)
    assert len(events.history("flusher_error")) == 1
    assert len(events.history("flusher_recovered")) == 1


def test_permanent_rejection_is_counted_not_retried():
    queue = LogGroupQueue(4)
    metrics = PipelineMetrics("p")
    rejecting = ListFlusher(reject=True)
    d = delivery.Delivery(queue, [("r", rejecting)], "p", EventBus(), metrics)
    d.start()
    queue.add(group(1))
    queue.close()
    assert d.stop(timeout=10)
    assert rejecting.calls == 1 and metrics.dropped == 1 and metrics.errors == 1


def test_shutdown_deadline_gives_up_without_acknowledging(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST", 0.01)
    queue = LogGroupQueue(4)
    down = ListFlusher(fail_first=10**9)
    acked = []
    d = delivery.Delivery(queue, [("down", down)], "p", EventBus(), PipelineMetrics("p"))
    d.start()
    g = group(1)
    g.acks.append(lambda: acked.append(1))
    queue.add(g)
    queue.close()
    assert not d.stop(timeout=0.3)
    assert acked == [] and d.undelivered == 1


def test_retry_now_cuts_a_long_backoff_short(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST", 3600.0)  # without retry_now: an hour
    queue = LogGroupQueue(4)
    flaky = ListFlusher(fail_first=1)
    d = delivery.Delivery(queue, [("flaky", flaky)], "p", EventBus(), PipelineMetrics("p"))
    d.start()
    queue.add(group(1))
    wait_until(lambda: flaky.calls == 1)
    [lane] = d.lanes
    assert lane.retry_now()
    wait_until(lambda: len(flaky.groups) == 1)
    queue.close()
    assert d.stop(timeout=10)


class WaitAsking(Exception):
    def __init__(self, retry_after):
        super().__init__("busy")
        self.retry_after = retry_after


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "soon", None, -5])
def test_a_bad_retry_after_neither_kills_the_lane_nor_stalls_it(monkeypatch, value):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST", 0.01)
    queue = LogGroupQueue(4)
    flusher = ListFlusher()
    real_flush = flusher.flush

    def flush(groups):
        if flusher.calls == 0:
            flusher.calls += 1
            raise WaitAsking(value)
        real_flush(groups)

    flusher.flush = flush
    d = delivery.Delivery(queue, [("f", flusher)], "p", EventBus(), PipelineMetrics("p"))
    d.start()
    queue.add(group(1))
    wait_until(lambda: len(flusher.groups) == 1)  # retried after the short backoff
    queue.close()
    assert d.stop(timeout=10)


def test_retry_after_is_waited_out_and_capped(monkeypatch):
    assert delivery._retry_after(WaitAsking(2.5)) == 2.5
    assert delivery._retry_after(WaitAsking(10**9)) == delivery.RETRY_AFTER_MAX
    assert delivery._retry_after(ValueError("no attribute")) == 0.0


MiB = 1024 * 1024


def sized(n, nbytes):
    g = group(n)
    g.nbytes = nbytes
    return g


def _stuck_lane(first):
    """A lane whose flusher is stuck delivering `first`; the groups it finished go to `done`."""
    done = []
    gate = threading.Event()
    flusher = ListFlusher(gate=gate)
    lane = delivery.FlusherLane(
        flusher, "slow", "p", lambda p, ok: done.append(p.group), None, None
    )
    lane.start()
    assert lane.offer(delivery._Pending(first, 1), 0.05)
    wait_until(lambda: flusher.calls == 1)
    return lane, flusher, gate, done


def _offer_until_refused(lane, groups):
    accepted = 0
    for g in groups:
        if not lane.offer(delivery._Pending(g, 1), 0.05):
            break
        accepted += 1
    return accepted


def _finish(lane, gate, done, count):
    gate.set()
    wait_until(lambda: len(done) == count)
    lane.close()
    lane.join(5)


def test_a_lane_holds_big_groups_up_to_its_byte_budget_waiting_and_in_delivery():
    lane, flusher, gate, done = _stuck_lane(sized(0, MiB))
    try:
        # 1 MiB groups behind a stuck flush: one in delivery and three waiting (4 MiB in
        # all) are held, not the eight more the backlog's count allows.
        accepted = _offer_until_refused(lane, [sized(i, MiB) for i in range(1, 20)])
        assert 1 + accepted == delivery.LANE_BACKLOG_BYTES // MiB == 4
    finally:
        _finish(lane, gate, done, 4)
    assert [g.logs[0].contents["n"] for g in flusher.groups] == ["0", "1", "2", "3"]


@pytest.mark.parametrize("nbytes", [1024, -1])
def test_small_or_unsized_groups_are_held_by_count_as_before(nbytes):
    lane, _, gate, done = _stuck_lane(sized(0, nbytes))
    try:
        accepted = _offer_until_refused(lane, [sized(i, nbytes) for i in range(1, 30)])
        assert accepted == delivery.LANE_BACKLOG
    finally:
        _finish(lane, gate, done, 1 + delivery.LANE_BACKLOG)


def test_a_group_bigger_than_the_budget_still_moves_one_at_a_time():
    big = [sized(i, 10 * delivery.LANE_BACKLOG_BYTES) for i in range(3)]
    lane, _, gate, done = _stuck_lane(big[0])
    assert lane.offer(delivery._Pending(big[1], 1), 0.05)  # the backlog was empty
    assert not lane.offer(delivery._Pending(big[2], 1), 0.05)  # now it holds one
    gate.set()
    pending = delivery._Pending(big[2], 1)
    wait_until(lambda: lane.offer(pending, 0.05))  # room once one is delivered
    _finish(lane, gate, done, 3)
