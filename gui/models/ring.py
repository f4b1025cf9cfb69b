"""A bounded table of the latest N items: the base of the live groups and events tables.

Each `append` changes the table with at most one remove range (the oldest rows that no
longer fit) and one insert range (the new rows at the end). Items it had to let go —
evicted, dropped before they arrived, or beyond the bound while the display is held —
are counted in `not_kept`.

A paint must not call Python. Under full-speed ingest every call from Qt into Python
waits for the GIL behind the agent's threads, and a table that asks Python for each
cell stalled the window 100+ ms per paint. So the cells a view paints live in C++: the
base is a QStandardItemModel of empty rows, and `show_rows` writes the cells of the
rows a view is about to show (its viewport, see RowTable) into Qt items, once per row,
from the GUI thread's tick; rows that leave the view give their items up. So Qt holds
items for a screenful of rows, and a tick costs per row shown, never per row kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel

from gui.models.table import Index

__all__ = ["RingTableModel"]


class RingTableModel[T](QStandardItemModel):
    """The latest `capacity` items, oldest first; subclasses say what each cell shows."""

    columns: tuple[str, ...] = ()
    # The roles `cell` answers; each shown cell stores those that are not None.
    roles: tuple[Qt.ItemDataRole, ...] = (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
    )
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
        # Rows holding Qt items, by sequence number (row + _first_seq): only those a view
        # shows. An item that outlives many removals above it costs Qt a search as long
        # as the rows removed since when it is deleted, so none is kept longer than needed.
        self._shown: dict[int, T] = {}
        self._first_seq = 0  # of the first row
        # Connected first, so the Python rows change exactly when Qt's do: receivers of
        # rowsAboutToBeRemoved still see the old rows, those of rowsRemoved the new.
        self.rowsRemoved.connect(self._rows_removed)

    # -- for subclasses: `cell(item, column, role)`, and -----------------------------------

    def _added(self, items: Sequence[T]) -> None:
        """Items became rows, oldest first (one call per tick)."""

    def _let_go(self, item: T) -> None:
        """An item left (evicted) or never became a row."""

    def cell(self, item: T, column: int, role: int) -> Any:
        """What `role` of `column` shows for `item`; None for nothing."""
        raise NotImplementedError

    def row_cells(self, item: T) -> list[dict[int, Any]]:
        """Each column's roles and values for `item` (from `cell`; override to be quicker)."""
        cells = []
        for column in range(len(self.columns)):
            values = {}
            for role in self.roles:
                value = self.cell(item, column, role)
                if value is not None:
                    values[role] = value
            cells.append(values)
        return cells

    # -- rows --------------------------------------------------------------------------

    def row_count(self) -> int:
        return len(self._items)

    def at(self, row: int) -> T:
        return self._items[row]

    def texts(self, row: int) -> list[str]:
        """What the row's cells show, whether or not it holds items yet (override to be
        quicker than a `cell` call per column)."""
        item = self._items[row]
        values = (self.cell(item, c, Qt.ItemDataRole.DisplayRole) for c in range(len(self.columns)))
        return ["" if value is None else str(value) for value in values]

    # -- the cells in C++ ----------------------------------------------------------------

    def show_rows(self, rows: Iterable[int], keep: Iterable[int] = ()) -> None:
        """Give these rows their cells (others ignored); every other row gives its up,
        but those in `keep`: emptying a row drops the selection and the current index
        on it (Qt invalidates the persistent indexes of an item it lets go)."""
        items, shown, first_seq = self._items, self._shown, self._first_seq
        wanted = {first_seq + row: items[row] for row in rows if 0 <= row < len(items)}
        kept = {first_seq + row for row in keep}
        for seq, item in list(shown.items()):
            if wanted.get(seq) is not item and seq not in kept:
                self._empty_row(self._row_of(seq, item))
                del shown[seq]
        index, set_cell = self.index, self.setItemData
        for seq, item in wanted.items():
            if seq in shown:
                continue
            shown[seq] = item
            row = seq - first_seq
            for column, values in enumerate(self.row_cells(item)):
                set_cell(index(row, column), values)

    def hide_all(self) -> None:
        """Empty every row: they get their cells again when next shown."""
        self.show_rows(())

    def refresh_shown(self) -> None:
        """Write the shown rows' cells again, in place (what they show changed: the theme)."""
        index, set_cell = self.index, self.setItemData
        for seq, item in self._shown.items():
            row = self._row_of(seq, item)
            if row is not None:
                for column, values in enumerate(self.row_cells(item)):
                    set_cell(index(row, column), values)

    @property
    def shown_count(self) -> int:
        """How many rows hold cells: those a view showed last."""
        return len(self._shown)

    def _row_of(self, seq: int, item: T) -> int | None:
        row = seq - self._first_seq
        if 0 <= row < len(self._items) and self._items[row] is item:
            return row
        # Rows left from the middle (only Qt's API does that): look for it.
        return next((r for r, other in enumerate(self._items) if other is item), None)

    def _empty_row(self, row: int | None) -> None:
        if row is not None:
            for column in range(len(self.columns)):
                self.takeItem(row, column)  # deleted now; the row stays, empty

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
        items, shown = self._items, self._shown
        low, high = self._first_seq + first, self._first_seq + last
        for seq in [seq for seq in shown if low <= seq <= high]:  # a screenful at most
            del shown[seq]
        items.rotate(-first)
        for _ in range(last - first + 1):
            self._let_go(items.popleft())
        items.rotate(first)
        if first == 0:
            self._first_seq += last + 1

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
        self._added(items)
        self.insertRows(first, len(items))

    def _count_not_kept(self, n: int) -> None:
        if n:
            self.not_kept += n
            self.not_kept_changed.emit(self.not_kept)
