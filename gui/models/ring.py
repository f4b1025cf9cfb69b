"""A bounded table of the latest N items: the base of the live groups and events tables.

Each `append` changes the table with at most one remove range (the oldest rows that no
longer fit) and one insert range (the new rows at the end). Items it had to let go —
evicted, dropped before they arrived, or beyond the bound while the display is held —
are counted in `not_kept`.

Under a busy agent every call from Qt into Python waits for the GIL, and a paint of
a plain QAbstractTableModel makes thousands (`index()` alone asks `rowCount()` and
`columnCount()` for every cell). So the rows are counted in C++: the base is a
QStandardItemModel holding empty rows (never items: its per-item bookkeeping makes
removal at the front slow down without bound), and only the cells' content comes from
Python, one `multiData` call per cell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItemModel

from gui.models.table import Cells, Index

__all__ = ["RingTableModel"]


class RingTableModel[T](Cells, QStandardItemModel):
    """The latest `capacity` items, oldest first; subclasses say what each cell shows."""

    columns: tuple[str, ...] = ()
    not_kept_changed = Signal(int)

    def __init__(self, capacity: int, parent: Any = None) -> None:
        super().__init__(0, len(self.columns), parent)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.setHorizontalHeaderLabels(list(self.columns))
        self.capacity = capacity
        self._items: deque[T] = deque()
        self.not_kept = 0
        self.total = 0  # items ever offered, kept or not
        self._held = False
        self._pending: deque[T] = deque()
        # Connected first, so the Python rows change exactly when Qt's do: receivers of
        # rowsAboutToBeRemoved still see the old rows, those of rowsRemoved the new.
        self.rowsRemoved.connect(self._rows_removed)

    # -- for subclasses: `cell(item, column, role)`, and -----------------------------------

    def _added(self, item: T) -> None:
        """An item became a row."""

    def _let_go(self, item: T) -> None:
        """An item left (evicted) or never became a row."""

    # -- Cells (flags stay QStandardItemModel's, in C++; views here do not edit) ---------

    def row_count(self) -> int:
        return len(self._items)

    def at(self, row: int) -> T:
        return self._items[row]

    # -- the ring ------------------------------------------------------------------------

    def entries(self) -> list[T]:
        return list(self._items)

    @property
    def held(self) -> bool:
        return self._held

    def set_held(self, held: bool) -> None:
        """Hold the display: new items wait (bounded) and appear when released."""
        if held == self._held:
            return
        self._held = held
        if not held:
            pending, self._pending = list(self._pending), deque()
            self._insert(pending)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def append(self, items: Sequence[T], lost: int = 0) -> None:
        """Add a tick's items; `lost` counts items dropped before they got here."""
        self.total += len(items) + lost
        self._count_not_kept(lost)
        if not self._held:
            self._insert(items)
            return
        self._pending.extend(items)
        overflow = max(0, len(self._pending) - self.capacity)
        for _ in range(overflow):
            self._let_go(self._pending.popleft())
        self._count_not_kept(overflow)

    def clear_rows(self) -> None:
        if self._items:
            self.removeRows(0, len(self._items))

    def _rows_removed(self, parent: Index, first: int, last: int) -> None:
        self._items.rotate(-first)
        for _ in range(last - first + 1):
            self._let_go(self._items.popleft())
        self._items.rotate(first)

    def _insert(self, items: Sequence[T]) -> None:
        if not items:
            return
        if len(items) > self.capacity:
            skipped = len(items) - self.capacity
            for item in items[:skipped]:
                self._let_go(item)
            self._count_not_kept(skipped)
            items = items[skipped:]
        evict = max(0, len(self._items) + len(items) - self.capacity)
        if evict:
            self.removeRows(0, evict)
            self._count_not_kept(evict)
        first = len(self._items)
        self._items.extend(items)
        for item in items:
            self._added(item)
        self.insertRows(first, len(items))

    def _count_not_kept(self, n: int) -> None:
        if n:
            self.not_kept += n
            self.not_kept_changed.emit(self.not_kept)
