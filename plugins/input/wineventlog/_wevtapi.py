"""The Windows Event Log API (wevtapi.dll) through ctypes: subscriptions, queries, rendering.

This module imports on every system; the DLLs are loaded on the first call, through the
module attributes `_wevtapi`, `_kernel32` and `_get_last_error`, which the tests on
Linux replace with a fake event log (there is no Windows API there). The same calls run
against the real API in tests/plugins/input/test_wineventlog_real.py on a Windows runner.

What is used, all documented in winevt.h:

- ``EvtSubscribe`` in the pull model: a manual-reset event (``CreateEventW``) that the
  service signals when events match, then ``EvtNext`` until ``ERROR_NO_MORE_ITEMS``;
  ``EvtQuery`` (+ ``EvtSeek`` after a bookmark) to read a channel to its current end.
- ``EvtRender``: the event as XML (``EvtRenderEventXml``) and a bookmark as XML
  (``EvtRenderBookmark``); its buffer size is in bytes.
- ``EvtFormatMessage`` (``EvtFormatMessageEvent``) with the provider's metadata from
  ``EvtOpenPublisherMetadata``; its buffer size is in characters. A message with an
  insertion it cannot resolve is still a message (``ERROR_EVT_UNRESOLVED_*``).
- ``EvtCreateBookmark`` / ``EvtUpdateBookmark``: positions kept across restarts.

Buffers start small and grow when a call fails with ``ERROR_INSUFFICIENT_BUFFER``,
to the size the call asked for.
"""

from __future__ import annotations

import ctypes
import sys
from collections import OrderedDict
from typing import Any

__all__ = [
    "ERROR_ACCESS_DENIED",
    "ERROR_EVT_CHANNEL_NOT_FOUND",
    "ERROR_EVT_INVALID_QUERY",
    "ERROR_INSUFFICIENT_BUFFER",
    "ERROR_NO_MORE_ITEMS",
    "WINDOWS",
    "EvtError",
    "Publishers",
    "Renderer",
]

WINDOWS = sys.platform == "win32"

ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_INVALID_PARAMETER = 87
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_NO_MORE_ITEMS = 259
ERROR_NOT_FOUND = 1168
ERROR_TIMEOUT = 1460
ERROR_RESOURCE_TYPE_NOT_FOUND = 1813
ERROR_RESOURCE_LANG_NOT_FOUND = 1815
RPC_S_SERVER_UNAVAILABLE = 1722
RPC_S_INVALID_BOUND = 1734  # EvtNext: the batch is too large for one RPC
ERROR_EVT_INVALID_QUERY = 15001
ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND = 15002
ERROR_EVT_CHANNEL_NOT_FOUND = 15007
ERROR_EVT_QUERY_RESULT_STALE = 15011
ERROR_EVT_QUERY_RESULT_INVALID_POSITION = 15012
ERROR_EVT_MESSAGE_NOT_FOUND = 15027
ERROR_EVT_MESSAGE_ID_NOT_FOUND = 15028
ERROR_EVT_UNRESOLVED_VALUE_INSERT = 15029
ERROR_EVT_UNRESOLVED_PARAMETER_INSERT = 15030
ERROR_EVT_MAX_INSERTS_REACHED = 15031
ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND = 15033
ERROR_MUI_FILE_NOT_FOUND = 15100

EvtSubscribeToFutureEvents = 1
EvtSubscribeStartAtOldestRecord = 2
EvtSubscribeStartAfterBookmark = 3
EvtQueryChannelPath = 0x1
EvtQueryForwardDirection = 0x100
EvtQueryReverseDirection = 0x200
EvtSeekRelativeToBookmark = 4
EvtRenderEventXml = 1
EvtRenderBookmark = 2
EvtFormatMessageEvent = 1

WAIT_OBJECT_0 = 0
WAIT_TIMEOUT = 258

