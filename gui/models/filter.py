"""Filtering of the live groups by pipeline and by text or regex; never sorts.

The filter decides in Python (it searches the groups' kept logs too), once per row when
rows arrive or the filter changes; the cells it shows come from the ring's Qt items,
so painting through it stays in C++. The live view attaches it only while a filter is set.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel

from gui.models.groups import GroupRingModel
from gui.summary import GroupSummary

__all__ = ["GroupFilterModel", "compile_filter"]


def compile_filter(text: str, regex: bool) -> re.Pattern[str]:
    """The pattern for the filter box (case-insensitive); re.error for a bad regex."""
    return re.compile(text if regex else re.escape(text), re.IGNORECASE)


class GroupFilterModel(QSortFilterProxyModel):
    """Rows of a GroupRingModel whose pipeline and text match; source order kept."""

    def __init__(self, source: GroupRingModel) -> None:
        super().__init__()
        self.setSourceModel(source)
        self._ring = source
        self._pipeline = ""
        self._pattern: re.Pattern[str] | None = None
        self._bytes_pattern: re.Pattern[bytes] | None = None

    @property
    def active(self) -> bool:
        return bool(self._pipeline or self._pattern)

    def set_pipeline(self, pipeline: str) -> None:
        """Only groups of `pipeline` ("" for all)."""
        self.beginFilterChange()
        self._pipeline = pipeline
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_pattern(self, pattern: re.Pattern[str] | None) -> None:
        """Only groups whose summary or kept logs match `pattern` (None for all)."""
        self.beginFilterChange()
        self._pattern = pattern
        self._bytes_pattern = _as_bytes(pattern) if pattern is not None else None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        g = self._ring.at(source_row)
        if self._pipeline and g.pipeline != self._pipeline:
            return False
        return self._pattern is None or self._matches(g)

    def _matches(self, g: GroupSummary) -> bool:
        assert self._pattern is not None
        fields = "\n".join((g.pipeline, g.source, g.topic, g.tags_text(), g.pack_id))
        if self._pattern.search(fields):
            return True
        for part in g.sample or ():
            if isinstance(part, list):
                if any(self._pattern.search(v) for log in part for v in log.contents.values()):
                    return True
            elif self._bytes_pattern is not None:
                if self._bytes_pattern.search(b"\n".join(part.lines())):
                    return True
            elif self._pattern.search(b"\n".join(part.lines()).decode("utf-8", "replace")):
                return True
        return False


def _as_bytes(pattern: re.Pattern[str]) -> re.Pattern[bytes] | None:
    """The same pattern over raw lines, which saves decoding them; None if it has no such form."""
    try:
        return re.compile(pattern.pattern.encode("utf-8"), pattern.flags & ~re.UNICODE)
    except re.error:
        return None
