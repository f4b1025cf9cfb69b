"""Measuring processes: pinned runs with rusage, /proc CPU, RSS, context switches; the machine."""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ROOT",
    "Run",
    "Sampler",
    "ctx_switches",
    "fresh_state",
    "isolate",
    "machine",
    "pinned",
    "proc_cpu",
    "proc_rss_kb",
    "run_pinned",
    "use_bytecode_cache",
]

ROOT = Path(__file__).resolve().parent.parent  # the repository: subprocesses run here
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Run:
    """One finished child: wall seconds, CPU seconds (user+sys), peak RSS, exit code."""

    wall: float
    cpu: float
    rss_kb: int
    returncode: int


def pinned(cmd: list[str], core: int) -> list[str]:
    """`cmd` run on one core (taskset execs, so the pid is the command's own)."""
    if shutil.which("taskset"):
        return ["taskset", "-c", str(core), *cmd]
    return cmd


def run_pinned(
    cmd: list[str],
    core: int = 0,
    stdout: Path | None = None,
    stderr: Path | None = None,
    timeout: float = 3600.0,
) -> Run:
    """Run `cmd` on `core` and wait for it, measuring with the child's own rusage.

    Peak RSS comes from polling /proc/PID/status VmHWM: `ru_maxrss` would also count
    this harness, whose memory the child shared between fork and exec.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL  # noqa: SIM115
    peak = 0
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(pinned(cmd, core), cwd=ROOT, stdout=out, stderr=err)
        deadline = started + timeout
        polls = 0
        while True:
            if polls % 10 == 0:
                with contextlib.suppress(OSError, KeyError, ValueError):
                    peak = max(peak, proc_rss_kb(proc.pid)[1])
            polls += 1
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.002)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for f in (out, err):
            if not isinstance(f, int):
                f.close()
    return Run(wall, usage.ru_utime + usage.ru_stime, peak, proc.returncode)


def isolate(scratch: Path) -> None:
    """Point Tailbox children at scratch folders for checkpoints and pipeline configs.

    Never the user's: a benchmark must not leave checkpoints behind, and a run must not
    resume from the previous run's (`--once` continues from checkpoints when it has them).
    """
    os.environ["TAILBOX_STATE_DIR"] = str(scratch / "state")
    os.environ["TAILBOX_CONFIG_DIR"] = str(scratch / "config")
    use_bytecode_cache(scratch)


def fresh_state() -> None:
    """Forget every checkpoint, so that the next Tailbox run reads its files from the start."""
    state = os.environ.get("TAILBOX_STATE_DIR")
    if state:
        shutil.rmtree(state, ignore_errors=True)


def use_bytecode_cache(scratch: Path) -> None:
    """Let child Pythons cache bytecode (as an installed Tailbox does) under `scratch`.

    With PYTHONDONTWRITEBYTECODE every start compiles every module again, which would
    add ~0.2 s to each run; PYTHONPYCACHEPREFIX keeps the .pyc files out of the checkout.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads, exited ones included) of a live process."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _status(pid: int | str, task: str = "") -> dict[str, str]:
    path = f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status"
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def proc_rss_kb(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in KiB."""
    st = _status(pid)
    return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def ctx_switches(pid: int) -> int:
    """Voluntary + involuntary context switches summed over the process's live threads."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            st = _status(pid, task)
        except OSError:
            continue  # the thread just ended
        total += int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
    return total


class Sampler:
    """Samples a process's RSS every `interval` seconds on a thread; keeps the maximum."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.max_rss_kb = 0
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            try:
                rss, peak = proc_rss_kb(self.pid)
            except (OSError, KeyError):
                return
            self.max_rss_kb = max(self.max_rss_kb, rss)
            self.peak_kb = max(self.peak_kb, peak)
            if self._stop.wait(self.interval):
                return


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "?"
    return out.stdout.strip() + (" + local changes" if dirty.stdout.strip() else "")


def machine(rsyslog_version: str = "") -> dict[str, str]:
    """What the numbers were measured on."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": os_name,
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "tailbox": _git_commit(),
    }
    if rsyslog_version:
        info["rsyslog"] = rsyslog_version
    return info