# A bookmark's event is gone (the log was cleared or wrapped round).
BOOKMARK_GONE = frozenset(
    {ERROR_NOT_FOUND, ERROR_EVT_QUERY_RESULT_STALE, ERROR_EVT_QUERY_RESULT_INVALID_POSITION}
)
# EvtFormatMessage formatted what it could: the message is usable.
_PARTIAL = frozenset(
    {
        ERROR_EVT_UNRESOLVED_VALUE_INSERT,
        ERROR_EVT_UNRESOLVED_PARAMETER_INSERT,
        ERROR_EVT_MAX_INSERTS_REACHED,
    }
)
# The provider has no message for the event (or none in this language): not an error.
_NO_MESSAGE = frozenset(
    {
        ERROR_FILE_NOT_FOUND,
        ERROR_RESOURCE_TYPE_NOT_FOUND,
        ERROR_RESOURCE_LANG_NOT_FOUND,
        ERROR_EVT_MESSAGE_NOT_FOUND,
        ERROR_EVT_MESSAGE_ID_NOT_FOUND,
        ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND,
        ERROR_MUI_FILE_NOT_FOUND,
    }
)
_MESSAGES = {
    ERROR_FILE_NOT_FOUND: "not found",
    ERROR_ACCESS_DENIED: "access is denied",
    ERROR_INVALID_HANDLE: "the handle is no longer valid",
    ERROR_INVALID_PARAMETER: "a parameter is not valid",
    ERROR_INSUFFICIENT_BUFFER: "the buffer is too small",
    ERROR_NOT_FOUND: "the bookmarked event was not found",
    ERROR_TIMEOUT: "the call timed out",
    RPC_S_SERVER_UNAVAILABLE: "the Event Log service is unavailable",
    RPC_S_INVALID_BOUND: "too many events asked for at once",
    ERROR_EVT_INVALID_QUERY: "the query is not valid",
    ERROR_EVT_CHANNEL_NOT_FOUND: "the channel was not found",
    ERROR_EVT_QUERY_RESULT_STALE: "the log was cleared or overwritten while it was read",
    ERROR_EVT_QUERY_RESULT_INVALID_POSITION: "the bookmarked position is not valid",
}
_MAX_TRIES = 6  # a buffer grows at most this many times per call
_WCHAR = ctypes.sizeof(ctypes.c_wchar)
DWORD = ctypes.c_uint32  # one type for the declarations and the values passed by reference

# Replaced by tests; on Windows filled in on first use.
_wevtapi: Any = None
_kernel32: Any = None
_get_last_error: Any = getattr(ctypes, "get_last_error", lambda: 0)  # Windows-only in ctypes


class EvtError(Exception):
    """A failed Windows Event Log call: `winerror` says why, `function` which call."""

    def __init__(self, winerror: int, function: str, detail: str = "") -> None:
        self.winerror = winerror
        self.function = function
        reason = _MESSAGES.get(winerror, f"Windows error {winerror}")
        if detail:
            reason = f"{reason}: {detail}"
        super().__init__(f"{function}: {reason} (error {winerror})")


def _last_error() -> int:
    return int(_get_last_error())


