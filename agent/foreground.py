"""Foreground sections: a window's short bursts of Python run without queueing for the GIL.

CPython hands the GIL to a waiting thread only after the holder has run for the switch
interval (5 ms). A Qt window's GUI thread calls into Python, and Python into Qt, many
times in one tick; under full-speed ingest each of those hand-overs queued behind the
agent's busy threads, and one tick or one paint of a Python-backed table stalled the
window 100-170 ms (py-spy: the GUI thread parked in `Shiboken::GilState::acquire`).
A shorter switch interval alone did not help.

So the GUI marks what must be prompt as a foreground section (a tick's update, writing
the cells of the rows in view, the paint of a table backed by Python). While one is
open the switch interval is short and the agent's threads stop at their next pause
point — between chunks, between groups, never holding a lock — so the section finds
the GIL free. A pause is bounded by MAX_PAUSE_S, so a stuck or endless section slows
the agent but never stops it; outside a section `pause_point` is one Event check.

`agent/` stays Qt-free: the GUI opens sections; the agent only offers pause points.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MAX_PAUSE_S", "Foreground", "foreground"]

MAX_PAUSE_S = 0.25
SECTION_SWITCH_S = 0.0002


class Foreground:
    def __init__(self, max_pause: float = MAX_PAUSE_S) -> None:
        self.max_pause = max_pause
        self._clear = threading.Event()
        self._clear.set()
        self._lock = threading.Lock()
        self._open = 0  # nested or concurrent sections
        self._interval = sys.getswitchinterval()
        self.pauses = 0  # pause points that had to wait (for tests and benchmarks)

    @property
    def active(self) -> bool:
        return not self._clear.is_set()

    @contextmanager
    def section(self) -> Iterator[None]:
        """While open, agent threads wait at their next pause point (at most MAX_PAUSE_S)."""
        with self._lock:
            self._open += 1
            if self._open == 1:
                self._clear.clear()
                self._interval = sys.getswitchinterval()
                sys.setswitchinterval(SECTION_SWITCH_S)
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1
                if not self._open:
                    sys.setswitchinterval(self._interval)
                    self._clear.set()

    def pause_point(self) -> None:
        """Called by agent threads where they hold nothing: waits out an open section."""
        if self._clear.is_set():
            return
        self.pauses += 1
        self._clear.wait(self.max_pause)


foreground = Foreground()
