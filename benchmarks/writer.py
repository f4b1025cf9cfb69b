"""A log writer at a steady rate: each line starts with its write time (time.time_ns()).

`python -m benchmarks.writer --rate BYTES_PER_S --seconds S FILE...` appends ~120-byte
access-log lines, spreading each 20 ms tick's lines round-robin over the files (one
write per file per tick), and prints `{"lines": ..., "bytes": ..., "seconds": ...}`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from benchmarks.inputs import access_lines

__all__ = ["STAMP_DIGITS", "main"]

STAMP_DIGITS = 19  # time.time_ns() until the year 2286
TICK = 0.02


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, required=True, help="bytes per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    # Line = 19-digit stamp + " " + body + "\n": bodies cut to keep lines near 120 bytes.
    bodies = [b[: 120 - STAMP_DIGITS - 2] for b in access_lines(4096, seed=3)]
    line_len = sum(len(b) for b in bodies) / len(bodies) + STAMP_DIGITS + 2
    fds = [os.open(f, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for f in args.files]
    n_files = len(fds)
    lines = written = 0
    body_i = 0
    start = time.monotonic()
    end = start + args.seconds
    next_tick = start
    while True:
        # A late last tick still writes what was due up to the end, so the count written
        # does not depend on how loaded the machine was.
        now = min(time.monotonic(), end)
        due = int(((now - start) * args.rate - written) / line_len)
        if due > 0:
            stamp = b"%d " % time.time_ns()
            batch = []
            for _ in range(due):
                batch.append(stamp + bodies[body_i] + b"\n")
                body_i = (body_i + 1) % len(bodies)
            for j in range(min(n_files, due)):
                fd = fds[(lines + j) % n_files]
                data = b"".join(batch[j::n_files])
                os.write(fd, data)
                written += len(data)
            lines += due
        if now >= end:
            break
        next_tick += TICK
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - start
    for fd in fds:
        os.close(fd)
    json.dump({"lines": lines, "bytes": written, "seconds": elapsed}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