def _evt() -> Any:
    """wevtapi.dll with the argument types declared, loaded once."""
    global _wevtapi
    if _wevtapi is None:
        from ctypes import wintypes

        dll = ctypes.WinDLL("wevtapi", use_last_error=True)  # type: ignore[attr-defined]
        handle, ptr, wstr = ctypes.c_void_p, ctypes.c_void_p, wintypes.LPCWSTR
        dword, ok = DWORD, wintypes.BOOL
        pdword = ctypes.POINTER(dword)
        signatures: dict[str, tuple[Any, tuple[Any, ...]]] = {
            # Session, SignalEvent, ChannelPath, Query, Bookmark, Context, Callback, Flags
            "EvtSubscribe": (handle, (handle, handle, wstr, wstr, handle, ptr, ptr, dword)),
            "EvtQuery": (handle, (handle, wstr, wstr, dword)),
            # ResultSet, EventsSize, Events, Timeout, Flags, Returned
            "EvtNext": (ok, (handle, dword, ctypes.POINTER(handle), dword, dword, pdword)),
            # ResultSet, Position, Bookmark, Timeout, Flags
            "EvtSeek": (ok, (handle, ctypes.c_int64, handle, dword, dword)),
            # Context, Fragment, Flags, BufferSize (bytes), Buffer, BufferUsed, PropertyCount
            "EvtRender": (ok, (handle, handle, dword, dword, ptr, pdword, pdword)),
            # PublisherMetadata, Event, MessageId, ValueCount, Values, Flags,
            # BufferSize (characters), Buffer, BufferUsed
            "EvtFormatMessage": (
                ok,
                (handle, handle, dword, dword, ptr, dword, dword, ptr, pdword),
            ),
            # Session, PublisherId, LogFilePath, Locale, Flags
            "EvtOpenPublisherMetadata": (handle, (handle, wstr, wstr, dword, dword)),
            "EvtCreateBookmark": (handle, (wstr,)),
            "EvtUpdateBookmark": (ok, (handle, handle)),
            # BufferSize (characters), Buffer, BufferUsed; returns an error code
            "EvtGetExtendedStatus": (dword, (dword, ptr, pdword)),
            "EvtClose": (ok, (handle,)),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(dll, name)
            function.restype = restype
            function.argtypes = argtypes
        _wevtapi = dll
    return _wevtapi


def _k32() -> Any:
    """kernel32.dll for the signal event, loaded once."""
    global _kernel32
    if _kernel32 is None:
        from ctypes import wintypes

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        k32.CreateEventW.restype = wintypes.HANDLE
        k32.CreateEventW.argtypes = (
            wintypes.LPVOID,
            wintypes.BOOL,
            wintypes.BOOL,
            wintypes.LPCWSTR,
        )
        k32.WaitForSingleObject.restype = wintypes.DWORD
        k32.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
        k32.ResetEvent.restype = wintypes.BOOL
        k32.ResetEvent.argtypes = (wintypes.HANDLE,)
        k32.CloseHandle.restype = wintypes.BOOL
        k32.CloseHandle.argtypes = (wintypes.HANDLE,)
        _kernel32 = k32
    return _kernel32


# -- the signal event -------------------------------------------------------------------


def create_signal() -> int:
    """A manual-reset event, initially set, for subscriptions to signal."""
    handle = _k32().CreateEventW(None, True, True, None)
    if not handle:
        raise EvtError(_last_error(), "CreateEventW")
    return int(handle)


def wait(signal: int, timeout_ms: int) -> bool:
    """Whether `signal` was set within `timeout_ms`."""
    result = _k32().WaitForSingleObject(signal, timeout_ms)
    if result == WAIT_OBJECT_0:
        return True
    if result == WAIT_TIMEOUT:
        return False
    raise EvtError(_last_error(), "WaitForSingleObject")


def reset(signal: int) -> None:
    _k32().ResetEvent(signal)


def close_signal(signal: int) -> None:
    _k32().CloseHandle(signal)


# -- subscriptions, queries, events ---------------------------------------------------


def subscribe(
    channel: str, query: str, signal: int, bookmark: int | None = None, future: bool = False
) -> int:
    """A pull subscription to `channel`: after `bookmark`, else from the oldest event
    (`future`: only events that come from now on)."""
    if bookmark:
        flags = EvtSubscribeStartAfterBookmark
    elif future:
        flags = EvtSubscribeToFutureEvents
    else:
        flags = EvtSubscribeStartAtOldestRecord
    handle = _evt().EvtSubscribe(None, signal, channel, query, bookmark or None, None, None, flags)
    if not handle:
        error = _last_error()
        raise EvtError(error, "EvtSubscribe", _query_detail(error))
    return int(handle)


def query(channel: str, xpath: str, newest_first: bool = False) -> int:
    """The events of `channel` matching `xpath` as they are now, oldest first by default."""
    direction = EvtQueryReverseDirection if newest_first else EvtQueryForwardDirection
    handle = _evt().EvtQuery(None, channel, xpath, EvtQueryChannelPath | direction)
    if not handle:
        error = _last_error()
        raise EvtError(error, "EvtQuery", _query_detail(error))
    return int(handle)


def seek_after(results: int, bookmark: int) -> None:
    """Move a query's results to the event after the bookmarked one."""
    if not _evt().EvtSeek(results, 1, bookmark, 0, EvtSeekRelativeToBookmark):
        raise EvtError(_last_error(), "EvtSeek")


def next_events(results: int, count: int, timeout_ms: int) -> list[int] | None:
    """Up to `count` event handles (close each with `close`); [] at the end for now,
    None when the call timed out (more may come)."""
    handles = (ctypes.c_void_p * count)()
    returned = DWORD()
    if _evt().EvtNext(results, count, handles, timeout_ms, 0, ctypes.byref(returned)):
        return [int(h) for h in handles[: returned.value] if h]
    error = _last_error()
    if error == ERROR_NO_MORE_ITEMS:
        return []
    if error == ERROR_TIMEOUT:
        return None
    raise EvtError(error, "EvtNext")


def create_bookmark(xml: str | None = None) -> int:
    """A bookmark from its XML (`render_bookmark`'s), or an empty one."""
    handle = _evt().EvtCreateBookmark(xml)
    if not handle:
        raise EvtError(_last_error(), "EvtCreateBookmark")
    return int(handle)


def update_bookmark(bookmark: int, event: int) -> None:
    if not _evt().EvtUpdateBookmark(bookmark, event):
        raise EvtError(_last_error(), "EvtUpdateBookmark")


def close(handle: int | None) -> None:
    """Close an Evt handle (subscription, query, event, bookmark, publisher metadata)."""
    if handle:
        _evt().EvtClose(handle)


def _query_detail(error: int) -> str:
    """What the service says is wrong with a query (EvtGetExtendedStatus)."""
    if error != ERROR_EVT_INVALID_QUERY:
        return ""
    api = _evt()
    used = DWORD()
    buffer = ctypes.create_unicode_buffer(512)
    for _ in range(_MAX_TRIES):
        result = api.EvtGetExtendedStatus(len(buffer), buffer, ctypes.byref(used))
        if result == ERROR_INSUFFICIENT_BUFFER and used.value > len(buffer):
            buffer = ctypes.create_unicode_buffer(used.value)
            continue
        return buffer.value.strip() if result == 0 else ""
    return ""


# -- rendering --------------------------------------------------------------------------


class Renderer:
    """Renders events, bookmarks and messages into one buffer that grows as needed.

    Not thread-safe: one per reading thread."""

    def __init__(self, chars: int = 4096) -> None:
        self._buffer = ctypes.create_unicode_buffer(chars)
        self.resizes = 0  # how often a buffer was too small (for tests and curiosity)

    @property
    def capacity(self) -> int:
        """The buffer's size in characters."""
        return len(self._buffer)

    def _grow(self, chars: int) -> None:
        current = len(self._buffer)
        self._buffer = ctypes.create_unicode_buffer(chars if chars > current else 2 * current)
        self.resizes += 1

    def _render(self, handle: int, flags: int) -> str:
        api = _evt()
        used, count = DWORD(), DWORD()
        for _ in range(_MAX_TRIES):
            buffer = self._buffer
            size = ctypes.sizeof(buffer)
            if api.EvtRender(
                None, handle, flags, size, buffer, ctypes.byref(used), ctypes.byref(count)
            ):
                return buffer.value
            error = _last_error()
            if error != ERROR_INSUFFICIENT_BUFFER:
                raise EvtError(error, "EvtRender")
            self._grow(-(-used.value // _WCHAR))  # BufferUsed is in bytes here
        raise EvtError(ERROR_INSUFFICIENT_BUFFER, "EvtRender")

    def event_xml(self, event: int) -> str:
        """The event as its XML (the Event schema)."""
        return self._render(event, EvtRenderEventXml)

    def bookmark_xml(self, bookmark: int) -> str:
        """A bookmark as XML, to store and give back to `create_bookmark`."""
        return self._render(bookmark, EvtRenderBookmark)

    def message(self, publisher: int, event: int) -> str | None:
        """The event's message as its provider formats it; None when it has none."""
        api = _evt()
        used = DWORD()
        for _ in range(_MAX_TRIES):
            buffer = self._buffer
            chars = len(buffer)
            if api.EvtFormatMessage(
                publisher,
                event,
                0,
                0,
                None,
                EvtFormatMessageEvent,
                chars,
                buffer,
                ctypes.byref(used),
            ):
                return _clean(buffer.value)
            error = _last_error()
            if error == ERROR_INSUFFICIENT_BUFFER or (error in _PARTIAL and used.value > chars):
                self._grow(used.value)  # BufferUsed is in characters here
                continue
            if error in _PARTIAL:
                return _clean(buffer.value)
            if error in _NO_MESSAGE:
                return None
            raise EvtError(error, "EvtFormatMessage")
        raise EvtError(ERROR_INSUFFICIENT_BUFFER, "EvtFormatMessage")


def _clean(message: str) -> str:
    """Messages come with CRLF line ends and usually a trailing one."""
    return message.replace("\r\n", "\n").rstrip()


class Publishers:
    """Provider metadata handles (the formatting context of messages), opened once per
    provider and kept for the most recently used `limit` providers."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._open: OrderedDict[str, int | None] = OrderedDict()

    def get(self, provider: str) -> int | None:
        """The provider's metadata, or None when it has none (its events carry no message)."""
        if provider in self._open:
            self._open.move_to_end(provider)
            return self._open[provider]
        handle = _evt().EvtOpenPublisherMetadata(None, provider, None, 0, 0)
        metadata = int(handle) if handle else None
        self._open[provider] = metadata
        while len(self._open) > self.limit:
            _, evicted = self._open.popitem(last=False)
            close(evicted)
        return metadata

    def __len__(self) -> int:
        return len(self._open)

    def close(self) -> None:
        for handle in self._open.values():
            close(handle)
        self._open.clear()
