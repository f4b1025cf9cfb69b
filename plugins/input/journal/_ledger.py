"""input_journal's checkpoint: the cursor every flusher has acknowledged.

Each batch of entries the reader hands over gets a `JournalOrigin` with the cursor of
its last entry, registered with the `CursorLedger` first (`sent`); `agent.acks` calls
`done` once every flusher has acknowledged all of the batch's logs. The committed
cursor is that of the last batch of the longest run of acknowledged batches from the
start, so a batch delivered before an earlier one cannot move it past entries still
on their way.

In the checkpoint store (section ``input_journal``) an entry is::

    {"id": "{\"identifiers\":[],\"kernel\":false,\"paths\":[],…}",
     "cursor": "s=…;i=…;b=…;m=…;t=…;x=…", "seen": 1767225600.5}

`id` names the journal read (JournalPaths; none: the system journal) and the filters:
an input whose filters changed starts over at its SeekPosition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.acks import OrderedLedger

__all__ = ["SECTION", "CursorLedger", "JournalOrigin", "claim_cursor"]

SECTION = "input_journal"


@dataclass(slots=True, eq=False)
class JournalOrigin:
    """Where a batch of entries ends in the journal (`cursor` of its last entry)."""

    cursor: str
    ledger: CursorLedger | None = None


class CursorLedger(OrderedLedger):
    """The acknowledged cursor of one input_journal; thread-safe."""

    def __init__(
        self, key: str, committed: str | None, notify: Callable[[], None] | None = None
    ) -> None:
        super().__init__(notify)
        self.key = key
        self.committed = committed

    def start_at(self, cursor: str) -> None:
        """Reading starts after `cursor` (a tail start): nothing before it is wanted."""
        with self._lock:
            if self._pending:
                return
            self.committed = cursor
        if self._notify is not None:
            self._notify()

    def sent(self, cursor: str) -> JournalOrigin:
        """A batch ending at `cursor` is handed to the pipeline: its origin."""
        origin = JournalOrigin(cursor, self)
        with self._lock:
            self._pending.add(origin)
        return origin

    def _commit(self, origin: JournalOrigin) -> None:
        self.committed = origin.cursor

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        """The checkpoint entry (none before a first cursor is known)."""
        with self._lock:
            committed = self.committed
        if committed is None:
            return []
        return [{"id": self.key, "cursor": committed, "seen": round(now, 3)}]


def claim_cursor(store: Any, key: str) -> str | None:
    """The committed cursor the store holds for `key` (taken over), or None."""
    if store is None:
        return None
    for entry in store.entries(SECTION):
        cursor = entry.get("cursor")
        if entry.get("id") == key and isinstance(cursor, str) and cursor:
            store.claim(entry)
            return cursor
    return None
