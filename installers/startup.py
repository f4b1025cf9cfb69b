"""Time from starting `tailbox` to its window being visible, on a private Xvfb display.

    python installers/startup.py [EXECUTABLE] [--runs N]

EXECUTABLE defaults to dist/tailbox/tailbox; needs `Xvfb` and libX11 (Linux). Each run
gets a fresh X server and its own empty config and state folders holding one tiny
pipeline, so nothing of the user's is read or written. The window counts as visible
once X reports a top-level window viewable (mapped); the display is watched over one
Xlib connection, because a poller that connects anew each time (xdotool in a loop)
made about one Qt start in five fail to connect to Xvfb here. Besides wall time it
reports the CPU time the process had used by then, which other load on the machine
does not inflate.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECS = 30.0
POLL_SECS = 0.005
_IS_VIEWABLE = 2  # XWindowAttributes.map_state


class _WindowAttributes(ctypes.Structure):
    _fields_ = [  # Xlib's XWindowAttributes, in order
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


class _Display:
    """One Xlib connection, asking whether any top-level window is viewable."""

    def __init__(self, name: str) -> None:
        path = ctypes.util.find_library("X11")
        if path is None:
            raise SystemExit("libX11 is missing: apt-get install libx11-6")
        self.x = ctypes.CDLL(path)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, *[ctypes.c_void_p] * 4]
        self.x.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
        self.x.XFree.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.name = name
        self.handle = self.x.XOpenDisplay(name.encode())
        if not self.handle:
            raise ConnectionError(name)
        self.root = self.x.XDefaultRootWindow(self.handle)

    def any_window_viewable(self) -> bool:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        args = (ctypes.byref(root), ctypes.byref(parent), ctypes.byref(children))
        if not self.x.XQueryTree(self.handle, self.root, *args, ctypes.byref(count)):
            return False
        try:
            attributes = _WindowAttributes()
            for i in range(count.value):
                if (
                    self.x.XGetWindowAttributes(self.handle, children[i], ctypes.byref(attributes))
                    and attributes.map_state == _IS_VIEWABLE
                ):
                    return True
            return False
        finally:
            if children:
                self.x.XFree(children)

    def close(self) -> None:
        self.x.XCloseDisplay(self.handle)


@contextmanager
def private_display() -> Iterator[_Display]:
    if not shutil.which("Xvfb"):
        raise SystemExit("Xvfb is missing: apt-get install xvfb xauth")
    # -displayfd: Xvfb picks a free display and writes its number once it is listening.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()
        if not number:
            raise SystemExit("Xvfb did not start")
        display = _Display(f":{number}")
        try:
            yield display
        finally:
            display.close()
    finally:
        server.terminate()
        server.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_window(executable: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from starting `executable` to its window being visible."""
    with (
        tempfile.TemporaryDirectory(prefix="tailbox-startup-") as tmp,
        private_display() as display,
    ):
        root = Path(tmp)
        (root / "config" / "pipelines").mkdir(parents=True)
        (root / "app.log").write_text("one line\n", encoding="utf-8")
        (root / "config" / "pipelines" / "startup.yml").write_text(
            f'inputs: [{{Type: input_file, FilePaths: ["{root / "app.log"}"]}}]\n'
            f'flushers: [{{Type: flusher_file, FilePath: "{root / "out.jsonl"}"}}]\n',
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "DISPLAY": display.name,
            "TAILBOX_CONFIG_DIR": str(root / "config"),
            "TAILBOX_STATE_DIR": str(root / "state"),
        }
        for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
            env.pop(name, None)
        stderr = root / "stderr.txt"
        with stderr.open("w", encoding="utf-8") as err:
            started = time.monotonic()
            app = subprocess.Popen([str(executable)], env=env, stderr=err)
            try:
                while not display.any_window_viewable():
                    if app.poll() is not None:
                        raise SystemExit(f"{executable} exited {app.returncode}")
                    if time.monotonic() - started > TIMEOUT_SECS:
                        raise SystemExit(f"no window within {TIMEOUT_SECS:.0f} s")
                    time.sleep(POLL_SECS)
                elapsed = time.monotonic() - started
                cpu = _cpu_seconds(app.pid)
            finally:
                app.terminate()
                app.wait(timeout=30)
                text = stderr.read_text(encoding="utf-8").strip()
                if text:
                    print(f"stderr of {executable}:\n{text}", file=sys.stderr)
        return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "executable", nargs="?", type=Path, default=ROOT / "dist" / "tailbox" / "tailbox"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = [time_to_window(args.executable) for _ in range(args.runs)]
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(
        f"{args.executable}: window visible after "
        + ", ".join(f"{t:.2f}" for t in wall)
        + f" s (first {wall[0]:.2f} s, median {statistics.median(wall):.2f} s, "
        f"best {min(wall):.2f} s); CPU time used by then: median "
        f"{statistics.median(cpu):.2f} s, best {min(cpu):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
