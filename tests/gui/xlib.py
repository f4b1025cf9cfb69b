"""Just enough Xlib (through ctypes) for the real-tray test: find the tray host's window,
tell which windows a process owns, send real input through XTEST, and close a window
the way a window manager does (WM_DELETE_WINDOW).

libX11 comes with every X client (trayer needs it); XTEST is in `libxtst6`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["TRAY_SELECTION", "Window", "XDisplay", "xtest_available"]

TRAY_SELECTION = "_NET_SYSTEM_TRAY_S0"  # the XEmbed system-tray manager of screen 0

_c_long_p = ctypes.POINTER(ctypes.c_long)
_Window = ctypes.c_ulong


def _load(name: str, soname: str) -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or soname)
    except OSError:
        return None


class _XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", _Window),
        ("c_class", ctypes.c_int),
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


class _XClassHint(ctypes.Structure):
    _fields_ = [("res_name", ctypes.c_void_p), ("res_class", ctypes.c_void_p)]


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", _Window),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


_CLIENT_MESSAGE = 33
_IS_VIEWABLE = 2

_x11 = _load("X11", "libX11.so.6")
_xtst = _load("Xtst", "libXtst.so.6")
if _x11 is not None:
    _x11.XOpenDisplay.restype = ctypes.c_void_p
    _x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    _x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    _x11.XDefaultRootWindow.restype = _Window
    _x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    _x11.XInternAtom.restype = ctypes.c_ulong
    _x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    _x11.XGetSelectionOwner.restype = _Window
    _x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    _x11.XQueryTree.argtypes = [
        ctypes.c_void_p,
        _Window,
        ctypes.POINTER(_Window),
        ctypes.POINTER(_Window),
        ctypes.POINTER(ctypes.POINTER(_Window)),
        ctypes.POINTER(ctypes.c_uint),
    ]
    _x11.XGetWindowAttributes.argtypes = [
        ctypes.c_void_p,
        _Window,
        ctypes.POINTER(_XWindowAttributes),
    ]
    _x11.XTranslateCoordinates.argtypes = [
        ctypes.c_void_p,
        _Window,
        _Window,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(_Window),
    ]
    _x11.XGetClassHint.argtypes = [ctypes.c_void_p, _Window, ctypes.POINTER(_XClassHint)]
    _x11.XGetWindowProperty.argtypes = [
        ctypes.c_void_p,
        _Window,
        ctypes.c_ulong,
        ctypes.c_long,
        ctypes.c_long,
        ctypes.c_int,
        ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_void_p),
    ]
    _x11.XSendEvent.argtypes = [
        ctypes.c_void_p,
        _Window,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_XEvent),
    ]
    _x11.XFree.argtypes = [ctypes.c_void_p]
    _x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    _x11.XSetErrorHandler.restype = ctypes.c_void_p
if _xtst is not None:
    _xtst.XTestQueryExtension.argtypes = [ctypes.c_void_p, *[ctypes.POINTER(ctypes.c_int)] * 4]
    _xtst.XTestFakeMotionEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_ulong,
    ]
    _xtst.XTestFakeButtonEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_ulong,
    ]

# A window can vanish between XQueryTree and the next request (a tooltip, a popup):
# Xlib's default handler would exit the process on the BadWindow. Ignore errors instead;
# each call below checks its own status.
_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(lambda d, e: 0)
if _x11 is not None:
    _x11.XSetErrorHandler(_ERROR_HANDLER)


def xtest_available() -> bool:
    return _x11 is not None and _xtst is not None


@dataclass(frozen=True)
class Window:
    id: int
    x: int  # on the root window
    y: int
    width: int
    height: int
    mapped: bool
    name: str  # WM_CLASS res_name
    cls: str  # WM_CLASS res_class
    pid: int | None  # _NET_WM_PID

    def contains(self, x: int, y: int, width: int, height: int) -> bool:
        return (
            self.x <= x
            and self.y <= y
            and x + width <= self.x + self.width
            and y + height <= self.y + self.height
        )


class XDisplay:
    """One Xlib connection to `display` (":120")."""

    def __init__(self, display: str) -> None:
        if _x11 is None:
            raise OSError("libX11 is not installed")
        self.dpy = _x11.XOpenDisplay(display.encode())
        if not self.dpy:
            raise OSError(f"cannot open X display {display}")
        self.root = _x11.XDefaultRootWindow(self.dpy)

    def close(self) -> None:
        if self.dpy:
            _x11.XCloseDisplay(self.dpy)
            self.dpy = None

    def __enter__(self) -> XDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def atom(self, name: str) -> int:
        return int(_x11.XInternAtom(self.dpy, name.encode(), 0))

    def selection_owner(self, selection: str = TRAY_SELECTION) -> int:
        """The window owning `selection`; 0 when nobody does (no tray host)."""
        return int(_x11.XGetSelectionOwner(self.dpy, self.atom(selection)))

    def children(self, window: int) -> list[int]:
        root, parent = _Window(), _Window()
        kids = ctypes.POINTER(_Window)()
        count = ctypes.c_uint()
        if not _x11.XQueryTree(
            self.dpy,
            window,
            ctypes.byref(root),
            ctypes.byref(parent),
            ctypes.byref(kids),
            ctypes.byref(count),
        ):
            return []
        found = [int(kids[i]) for i in range(count.value)]
        if kids:
            _x11.XFree(kids)
        return found

    def descendants(self, window: int) -> Iterator[int]:
        for child in self.children(window):
            yield child
            yield from self.descendants(child)

    def window(self, window: int) -> Window | None:
        attrs = _XWindowAttributes()
        if not _x11.XGetWindowAttributes(self.dpy, window, ctypes.byref(attrs)):
            return None
        x, y, child = ctypes.c_int(), ctypes.c_int(), _Window()
        _x11.XTranslateCoordinates(
            self.dpy, window, self.root, 0, 0, ctypes.byref(x), ctypes.byref(y), ctypes.byref(child)
        )
        name, cls = self._class_hint(window)
        return Window(
            window,
            x.value,
            y.value,
            attrs.width,
            attrs.height,
            attrs.map_state == _IS_VIEWABLE,
            name,
            cls,
            self._pid(window),
        )

    def _class_hint(self, window: int) -> tuple[str, str]:
        hint = _XClassHint()
        if not _x11.XGetClassHint(self.dpy, window, ctypes.byref(hint)):
            return "", ""
        values = []
        for pointer in (hint.res_name, hint.res_class):
            values.append(ctypes.string_at(pointer).decode(errors="replace") if pointer else "")
            if pointer:
                _x11.XFree(pointer)
        return values[0], values[1]

    def _pid(self, window: int) -> int | None:
        actual_type, actual_format = ctypes.c_ulong(), ctypes.c_int()
        items, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = _x11.XGetWindowProperty(
            self.dpy,
            window,
            self.atom("_NET_WM_PID"),
            0,
            1,
            0,
            0,  # AnyPropertyType
            ctypes.byref(actual_type),
            ctypes.byref(actual_format),
            ctypes.byref(items),
            ctypes.byref(after),
            ctypes.byref(data),
        )
        try:
            if status != 0 or not data.value or items.value < 1 or actual_format.value != 32:
                return None
            return int(ctypes.cast(data, _c_long_p)[0])
        finally:
            if data.value:
                _x11.XFree(data)

    def top_levels(self) -> list[Window]:
        return [w for w in map(self.window, self.children(self.root)) if w is not None]

    def tray_host(self, cls: str = "trayer") -> Window | None:
        """The mapped top-level window of the tray host (trayer's "panel")."""
        return next((w for w in self.top_levels() if w.cls == cls and w.mapped), None)

    def windows_of(self, pid: int, under: int) -> list[Window]:
        """The windows below `under` that the process `pid` created and marked as its own."""
        found = (self.window(w) for w in self.descendants(under))
        return [w for w in found if w is not None and w.pid == pid]

    # -- what a user and a window manager do -------------------------------------------

    def click(self, x: int, y: int, button: int = 1) -> None:
        """Move the real pointer to (x, y) on the root window and click `button` there."""
        if _xtst is None:
            raise OSError("libXtst is not installed (apt-get install libxtst6)")
        _xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        _xtst.XTestFakeButtonEvent(self.dpy, button, 1, 0)
        _xtst.XTestFakeButtonEvent(self.dpy, button, 0, 0)
        _x11.XSync(self.dpy, 0)

    def request_close(self, window: int) -> None:
        """Ask `window` to close, as a window manager's close button does."""
        event = _XEvent()
        event.xclient.type = _CLIENT_MESSAGE
        event.xclient.window = window
        event.xclient.message_type = self.atom("WM_PROTOCOLS")
        event.xclient.format = 32
        event.xclient.data[0] = self.atom("WM_DELETE_WINDOW")
        event.xclient.data[1] = 0  # CurrentTime
        _x11.XSendEvent(self.dpy, window, 0, 0, ctypes.byref(event))
        _x11.XSync(self.dpy, 0)
