"""Events a user should see (queue_full, queue_recovered, warnings, errors), fanned out.

Publishers run on agent threads; subscribers must be quick and thread-safe (the GUI's
bridge appends to its own deque and drains it on a timer). A bounded history keeps
the latest events for late subscribers.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event", "EventBus"]

_log = logging.getLogger("tailbox.events")


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # queue_full, queue_recovered, warning, error, ...
    pipeline: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)
    seq: int = 0

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.data.items())
        return f"{self.kind} [{self.pipeline}] {details}"


class EventBus:
    def __init__(self, history: int = 1000) -> None:
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call `callback` for every later event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, kind: str, pipeline: str, **data: Any) -> Event:
        event = Event(kind, pipeline, data, seq=next(self._seq))
        with self._lock:
            self._history.append(event)
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                _log.exception("event subscriber failed on %s", event.kind)
        return event

    def history(self, kind: str | None = None) -> list[Event]:
        with self._lock:
            return [e for e in self._history if kind is None or e.kind == kind]
