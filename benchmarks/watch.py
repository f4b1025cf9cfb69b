"""Follows an output file and measures each stamped line's delay from write to arrival."""

from __future__ import annotations

import re
import threading
import time
from array import array
from pathlib import Path

__all__ = ["JSONL_STAMP", "RAW_STAMP", "OutputWatcher", "percentile"]

# Tailbox's flusher_file: one JSON object per group, each log's content starts with the stamp.
JSONL_STAMP = re.compile(rb'"content":"(\d{19}) ')
# rsyslog's omfile with the "%msg%\n" template: the line itself.
RAW_STAMP = re.compile(rb"(?m)^(\d{19}) ")
WARMUP = re.compile(rb"tailbox-bench-warmup")


def percentile(sorted_values: array | list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return float(sorted_values[i])


class OutputWatcher:
    """Polls `path` every `interval` seconds on a thread.

    Delays are in microseconds: the poll's time minus the stamp, so they include up to
    one `interval` of polling lag. Lines count only when their whole record (the text
    up to a newline) has arrived.
    """

    def __init__(self, path: Path, stamp: re.Pattern[bytes], interval: float = 0.01) -> None:
        self.path = path
        self.stamp = stamp
        self.interval = interval
        self.delays_us = array("q")
        self.warmups = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-watch")

    @property
    def lines(self) -> int:
        return len(self.delays_us)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wait_for(self, predicate: object, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():  # type: ignore[operator]
                return True
            time.sleep(0.05)
        return bool(predicate())  # type: ignore[operator]

    def _run(self) -> None:
        f = None
        rest = b""
        while not self._stop.is_set():
            if f is None:
                try:
                    f = open(self.path, "rb")  # noqa: SIM115 - closed below
                except FileNotFoundError:
                    self._stop.wait(self.interval)
                    continue
            data = f.read()
            if data:
                now_us = time.time_ns() // 1000
                data = rest + data
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                complete = data[:cut]
                stamps = self.stamp.findall(complete)
                self.delays_us.extend(now_us - int(s) // 1000 for s in stamps)
                self.warmups += len(WARMUP.findall(complete))
            else:
                self._stop.wait(self.interval)
        if f is not None:
            f.close()

    def summary(self) -> dict[str, float]:
        """p50 / p99 / max delay in milliseconds and the line count."""
        values = sorted(self.delays_us)
        return {
            "lines": len(values),
            "p50_ms": percentile(values, 50) / 1000,
            "p99_ms": percentile(values, 99) / 1000,
            "max_ms": (values[-1] / 1000) if values else float("nan"),
        }
