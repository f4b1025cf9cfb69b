"""Event-loop latency of the window while the agent ingests at full speed, vs headless.

    python -m benchmarks.gui_latency [--mb 400] [--runs 9]

Writes a generated access log (~124-byte lines), then in fresh processes:
- headless: `Agent.run_once` reads it all through aggregator_default into flusher_file
  (/dev/null): the throughput baseline;
- gui: the same pipeline under the real bridge and MainWindow (offscreen), while a
  10 ms QTimer measures how late the GUI event loop runs it (p50/p99/max lateness).
Headless and window runs alternate, so each pair shares the machine's state, and every
other pair starts with the window (ABBA order); the throughput ratio is the median of the
pairs' ratios. Single pairs spread ±15 % on a shared 2-core machine, so 9 pairs.
`main()` returns the medians as a dict (benchmarks.run tabulates it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE_MS = 10


def make_log(path: Path, megabytes: int) -> int:
    """An Apache access log of about `megabytes` MB; the number of lines."""
    rng = random.Random(7)
    paths = ["/", "/index.html", "/api/v1/items", "/static/app.js", "/login", "/img/logo.png"]
    lines = [
        f"10.0.{rng.randrange(256)}.{rng.randrange(256)} - - [28/Nov/2026:04:{i % 60:02d}:"
        f'{i % 60:02d} +0000] "GET {rng.choice(paths)} HTTP/1.1" '
        f"{rng.choice((200, 200, 304, 404))} {rng.randrange(100, 90000)}\n"
        for i in range(10_000)
    ]
    block = "".join(lines).encode()
    count = 0
    with open(path, "wb") as f:
        while f.tell() < megabytes * 1_000_000:
            f.write(block)
            count += len(lines)
    return count


def _config(log: Path):  # type: ignore[no-untyped-def]
    from agent.config import parse_config

    return parse_config(
        f"""
global: {{AggregatIntervalMs: 1000, StopTimeoutSecs: 600}}
inputs: [{{Type: input_file, FilePaths: ["{log}"]}}]
aggregators: [{{Type: aggregator_default}}]
flushers: [{{Type: flusher_file, FilePath: "{os.devnull}"}}]
""",
        "bench.yml",
        "bench",
    )


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_headless(log: Path) -> dict[str, float]:
    from agent.agent import Agent, tune_gc

    tune_gc()  # as `tailbox run` does (the window's collector uses the same threshold)
    agent = Agent()
    started = time.perf_counter()
    agent.run_once([_config(log)])
    return {"seconds": time.perf_counter() - started, "rss_mb": _peak_rss_mb()}


def run_gui(log: Path) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer

    from gui.app import create_app, settings
    from gui.bridge import AgentBridge
    from gui.windows.main_window import MainWindow

    app = create_app()
    bridge = AgentBridge()
    window = MainWindow(bridge, [], settings())
    window.show()
    ticks = [0]
    bridge.ticked.connect(lambda _: ticks.__setitem__(0, ticks[0] + 1))
    bridge.start([])
    lateness: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(PROBE_MS)

    def on_probe() -> None:
        lateness.append(clock.nsecsElapsed() / 1e6 - PROBE_MS)
        clock.restart()

    probe.timeout.connect(on_probe)
    result: dict[str, float] = {}

    def ingest() -> None:
        started = time.perf_counter()
        bridge.agent.run_once([_config(log)])
        result["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=ingest, name="bench-ingest")
    done = QTimer()
    done.setInterval(50)
    done.timeout.connect(lambda: worker.is_alive() or app.quit())
    clock.start()
    probe.start()
    done.start()
    worker.start()
    app.exec()  # the real event loop, as the window runs it
    probe.stop()
    bridge.drain()
    app.processEvents()
    lateness.sort()
    quantiles = statistics.quantiles(lateness, n=100, method="inclusive")
    result.update(
        p50_ms=statistics.median(lateness),
        p99_ms=quantiles[98],
        max_ms=lateness[-1],
        ticks=ticks[0],
        groups_shown=window.live.model.rowCount(),
        not_kept=window.live.model.not_kept,
        rss_mb=_peak_rss_mb(),
    )
    bridge.close()
    return result


def main() -> dict[str, str]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=400, help="size of the generated log")
    parser.add_argument("--runs", type=int, default=9, help="pairs of runs")
    parser.add_argument("--child", choices=("headless", "gui"), help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            # Fresh checkpoints each run: the same generated file would look read already.
            os.environ["TAILBOX_CONFIG_DIR"] = os.path.join(tmp, "config")
            os.environ["TAILBOX_STATE_DIR"] = os.path.join(tmp, "state")
            run = run_headless if args.child == "headless" else run_gui
            print(json.dumps(run(args.log)))
        return {}

    with tempfile.TemporaryDirectory(prefix="tailbox-bench-") as tmp:
        log = Path(tmp) / "access.log"
        lines = make_log(log, args.mb)
        size_mb = log.stat().st_size / 1e6
        print(f"input: {size_mb:.0f} MB, {lines:,} lines; {args.runs} pair(s) of runs, medians")
        results: dict[str, list[dict[str, float]]] = {"headless": [], "gui": []}
        for i in range(args.runs):
            # Every other pair starts with the window (ABBA), so that the machine's speed
            # drifting over the minute weighs on both sides alike.
            for mode in ("headless", "gui") if i % 2 == 0 else ("gui", "headless"):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.gui_latency",
                        "--child",
                        mode,
                        "--log",
                        str(log),
                    ],
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary: dict[str, str] = {}
    ratios = [
        h["seconds"] / g["seconds"]
        for h, g in zip(results["headless"], results["gui"], strict=True)
    ]
    summary["gui / headless"] = (
        f"{statistics.median(ratios):.1%} (median of {len(ratios)} pairs; "
        f"{min(ratios):.0%} to {max(ratios):.0%})"
    )
    for mode, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        summary[f"{mode} throughput"] = (
            f"{size_mb / med['seconds']:.1f} MB/s ({lines / med['seconds'] / 1e6:.2f} M lines/s)"
        )
        summary[f"{mode} peak RSS"] = f"{med['rss_mb']:.0f} MiB"
        if mode == "gui":
            summary["event-loop lateness"] = (
                f"p50 {med['p50_ms']:.1f} ms, p99 {med['p99_ms']:.1f} ms, "
                f"max {med['max_ms']:.1f} ms"
            )
            summary["ticks / groups shown / not kept"] = (
                f"{med['ticks']:.0f} / {med['groups_shown']:.0f} / {med['not_kept']:.0f}"
            )
    for key, value in summary.items():
        print(f"{key:34s} {value}")
    return summary


if __name__ == "__main__":
    main()
