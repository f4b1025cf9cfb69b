"""Python's cyclic garbage collector, run in the GUI thread only.

CPython collects cycles in whichever thread crosses the allocation threshold; in the
window that is usually an agent thread. A Qt object caught in a cycle (a parentless
QObject whose slot refers back to it, a widget an editor let go) is then destroyed in
that thread: Qt stops its timers from the wrong thread and the process can crash later
in the GUI thread (a segfault CI hit in the GUI tests). So while the window runs,
automatic collection is off and a GUI-thread timer collects each generation once its
count passes the threshold — what automatic collection would have done, in the one
thread allowed to destroy Qt objects (the pattern calibre and pyqtgraph use).

Reference counting is untouched: only garbage in cycles waits for the timer, at most
one interval.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from agent.agent import GC_YOUNG_THRESHOLD

__all__ = ["GuiThreadCollector", "active"]

CHECK_MS = 100
# The window holds tens of thousands of GC-tracked objects (Qt wrappers, the live
# table's summaries) and makes a few per group; at CPython's default of 700 allocations
# a young collection ran every few ms and full ones every few seconds, traversing all
# of it under the GIL. At 10,000 the window's full-speed backfill ran ~10 % faster
# (benchmarks/gui_latency). `tailbox run` uses the same threshold (agent.tune_gc).
YOUNG_THRESHOLD = GC_YOUNG_THRESHOLD

_active: GuiThreadCollector | None = None


def active() -> GuiThreadCollector | None:
    """The running collector, if any."""
    return _active


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects from a timer in this (GUI) thread."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        _, older, oldest = gc.get_threshold()
        self.thresholds = (YOUNG_THRESHOLD, older, oldest)
        self._timer = QTimer(self)
        self._timer.setObjectName("tailbox-gc")
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        """For the life of the application: nothing stops it."""
        global _active
        gc.disable()
        self._timer.start()
        _active = self

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold (and younger)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return
