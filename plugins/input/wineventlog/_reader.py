"""Reading channels: one subscription (tailing) or query (once) per channel, batches of
events turned into Logs and handed to the pipeline, bookmarks kept per channel.

Tailing: every channel subscribes with the same signal event; the run thread resets it,
reads each channel a batch at a time in turn (so a long backlog in one channel does not
hold the others up) until none has more, then waits for the signal — at most
PollIntervalMs, after which it looks anyway. Reading stops while the pipeline applies
back-pressure: `collector.add_logs` blocks, and no further EvtNext is made.

Where a channel starts: after its committed bookmark; without one (a first start),
after the newest event that matches the query (StartAt end) or at the oldest
(StartAt beginning). The first start's position is committed at once, so events that
come while the agent is stopped are read on the next start. A bookmark whose event is
gone (the log was cleared or wrapped round) gives way to the oldest event, with a
warning. With `once`, each channel is read from its bookmark (or its oldest event) to
its current end with EvtQuery and EvtSeek.

Problems are reported once per channel until they clear: a channel that does not exist
(an error) or may not be read — the Security log needs administrator rights or
membership of Event Log Readers — (a warning). The other channels go on, and the
channel is tried again every RETRY_SECS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from agent.plugin import Collector, Context
from agent.protocol import Log, LogContext

from . import _wevtapi as api
from ._events import parse_event
from ._ledger import EventOrigin, Ledger, load_entry, section_of
from ._wevtapi import EvtError

__all__ = ["RETRY_SECS", "Options", "Reader"]

STOP_CHECK = 0.5  # seconds between looks at the stop flag while waiting for events
RETRY_SECS = 30.0  # a channel that could not be opened is tried again after this long
NEXT_TIMEOUT_MS = 2000  # how long one EvtNext may take
UNREADABLE_REPORT_SECS = 60.0  # events that cannot be rendered: one warning a minute at most


@dataclass(frozen=True, slots=True)
class Options:
    channels: tuple[str, ...]
    query: str
    start_at_end: bool
    batch_size: int
    poll_ms: int
    render_message: bool
    event_data: bool
    include_xml: bool
    topic: str


@dataclass(slots=True)
class Batch:
    logs: list[Log]
    origin: EventOrigin
    full: bool  # EvtNext gave as many events as asked for: there may be more


class Channel:
    """One channel's subscription (or query), bookmark and reported problem."""

    def __init__(self, name: str, reader: Reader) -> None:
        self.name = name
        self._r = reader
        self.ctx = LogContext(source=name, topic=reader.options.topic)
        self.handle: int | None = None  # subscription or query results
        self.bookmark: int | None = None  # moved to each batch's last event
        self.position = ""  # bookmark XML after the last event read ("" before any)
        self.batch = reader.options.batch_size
        self.retry_at = 0.0
        self.at_end = False  # EvtNext said there is nothing more (for now)
        self.problem = ""
        self.unreadable = 0  # events that could not be rendered
        self._unreadable_report = 0.0  # when the count may be reported again
        entry = load_entry(reader.store, name, reader.options.query)
        self.stored = entry is not None
        self.ledger = Ledger(
            name,
            reader.options.query,
            entry["bookmark"] if entry else "",
            entry.get("record_id", 0) if entry else 0,
            notify=self._committed if reader.store is not None else None,
        )
        self.record_id = self.ledger.record_id  # of the last event read
        self.stats = reader.metrics.file(f"eventlog:{name}") if reader.metrics else None

    # -- opening ----------------------------------------------------------------------

    def open(self, signal: int | None) -> bool:
        """Subscribe (`signal`) or query (None: once); False after reporting why not."""
        self.close()
        self.at_end = False
        try:
            if signal is None:
                self._open_query()
            else:
                self._open_subscription(signal)
        except EvtError as e:
            self.close()
            self._failed(e)
            return False
        self.retry_at = 0.0
        self._clear_problem()
        return True

    def _start(self) -> str:
        """The bookmark XML reading starts after ("" for the oldest event)."""
        position = self.position or self.ledger.committed
        if position and not self._usable(position):
            position = ""
        return position

    def _usable(self, xml: str) -> bool:
        try:
            api.close(api.create_bookmark(xml))
        except EvtError as e:
            self._warn(
                f"channel {self.name}: the stored bookmark cannot be used ({e}); "
                "reading from the oldest event"
            )
            self.position = ""
            return False
        return True

    def _open_subscription(self, signal: int) -> None:
        position = self._start()
        if not position and not self.stored and self._r.options.start_at_end:
            position = self._newest()
        start = api.create_bookmark(position) if position else None
        try:
            try:
                self.handle = api.subscribe(self.name, self._r.options.query, signal, start)
            except EvtError as e:
                if start is None or e.winerror not in api.BOOKMARK_GONE:
                    raise
                self._warn(
                    f"channel {self.name}: the bookmarked event is gone (the log was cleared "
                    "or wrapped round); reading from the oldest event"
                )
                position = ""
                self.handle = api.subscribe(self.name, self._r.options.query, signal)
        finally:
            api.close(start)
        self.bookmark = api.create_bookmark(position or None)

    def _newest(self) -> str:
        """A first start at the end: the bookmark of the newest matching event, committed
        at once ("" when the channel has none: then everything that comes is read)."""
        results = api.query(self.name, self._r.options.query, newest_first=True)
        try:
            handles = api.next_events(results, 1, NEXT_TIMEOUT_MS) or []
            if not handles:
                return ""
            bookmark = api.create_bookmark()
            try:
                api.update_bookmark(bookmark, handles[0])
                xml = self._r.renderer.bookmark_xml(bookmark)
                try:
                    record_id = parse_event(self._r.renderer.event_xml(handles[0])).record_id
                except (EvtError, ValueError):
                    record_id = 0  # only for the metrics: the bookmark is what counts
            finally:
                api.close(bookmark)
                for handle in handles:
                    api.close(handle)
        finally:
            api.close(results)
        self.ledger.start_at(xml, record_id)
        self.record_id = record_id
        if self.stats is not None:
            self.stats.offset = self.stats.committed = record_id
        return xml

    def _open_query(self) -> None:
        position = self._start()
        self.handle = api.query(self.name, self._r.options.query)
        if position:
            bookmark = api.create_bookmark(position)
            try:
                api.seek_after(self.handle, bookmark)
            except EvtError as e:
                self._warn(
                    f"channel {self.name}: cannot go to the bookmarked event ({e}); "
                    "reading from the oldest event"
                )
                api.close(self.handle)
                self.handle = None  # closed: not closed again if the new query fails
                self.handle = api.query(self.name, self._r.options.query)
                position = ""
            finally:
                api.close(bookmark)
        self.bookmark = api.create_bookmark(position or None)

    def close(self) -> None:
        api.close(self.handle)
        api.close(self.bookmark)
        self.handle = self.bookmark = None

    # -- reading ----------------------------------------------------------------------

    def read(self) -> Batch | None:
        """The next batch of events; None when there is none now (`at_end` says whether
        the channel said so, or the call timed out)."""
        while True:
            try:
                handles = api.next_events(self.handle or 0, self.batch, NEXT_TIMEOUT_MS)
                break
            except EvtError as e:
                if e.winerror != api.RPC_S_INVALID_BOUND or self.batch == 1:
                    raise
                self.batch = max(1, self.batch // 2)  # the events are too big for one call
        if handles is None:
            return None
        if not handles:
            self.at_end = True
            return None
        self.at_end = False
        try:
            return self._batch(handles)
        finally:
            for handle in handles:
                api.close(handle)

    def _batch(self, handles: list[int]) -> Batch:
        r = self._r
        options, renderer = r.options, r.renderer
        origin = EventOrigin(self.name, "", self.record_id)
        logs: list[Log] = []
        problem = ""
        for handle in handles:
            try:
                xml = renderer.event_xml(handle)
                record = parse_event(xml)
            except (EvtError, ValueError) as e:
                self.unreadable += 1
                problem = str(e)
                continue
            message = None
            if options.render_message and record.provider:
                publisher = r.publishers.get(record.provider)
                if publisher is not None:
                    try:
                        message = renderer.message(publisher, handle)
                    except EvtError:
                        message = None  # the data stands in for it
            if not record.channel:
                record.channel = self.name
            logs.append(
                record.to_log(
                    message,
                    event_data=options.event_data,
                    xml=xml if options.include_xml else "",
                    origin=origin,
                )
            )
            origin.record_id = record.record_id
        api.update_bookmark(self.bookmark or 0, handles[-1])
        origin.bookmark = self.position = renderer.bookmark_xml(self.bookmark or 0)
        self.record_id = origin.record_id
        now = time.monotonic()
        if problem and now >= self._unreadable_report:
            self._unreadable_report = now + UNREADABLE_REPORT_SECS
            self._r.report(
                "warning",
                f"channel {self.name}: {self.unreadable} event(s) so far could not be read "
                f"and were skipped (last: {problem})",
                self.name,
            )
        if self.stats is not None:
            self.stats.lines += len(logs)
            self.stats.offset = origin.record_id
            self.stats.updated = time.time()
        return Batch(logs, origin, full=len(handles) >= self.batch)

    # -- acknowledgements ---------------------------------------------------------------

    def _committed(self) -> None:
        """The committed bookmark moved (on a flusher thread): save it soon."""
        store = self._r.store
        if store is not None:
            store.changed()
        if self.stats is not None:
            self.stats.committed = self.ledger.record_id

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        entry = self.ledger.entry(now)
        return [entry] if entry is not None else []

    # -- problems -----------------------------------------------------------------------

    def _failed(self, e: EvtError) -> None:
        self.retry_at = time.monotonic() + RETRY_SECS
        name = self.name
        again = f"; tried again every {RETRY_SECS:g} s" if self._r.tailing else ""
        if e.winerror == api.ERROR_EVT_CHANNEL_NOT_FOUND:
            self.report(
                "error",
                f"channel {name!r} was not found: check its full name (Event Viewer: the "
                f"log's Properties), or install what writes it{again}",
            )
        elif e.winerror == api.ERROR_ACCESS_DENIED:
            self.report(
                "warning",
                f"channel {name}: access is denied (the Security log needs administrator "
                f"rights or membership of the Event Log Readers group); skipped{again}",
            )
        elif e.winerror == api.ERROR_EVT_INVALID_QUERY:
            self.report(
                "error", f"channel {name}: the Query is not valid XPath for it ({e}){again}"
            )
        else:
            self.report("warning", f"channel {name}: {e}{again}")

    def report(self, kind: str, problem: str) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        if self.stats is not None:
            self.stats.last_error = problem
        self._r.report(kind, problem, self.name)

    def _warn(self, problem: str) -> None:
        self.report("warning", problem)

    def _clear_problem(self) -> None:
        if self.problem:
            self._r.context.logger.info("input_wineventlog: channel %s is read again", self.name)
        self.problem = ""
        if self.stats is not None:
            self.stats.last_error = ""


class Reader:
    """One run of an input_wineventlog instance: tailing until stopped, or `once`."""

    def __init__(
        self, options: Options, context: Context, collector: Collector, stop: threading.Event
    ) -> None:
        self.options = options
        self.context = context
        self.store = context.checkpoints
        self.metrics = context.metrics
        self._collector = collector
        self._stop = stop
        self.tailing = False  # channels that fail to open are retried (not when once)
        self.renderer = api.Renderer()
        self.publishers = api.Publishers()
        self.channels = [Channel(name, self) for name in options.channels]
        if self.store is not None:
            for channel in self.channels:
                self.store.attach(section_of(channel.name), channel.snapshot)

    def report(self, kind: str, problem: str, channel: str) -> None:
        message = f"input_wineventlog: {problem}"
        if kind == "error":
            self.context.logger.error("%s", message)
        else:
            self.context.logger.warning("%s", message)
        self.context.report(kind, message=message, channel=channel)

    # -- tailing ----------------------------------------------------------------------

    def run_tail(self) -> None:
        self.tailing = True
        signal = api.create_signal()
        try:
            for channel in self.channels:
                channel.open(signal)
            while not self._stop.is_set():
                api.reset(signal)  # before reading: an event that comes meanwhile sets it
                if not self._drain(signal):
                    return
                self._wait(signal)
        finally:
            self._close()
            api.close_signal(signal)

    def _drain(self, signal: int) -> bool:
        """Read every channel until none has more; False when the pipeline stops."""
        more = True
        while more and not self._stop.is_set():
            more = False
            now = time.monotonic()
            for channel in self.channels:
                if channel.handle is None and (now < channel.retry_at or not channel.open(signal)):
                    continue
                try:
                    batch = channel.read()
                except EvtError as e:
                    self._lost(channel, e)
                    continue
                if batch is None:
                    continue
                if not self._hand_over(channel, batch):
                    return False
                more = more or batch.full
        return not self._stop.is_set()

    def _wait(self, signal: int) -> None:
        deadline = time.monotonic() + self.options.poll_ms / 1000
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if api.wait(signal, int(min(left, STOP_CHECK) * 1000)):
                return

    def _lost(self, channel: Channel, e: EvtError) -> None:
        """A subscription failed while reading (the service restarted, the log was
        cleared): reopened after the last event read — at once after a clear, else in
        RETRY_SECS."""
        channel.close()
        if e.winerror == api.ERROR_EVT_QUERY_RESULT_STALE:
            channel.retry_at = 0.0
            return
        channel.retry_at = time.monotonic() + RETRY_SECS
        channel.report(
            "warning",
            f"channel {channel.name}: reading failed ({e}); reopened in {RETRY_SECS:g} s",
        )

    # -- once -------------------------------------------------------------------------

    def run_once(self) -> None:
        """Read every channel to its current end."""
        try:
            todo = [c for c in self.channels if c.open(None)]
            while todo and not self._stop.is_set():
                for channel in list(todo):
                    try:
                        batch = channel.read()
                    except EvtError as e:
                        channel.report("warning", f"channel {channel.name}: reading failed ({e})")
                        todo.remove(channel)
                        continue
                    if batch is None:
                        if channel.at_end:
                            todo.remove(channel)
                        continue
                    if not self._hand_over(channel, batch):
                        return
        finally:
            self._close()

    # -- handing over -------------------------------------------------------------------

    def _hand_over(self, channel: Channel, batch: Batch) -> bool:
        origin = batch.origin
        if self.store is not None:
            channel.ledger.sent(origin)
            if not batch.logs:
                channel.ledger.done(origin)  # nothing readable: the bookmark moves on
        if not batch.logs:
            return True
        return self._collector.add_logs(batch.logs, channel.ctx) and not self._stop.is_set()

    def _close(self) -> None:
        for channel in self.channels:
            channel.close()
        self.publishers.close()
