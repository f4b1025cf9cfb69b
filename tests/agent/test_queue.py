"""LogGroupQueue: bounded, add raises at once when full, add_with_wait waits."""

import threading
import time

import pytest

from agent.protocol import LogGroup
from agent.queue import LogGroupQueue, QueueClosedError, QueueFullError


def test_add_raises_at_once_when_full():
    q = LogGroupQueue(2)
    q.add(LogGroup())
    q.add(LogGroup())
    started = time.monotonic()
    with pytest.raises(QueueFullError):
        q.add(LogGroup())
    assert time.monotonic() - started < 0.5
    assert q.depth == 2 and q.rejected == 1


def test_add_with_wait_succeeds_when_a_slot_frees():
    q = LogGroupQueue(1)
    q.add(LogGroup(topic="first"))
    taken = []
    consumer = threading.Thread(target=lambda: taken.append(q.get(timeout=5)))
    consumer.start()
    q.add_with_wait(LogGroup(topic="second"), timeout=5)
    consumer.join()
    assert taken[0].topic == "first"
    assert q.get(timeout=1).topic == "second"


def test_add_with_wait_times_out_with_queue_full():
    q = LogGroupQueue(1)
    q.add(LogGroup())
    with pytest.raises(QueueFullError):
        q.add_with_wait(LogGroup(), timeout=0.05)


def test_get_keeps_fifo_order_and_close_drains():
    q = LogGroupQueue(3)
    for name in "abc":
        q.add(LogGroup(topic=name))
    q.close()
    with pytest.raises(QueueClosedError):
        q.add(LogGroup())
    assert [q.get(0).topic for _ in range(3)] == ["a", "b", "c"]
    assert q.get(0) is None


def test_wait_for_space_wakes_when_consumer_takes():
    q = LogGroupQueue(1)
    q.add(LogGroup())
    threading.Timer(0.05, q.get).start()
    assert q.wait_for_space(timeout=5)


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        LogGroupQueue(0)
