"""Run an input plugin on a thread for the length of a `with` block, as a pipeline does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["running", "wait_until"]


@contextmanager
def running(
    plugin: Any,
    collector: Any,
    name: str,
    deadline: float = 20.0,
    after_stop: Callable[[], None] | None = None,
) -> Iterator[None]:
    """`plugin.run(collector, stop, once=False)` on its own thread; at the end of the
    block: stop, wait for run() to return, call `after_stop` (e.g. close the checkpoint
    store, as a pipeline's stop does), then fail the test if run() hung or raised."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            plugin.run(collector, stop, False)
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=target, name=name)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(deadline)
        if after_stop is not None:
            after_stop()
    assert not thread.is_alive(), "run() did not return after stop"
    assert not errors, errors


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll a condition the test cannot be notified of (metrics, open handles, files)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
