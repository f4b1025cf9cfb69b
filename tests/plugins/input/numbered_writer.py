"""A log-writing application for the rotation tests: appends numbered lines to a file.

    python numbered_writer.py PATH [LINES_PER_WRITE] [MAX_LINES_PER_SEC]

Each write(2) holds whole lines (O_APPEND, so logrotate's copytruncate works, and a
SIGSTOP never leaves half a line). When PATH names another file than the one it writes
(logrotate's `create` renamed it away), it reopens PATH, like an application that reopens
its log on SIGHUP. On SIGTERM it stops and prints how many lines it wrote.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def main() -> None:
    path = sys.argv[1]
    per_write = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    max_rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    running = [True]

    def stop(signum: int, frame: object) -> None:
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    fd = os.open(path, flags, 0o644)
    mine = os.fstat(fd).st_ino
    n = 0
    started = time.monotonic()
    check = 0
    print("started", flush=True)
    while running[0]:
        os.write(fd, b"".join(b"%010d\n" % i for i in range(n, n + per_write)))
        n += per_write
        check += 1
        if check >= 16:
            check = 0
            try:
                now = os.stat(path).st_ino
            except FileNotFoundError:
                now = -1
            if now != mine:
                os.close(fd)
                fd = os.open(path, flags, 0o644)
                mine = os.fstat(fd).st_ino
            if max_rate:
                ahead = n / max_rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    os.close(fd)
    print(n, flush=True)


if __name__ == "__main__":
    main()
