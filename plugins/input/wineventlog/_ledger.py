"""Bookmarks acknowledged per channel: what a restart resumes after.

Every batch of events handed to the pipeline carries an `EventOrigin` with the bookmark
of its last event (the XML `EvtRender(EvtRenderBookmark)` gives). The pipeline's
`agent.acks.AckCounter` calls `Ledger.done(origin)` once every flusher has
acknowledged all of the batch's logs; the committed bookmark is that of the last batch
in the longest run of acknowledged batches from the start — as `input_file`'s offsets,
so an aggregator that delivers batches out of order cannot move it past an event that
is still on its way.

Each channel's ledger is stored in the checkpoint store under its own section,
``input_wineventlog:<channel, lower case>``, one entry per XPath query::

    {"channel": "Application", "query": "*", "bookmark": "<BookmarkList>...",
     "record_id": 4711, "seen": 1767225600.5}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.acks import OrderedLedger

__all__ = ["SECTION", "EventOrigin", "Ledger", "load_entry", "section_of"]

SECTION = "input_wineventlog"


def section_of(channel: str) -> str:
    """The checkpoint section of a channel (channel names ignore case on Windows)."""
    return f"{SECTION}:{channel.lower()}"


@dataclass(slots=True, eq=False)
class EventOrigin:
    """Where a batch of events ends: the bookmark after its last event."""

    channel: str
    bookmark: str
    record_id: int
    ledger: Any = field(default=None, repr=False)


class Ledger(OrderedLedger):
    """The acknowledged bookmark of one channel (and query). Thread-safe."""

    __slots__ = (
        "channel",
        "committed",
        "query",
        "record_id",
    )

    def __init__(
        self,
        channel: str,
        query: str,
        committed: str = "",
        record_id: int = 0,
        notify: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(notify)
        self.channel = channel
        self.query = query
        self.committed = committed  # bookmark XML; "" until the first event (or start point)
        self.record_id = record_id

    def sent(self, origin: EventOrigin) -> EventOrigin:
        """`origin` is handed to the pipeline: it reports to this ledger from now on."""
        origin.ledger = self
        with self._lock:
            self._pending.add(origin)
        return origin

    def _commit(self, origin: EventOrigin) -> None:
        self.committed, self.record_id = origin.bookmark, origin.record_id

    def start_at(self, bookmark: str, record_id: int = 0) -> None:
        """A start point with nothing read yet (the newest event at a first start)."""
        with self._lock:
            if not self._pending:
                self.committed, self.record_id = bookmark, record_id
        if self._notify is not None:
            self._notify()

    def entry(self, now: float) -> dict[str, Any] | None:
        with self._lock:
            committed, record_id = self.committed, self.record_id
        if not committed:
            return None
        return {
            "channel": self.channel,
            "query": self.query,
            "bookmark": committed,
            "record_id": record_id,
            "seen": round(now, 3),
        }


def _entry_ok(entry: dict[str, Any]) -> bool:
    return (
        isinstance(entry.get("channel"), str)
        and isinstance(entry.get("query"), str)
        and isinstance(entry.get("bookmark"), str)
        and bool(entry["bookmark"])
        and isinstance(entry.get("record_id", 0), int)
    )


def load_entry(store: Any, channel: str, query: str) -> dict[str, Any] | None:
    """The stored bookmark of `channel` (claimed): the one of the same query, else any one
    (a changed query resumes at the same position in the channel)."""
    if store is None:
        return None
    entries = [e for e in store.entries(section_of(channel)) if _entry_ok(e)]
    same = [e for e in entries if e["query"] == query]
    chosen = (same or entries or [None])[0]
    if chosen is not None:
        store.claim(chosen)
    return chosen
