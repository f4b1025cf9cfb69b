"""Profile a `tailbox run --once` case with py-spy and print its hotspots as Markdown.

    python -m benchmarks.profile [--input access|json] [--regex] [--flusher file|blackhole]
    python -m benchmarks.profile --tail-files 1000 [--tail-mbps 1] [--seconds 20]

Samples only the thread holding the GIL (`--gil`), so the percentages are shares of
the CPU time the interpreter spent, attributed to the innermost Python line and to
the enclosing functions. Needs `py-spy` (pip install py-spy) and the inputs that
`python -m benchmarks.run` generates.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.agent_once import merged_plugins_yml
from benchmarks.inputs import access_lines, ensure_file, json_lines
from benchmarks.procs import ROOT, fresh_state, isolate, pinned
from benchmarks.run import (
    FLUSH_MS,
    MB,
    Settings,
    pipeline,
    regex_processor,
    tailbox_running,
    write_config,
)

__all__ = ["hotspots", "main"]

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(path: str) -> str:
    root = str(ROOT) + "/"
    if path.startswith(root):
        return path[len(root) :]
    for marker in ("site-packages/", "lib/python3"):
        i = path.find(marker)
        if i >= 0:
            return path[i:].removeprefix("site-packages/")
    return path


def hotspots(raw: Path, top: int) -> str:
    """Markdown tables from py-spy's raw (collapsed) output."""
    self_line: collections.Counter[str] = collections.Counter()
    self_func: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    total = 0
    for text in raw.read_text().splitlines():
        stack, _, count_text = text.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if frames and frames[0].startswith("thread ("):
            frames = frames[1:]
        parsed = []
        for frame in frames:
            m = _FRAME.match(frame)
            if m:
                parsed.append((m["func"], _short(m["file"]), m["line"] or ""))
            else:
                parsed.append((frame, "", ""))
        if not parsed:
            continue
        # The thread by its entry point: the first frame below threading's machinery.
        entry = next(
            (f"{fn} ({file})" for fn, file, _ in parsed if "threading.py" not in file),
            "?",
        )
        by_thread[entry] += count
        fn, file, line = parsed[-1]
        self_line[f"`{fn}` {file}:{line}"] += count
        self_func[f"`{fn}` {file}"] += count
        for name in {f"`{fn}` {file}" for fn, file, _ in parsed}:
            inclusive[name] += count

    def rows(counter: collections.Counter[str]) -> list[str]:
        return [f"| {100 * n / total:5.1f} % | {name} |" for name, n in counter.most_common(top)]

    out = [f"{total} samples (GIL holder only).", ""]
    out += ["Self time by line:", "", "| self | where |", "|---:|---|", *rows(self_line), ""]
    out += ["Self time by function:", "", "| self | function |", "|---:|---|"]
    out += [*rows(self_func), ""]
    out += ["Inclusive time (function and its callees):", "", "| total | function |"]
    out += ["|---:|---|", *rows(inclusive), ""]
    out += ["By thread (entry point):", "", "| share | thread |", "|---:|---|"]
    out += [*rows(by_thread)]
    return "\n".join(out)


def profile_tail(
    spy: str, spy_args: list[str], scratch: Path, n: int, mbps: float, seconds: float
) -> None:
    """Sample `tailbox run` (pinned to core 0) while a writer appends to `n` files."""
    base = scratch / "profile-tail"
    shutil.rmtree(base, ignore_errors=True)
    files = [base / "in" / f"app-{i:04d}.log" for i in range(n)]
    files[0].parent.mkdir(parents=True)
    for f in files:
        f.write_bytes(b"")
    pattern = str(files[0]) if n == 1 else str(files[0].parent / "*.log")
    out = base / "out.jsonl"
    conf = write_config(
        base / "profile-tail.yml",
        pipeline([pattern], {"Type": "flusher_file", "FilePath": str(out)}),
    )
    settings = Settings(base, 0, 1, seconds, 0, 0, False)
    with tailbox_running(settings, conf) as pid:
        time.sleep(2)
        rate = ["--rate", str(mbps * MB), "--seconds", str(seconds + 4)]
        writer = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.writer", *rate, *map(str, files)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(2)
        cmd = [spy, *spy_args, "--pid", str(pid), "--duration", str(int(seconds))]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        writer.wait()
    print(
        f"### Profile: `tailbox run` tailing {n:,} file(s) at {mbps:g} MB/s, "
        f"{seconds:g} s (aggregator_default → flusher_file)\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", choices=("access", "json"), default="access")
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--flusher", choices=("file", "blackhole"), default="file")
    parser.add_argument("--regex", action="store_true", help="add processor_regex (access)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/tailbox-bench"))
    parser.add_argument(
        "--tail-files",
        type=int,
        default=0,
        help="instead of --once: profile `tailbox run` tailing this many files that a "
        "writer appends to round-robin",
    )
    parser.add_argument("--tail-mbps", type=float, default=1.0, help="the writer's rate")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to sample")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        parser.error("py-spy is not installed: pip install py-spy")
    scratch = args.scratch.resolve()
    isolate(scratch)
    fresh_state()
    raw = scratch / "profile.txt"
    spy_args = ["record", "--format", "raw", "-o", str(raw), "--rate", str(args.rate)]
    spy_args += ["--threads", "--gil"]
    if args.tail_files:
        profile_tail(spy, spy_args, scratch, args.tail_files, args.tail_mbps, args.seconds)
        print(hotspots(raw, args.top))
        return 0
    src = scratch / "inputs" / f"{args.input}-{args.size_mb}MB.log"
    ensure_file(src, args.size_mb * MB, access_lines if args.input == "access" else json_lines)
    out = scratch / "out" / "profile.jsonl"
    out.unlink(missing_ok=True)
    if args.flusher == "file":
        flusher = {"Type": "flusher_file", "FilePath": str(out)}
    else:
        flusher = {"Type": "flusher_blackhole"}
    procs = [regex_processor()] if args.regex else []
    conf = write_config(
        scratch / "conf" / "profile.yml", pipeline([str(src)], flusher, procs or None)
    )
    if args.flusher == "file":
        cmd = [sys.executable, "-m", "agent.cli", "run", "--once", "-q", "-c", str(conf)]
    else:
        plugins = merged_plugins_yml(scratch / "plugins.yml")
        cmd = [sys.executable, "-m", "benchmarks.agent_once", "--once", "--plugins", str(plugins)]
        cmd += ["-c", str(conf)]
    spy_cmd = [spy, *spy_args, "--", *pinned(cmd, 0)]
    # py-spy follows the pid it starts; taskset execs, so that is Tailbox's.
    subprocess.run(spy_cmd, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    out.unlink(missing_ok=True)
    print(
        f"### Profile: {args.input} {args.size_mb} MB, "
        f"{'processor_regex → ' if args.regex else ''}aggregator_default → "
        f"flusher_{args.flusher} (`--once`, AggregatIntervalMs {FLUSH_MS})\n"
    )
    print(hotspots(raw, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
