"""Cycles holding Qt objects are collected in the GUI thread, never in an agent thread
(a QObject destroyed from another thread stops its timers there, and Qt can crash)."""

import gc
import threading
import weakref

from PySide6.QtCore import QObject, QTimer

from gui import collector


class _Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)  # what made CI crash: a timer destroyed off-thread
        self.timer.setInterval(60_000)
        self.timer.start()
        self.me = self  # a cycle: only the garbage collector frees it


def _allocate_in_a_thread() -> list[list[int]]:
    """What an agent thread does: make (and keep) more objects than a young collection
    waits for."""
    kept: list[list[int]] = []

    def work() -> None:
        kept.extend([i] for i in range(3 * collector.YOUNG_THRESHOLD))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return kept


def test_the_app_collects_in_the_gui_thread_only(qtbot, qapp):
    running = collector.active()
    assert running is not None and not gc.isenabled()
    died_in: list[str] = []
    obj = _Cyclic()
    weakref.finalize(obj, lambda: died_in.append(threading.current_thread().name))
    del obj

    kept = _allocate_in_a_thread()
    assert died_in == []  # an agent thread's allocations collect nothing

    qtbot.waitUntil(lambda: died_in != [], timeout=5_000)  # the timer's check
    assert died_in == [threading.main_thread().name]
    del kept


def test_check_collects_a_generation_past_its_threshold(qapp):
    running = collector.active()
    assert running is not None
    running.check()
    assert gc.get_count()[0] <= running.thresholds[0]
    keep = [[i] for i in range(running.thresholds[0] + 100)]
    assert gc.get_count()[0] > running.thresholds[0]
    running.check()
    assert gc.get_count()[0] < running.thresholds[0]
    del keep
