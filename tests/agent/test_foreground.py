"""Foreground sections: agent threads wait at pause points while one is open, boundedly."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from agent.foreground import SECTION_SWITCH_S, Foreground


def pause_in_thread(fg: Foreground) -> tuple[threading.Thread, list[float]]:
    returned: list[float] = []
    thread = threading.Thread(target=lambda: (fg.pause_point(), returned.append(time.monotonic())))
    thread.start()
    return thread, returned


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


def test_a_pause_point_outside_a_section_returns_at_once():
    fg = Foreground(max_pause=60)
    thread, returned = pause_in_thread(fg)
    thread.join(10)
    assert returned and fg.pauses == 0 and not fg.active


def test_a_pause_point_waits_until_the_section_closes():
    fg = Foreground(max_pause=60)
    with fg.section():
        assert fg.active
        thread, returned = pause_in_thread(fg)
        wait_for(lambda: fg.pauses == 1)  # it is waiting
        assert not returned
        closed = time.monotonic()
    thread.join(10)
    assert returned and returned[0] >= closed


def test_a_pause_is_bounded_even_if_the_section_never_closes():
    fg = Foreground(max_pause=0.05)
    with fg.section():
        thread, returned = pause_in_thread(fg)
        thread.join(10)
        assert returned  # it went on while the section was still open
        assert fg.active


def test_nested_sections_release_with_the_outermost():
    fg = Foreground(max_pause=60)
    with fg.section():
        with fg.section():
            pass
        assert fg.active
        thread, returned = pause_in_thread(fg)
        wait_for(lambda: fg.pauses == 1)
        assert not returned
    thread.join(10)
    assert returned and not fg.active


def test_a_section_hands_the_gil_over_quickly_and_restores_the_switch_interval():
    before = sys.getswitchinterval()
    fg = Foreground()
    with fg.section():
        assert sys.getswitchinterval() == pytest.approx(SECTION_SWITCH_S)
    assert sys.getswitchinterval() == before
