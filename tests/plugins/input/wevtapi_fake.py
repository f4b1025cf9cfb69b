"""A fake Windows Event Log behind the wevtapi.dll and kernel32.dll calls `_wevtapi` makes.

There is no Windows API on Linux, so input_wineventlog's tests put this object where the
DLLs would be (`_wevtapi._wevtapi`, `_wevtapi._kernel32`, `_wevtapi._get_last_error`).
It keeps the API's conventions where the binding could get them wrong: handles are
integers (0 is failure, the reason in the last error), EvtRender's buffer size is in
bytes and EvtFormatMessage's in characters (a too-small buffer fails with
ERROR_INSUFFICIENT_BUFFER and the size needed), EvtNext fails with ERROR_NO_MORE_ITEMS
at the end, bookmarks render as the XML Windows writes, and every handle must be
closed (`open_handles`).
"""

from __future__ import annotations

import ctypes
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

import plugins.input.wineventlog._wevtapi as api

WCHAR = ctypes.sizeof(ctypes.c_wchar)
NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def event_xml(
    channel: str,
    record_id: int,
    provider: str = "TailboxTest",
    event_id: int = 100,
    level: int = 4,
    data: tuple[str, ...] = (),
    system_time: str = "2026-11-28T10:00:02.1234567Z",
    computer: str = "DESKTOP-1",
) -> str:
    """An event as EvtRender(EvtRenderEventXml) renders a classic one (eventcreate's)."""
    body = "".join(f"<Data>{escape(d)}</Data>" for d in data)
    return (
        f"<Event xmlns='{NS}'><System><Provider Name={quoteattr(provider)}/>"
        f"<EventID Qualifiers='0'>{event_id}</EventID><Version>0</Version>"
        f"<Level>{level}</Level><Task>0</Task><Opcode>0</Opcode>"
        f"<Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='{system_time}'/>"
        f"<EventRecordID>{record_id}</EventRecordID><Correlation/>"
        f"<Execution ProcessID='0' ThreadID='0'/><Channel>{escape(channel)}</Channel>"
        f"<Computer>{computer}</Computer><Security/></System>"
        f"<EventData>{body}</EventData></Event>"
    )


def bookmark_xml(channel: str, record_id: int) -> str:
    """A bookmark as EvtRender(EvtRenderBookmark) renders it."""
    return (
        f"<BookmarkList>\r\n  <Bookmark Channel='{channel}' RecordId='{record_id}' "
        "IsCurrent='true'/>\r\n</BookmarkList>"
    )


_BOOKMARK = re.compile(r"<Bookmark Channel='([^']*)' RecordId='(\d+)'")
_PROVIDER_QUERY = re.compile(r"Provider\[@Name='([^']*)'\]")


@dataclass
class Event:
    channel: str
    record_id: int
    provider: str
    xml: str
    message: str | None  # what EvtFormatMessage gives; None: the provider has none


@dataclass
class Channel:
    name: str
    events: list[Event] = field(default_factory=list)
    denied: bool = False


@dataclass
class Results:
    """A subscription or a query: the matching events of a channel after `cursor`."""

    channel: Channel
    query: str
    cursor: int  # record id of the last event returned (events after it come next)
    signal: int | None = None
    newest_first: bool = False
    taken: set[int] = field(default_factory=set)


@dataclass
class Bookmark:
    channel: str = ""
    record_id: int = 0


@dataclass
class EventHandle:
    event: Event


class FakeEventLog:
    """wevtapi.dll and kernel32.dll as input_wineventlog calls them, over in-memory channels."""

    def __init__(self, channels: tuple[str, ...] = ("Application", "System")) -> None:
        self.channels = {name.lower(): Channel(name) for name in channels}
        self.lock = threading.RLock()
        self.error = 0
        self.handles: dict[int, Any] = {}
        self._ids = itertools.count(1000)
        self._record_ids: dict[str, itertools.count[int]] = {}
        self.signals: dict[int, threading.Event] = {}
        self.providers = {"TailboxTest", "Service Control Manager"}  # with message metadata
        self.publisher_opens: list[str] = []
        self.channel_opens: list[str] = []  # every EvtSubscribe / EvtQuery, by channel name
        self.next_calls: list[tuple[str, int]] = []  # (channel, count) per EvtNext
        self.max_batch = 0  # > 0: EvtNext of more events fails with RPC_S_INVALID_BOUND
        self.unrenderable: set[int] = set()  # record ids EvtRender fails for
        self.partial: set[int] = set()  # record ids whose message has an unresolved insert
        self.bookmarks_gone = False  # subscribing after a bookmark fails: the log was cleared

    # -- the test's side ------------------------------------------------------------------

    def write(
        self,
        channel: str,
        message: str | None = None,
        provider: str = "TailboxTest",
        event_id: int = 100,
        level: int = 4,
        data: tuple[str, ...] | None = None,
    ) -> int:
        """Append an event (as eventcreate would) and signal the subscriptions; its record id."""
        with self.lock:
            target = self.channels[channel.lower()]
            counter = self._record_ids.setdefault(target.name, itertools.count(1))
            record_id = next(counter)
            if data is None:
                data = (message,) if message is not None else ()
            xml = event_xml(target.name, record_id, provider, event_id, level, data)
            target.events.append(Event(target.name, record_id, provider, xml, message))
            for results in self.handles.values():
                if isinstance(results, Results) and results.channel is target and results.signal:
                    self.signals[results.signal].set()
        return record_id

    def open_handles(self) -> dict[int, Any]:
        """Evt and kernel32 handles not closed yet."""
        with self.lock:
            return dict(self.handles)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeEventLog:
        monkeypatch.setattr(api, "_wevtapi", self)
        monkeypatch.setattr(api, "_kernel32", self)
        monkeypatch.setattr(api, "_get_last_error", lambda: self.error)
        return self

    # -- helpers --------------------------------------------------------------------------

    def _new(self, obj: Any) -> int:
        handle = next(self._ids)
        self.handles[handle] = obj
        return handle

    def _fail(self, error: int) -> int:
        self.error = error
        return 0

    @staticmethod
    def _set(ref: Any, value: int) -> None:
        ref._obj.value = value

    def _matching(self, results: Results) -> list[Event]:
        wanted = _PROVIDER_QUERY.search(results.query)
        events = [
            e
            for e in results.channel.events
            if (wanted is None or e.provider == wanted.group(1))
            and e.record_id not in results.taken
        ]
        if results.newest_first:
            return sorted(events, key=lambda e: -e.record_id)
        return [e for e in events if e.record_id > results.cursor]

    def _open(self, channel: str, query: str) -> Channel | int:
        self.channel_opens.append(channel)
        target = self.channels.get((channel or "").lower())
        if target is None:
            return self._fail(api.ERROR_EVT_CHANNEL_NOT_FOUND)
        if target.denied:
            return self._fail(api.ERROR_ACCESS_DENIED)
        if query.count("[") != query.count("]"):
            return self._fail(api.ERROR_EVT_INVALID_QUERY)
        return target

    # -- wevtapi.dll ------------------------------------------------------------------------

    def EvtSubscribe(
        self,
        session: Any,
        signal: int,
        channel: str,
        query: str,
        bookmark: int | None,
        context: Any,
        callback: Any,
        flags: int,
    ) -> int:
        with self.lock:
            assert session is None and context is None and callback is None
            assert signal in self.signals, "pull subscriptions need a signal event"
            target = self._open(channel, query)
            if not isinstance(target, Channel):
                return 0
            cursor = 0
            if flags == api.EvtSubscribeStartAfterBookmark:
                mark = self.handles[bookmark]
                assert isinstance(mark, Bookmark)
                if self.bookmarks_gone:
                    return self._fail(api.ERROR_NOT_FOUND)
                cursor = mark.record_id
            elif flags == api.EvtSubscribeToFutureEvents:
                cursor = target.events[-1].record_id if target.events else 0
            else:
                assert flags == api.EvtSubscribeStartAtOldestRecord, flags
                assert not bookmark
            return self._new(Results(target, query, cursor, signal))

    def EvtQuery(self, session: Any, channel: str, query: str, flags: int) -> int:
        with self.lock:
            assert flags & api.EvtQueryChannelPath
            target = self._open(channel, query)
            if not isinstance(target, Channel):
                return 0
            newest = bool(flags & api.EvtQueryReverseDirection)
            return self._new(Results(target, query, 0, newest_first=newest))

    def EvtSeek(self, results: int, position: int, bookmark: int, timeout: int, flags: int) -> int:
        with self.lock:
            assert (position, timeout, flags) == (1, 0, api.EvtSeekRelativeToBookmark)
            target = self.handles[results]
            mark = self.handles[bookmark]
            target.cursor = mark.record_id
            return 1

    def EvtNext(
        self, results: int, count: int, handles: Any, timeout: int, flags: int, returned: Any
    ) -> int:
        with self.lock:
            target = self.handles[results]
            assert isinstance(target, Results) and len(handles) >= count and flags == 0
            self.next_calls.append((target.channel.name, count))
            if self.max_batch and count > self.max_batch:
                return self._fail(api.RPC_S_INVALID_BOUND)
            events = self._matching(target)[:count]
            if not events:
                self._set(returned, 0)
                return self._fail(api.ERROR_NO_MORE_ITEMS)
            for i, event in enumerate(events):
                handles[i] = self._new(EventHandle(event))
                if target.newest_first:
                    target.taken.add(event.record_id)
                else:
                    target.cursor = event.record_id
            self._set(returned, len(events))
            return 1

    def EvtRender(
        self, context: Any, fragment: int, flags: int, size: int, buffer: Any, used: Any, count: Any
    ) -> int:
        with self.lock:
            obj = self.handles[fragment]
            if flags == api.EvtRenderEventXml:
                assert isinstance(obj, EventHandle)
                if obj.event.record_id in self.unrenderable:
                    return self._fail(15005)  # ERROR_EVT_INVALID_EVENT_DATA
                text = obj.event.xml
            else:
                assert flags == api.EvtRenderBookmark and isinstance(obj, Bookmark)
                text = bookmark_xml(obj.channel, obj.record_id)
            needed = (len(text) + 1) * WCHAR  # bytes, the terminating NUL included
            self._set(used, needed)
            self._set(count, 0)
            if buffer is None or size < needed:
                return self._fail(api.ERROR_INSUFFICIENT_BUFFER)
            assert size <= ctypes.sizeof(buffer), "BufferSize larger than the buffer"
            buffer.value = text
            return 1

    def EvtFormatMessage(
        self,
        publisher: int,
        event: int,
        message_id: int,
        value_count: int,
        values: Any,
        flags: int,
        size: int,
        buffer: Any,
        used: Any,
    ) -> int:
        with self.lock:
            assert flags == api.EvtFormatMessageEvent and self.handles[publisher] == "publisher"
            target = self.handles[event].event
            if target.message is None:
                return self._fail(api.ERROR_EVT_MESSAGE_NOT_FOUND)
            text = target.message.replace("\n", "\r\n") + "\r\n"
            needed = len(text) + 1  # characters
            self._set(used, needed)
            if buffer is None or size < needed:
                return self._fail(api.ERROR_INSUFFICIENT_BUFFER)
            assert size <= len(buffer), "BufferSize larger than the buffer"
            buffer.value = text
            if target.record_id in self.partial:
                return self._fail(api.ERROR_EVT_UNRESOLVED_VALUE_INSERT)
            return 1

    def EvtOpenPublisherMetadata(
        self, session: Any, provider: str, path: Any, locale: int, flags: int
    ) -> int:
        with self.lock:
            self.publisher_opens.append(provider)
            if provider not in self.providers:
                return self._fail(api.ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND)
            return self._new("publisher")

    def EvtCreateBookmark(self, xml: str | None) -> int:
        with self.lock:
            if xml is None:
                return self._new(Bookmark())
            match = _BOOKMARK.search(xml)
            if match is None:
                return self._fail(api.ERROR_INVALID_PARAMETER)
            return self._new(Bookmark(match.group(1), int(match.group(2))))

    def EvtUpdateBookmark(self, bookmark: int, event: int) -> int:
        with self.lock:
            mark, target = self.handles[bookmark], self.handles[event].event
            mark.channel, mark.record_id = target.channel, target.record_id
            return 1

    def EvtGetExtendedStatus(self, size: int, buffer: Any, used: Any) -> int:
        text = "the query has an unbalanced bracket"
        self._set(used, len(text) + 1)
        if size < len(text) + 1:
            return api.ERROR_INSUFFICIENT_BUFFER
        buffer.value = text
        return 0

    def EvtClose(self, handle: int) -> int:
        with self.lock:
            assert handle in self.handles, f"EvtClose of an unknown handle {handle}"
            assert handle not in self.signals, "a signal event closed with EvtClose"
            del self.handles[handle]
            return 1

    # -- kernel32.dll -------------------------------------------------------------------------

    def CreateEventW(self, security: Any, manual_reset: bool, initial: bool, name: Any) -> int:
        with self.lock:
            assert manual_reset and name is None
            handle = self._new("signal")
            self.signals[handle] = threading.Event()
            if initial:
                self.signals[handle].set()
            return handle

    def WaitForSingleObject(self, handle: int, timeout_ms: int) -> int:
        signal = self.signals[handle]
        return api.WAIT_OBJECT_0 if signal.wait(timeout_ms / 1000) else api.WAIT_TIMEOUT

    def ResetEvent(self, handle: int) -> int:
        self.signals[handle].clear()
        return 1

    def CloseHandle(self, handle: int) -> int:
        with self.lock:
            assert handle in self.signals
            del self.signals[handle]
            del self.handles[handle]
            return 1
