"""The live tables paint from Qt items: the rows in view hold cells, and a paint calls no Python.

Under full-speed ingest every call from Qt into Python waits for the GIL behind the
agent's threads; a paint that asked Python for each cell stalled the window 100+ ms.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from agent.events import Event
from gui.bridge import Tick
from gui.summary import MIN_SAMPLE_LOGS, summarise
from gui.theme import level_colour
from gui.windows.live_view import LiveView
from gui.windows.panels import EventsPanel
from tests.gui.test_ring_model import summary
from tests.gui.test_summary import batch_group

_OWN = {__file__, contextmanager.__code__.co_filename}  # this helper's own frames


@contextmanager
def python_calls() -> Iterator[list[str]]:
    """The Python functions this thread runs meanwhile (Qt's calls into Python included)."""
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename not in _OWN:
            calls.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def rows_with_cells(view: LiveView) -> list[int]:
    model = view.table.model()
    return [r for r in range(model.rowCount()) if model.index(r, 7).data() is not None]


def live_view(qtbot, groups: int) -> LiveView:  # type: ignore[no-untyped-def]
    view = LiveView(capacity=1_000)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    for start in range(0, groups, 100):  # ticks of 100 groups
        view.add_groups([summary(i) for i in range(start, start + 100)], 0)
    return view


def test_the_rows_in_view_hold_their_cells_and_no_others(qtbot):
    view = live_view(qtbot, 3_000)  # the ring is full and evicting
    visible = view.table.visible_rows()
    assert visible.stop == view.model.rowCount()  # following the newest
    assert 5 < len(visible) < 60
    assert rows_with_cells(view) == list(visible)
    for row in visible:
        assert view.table.model().index(row, 7).data() == view.model.at(row).pack_id


def test_a_paint_of_the_live_table_calls_no_python(qtbot):
    view = live_view(qtbot, 3_000)
    view.table.viewport().repaint()  # the first paint may lay out; measure a later one
    view.add_groups([summary(i) for i in range(3_000, 3_100)], 0)
    with python_calls() as calls:
        view.table.viewport().repaint()
    assert calls == []


def test_scrolling_shows_the_rows_that_come_into_view(qtbot):
    view = live_view(qtbot, 600)
    view.set_follow(False)
    view.table.scrollToTop()
    qtbot.waitUntil(lambda: rows_with_cells(view)[:1] == [0])
    assert rows_with_cells(view) == list(view.table.visible_rows())
    assert view.table.model().index(0, 7).data() == view.model.at(0).pack_id


def test_a_filter_shows_its_rows_with_cells_and_clearing_it_shows_the_ring_again(qtbot):
    view = live_view(qtbot, 300)
    view.regex.setChecked(True)
    view.filter.setText(r"AB-1[0-9a-f]$")  # pack ids AB-10 … AB-1f: 16 groups
    assert view.shown_rows() == 16 and view.table.model() is view.proxy
    visible = view.table.visible_rows()  # the newest of them, following
    assert visible.stop == 16
    qtbot.waitUntil(lambda: rows_with_cells(view) == list(visible))
    proxy = view.table.model()
    assert [proxy.index(r, 7).data() for r in visible] == [f"AB-1{r:x}" for r in visible]
    view.filter.clear()
    assert view.table.model() is view.model and view.proxy.sourceModel() is None
    assert view.shown_rows() == 300
    qtbot.waitUntil(lambda: rows_with_cells(view) == list(view.table.visible_rows()))


def test_a_selection_survives_scrolling_away_and_rows_never_shown_copy_their_text(qtbot):
    view = live_view(qtbot, 300)
    assert view.table.selected_tsv().count("\n") == 1  # nothing selected: the header alone
    view.table.selectRow(0)  # scrolls up to it
    view.set_follow(True)  # and away again
    view.add_groups([summary(i) for i in range(300, 400)], 0)
    assert view.table.selected_rows() == [0]  # its cells stayed: Qt keeps the selection
    assert view.model.index(0, 7).data() == "AB-0"
    never_shown = range(40, 43)  # far above the rows in view since the first tick
    assert all(view.model.index(r, 7).data() is None for r in never_shown)
    view.table.clearSelection()
    selection = view.table.selectionModel()
    for row in never_shown:
        selection.select(
            view.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    rows = view.table.selected_tsv().splitlines()[1:]
    assert [r.split("\t")[7] for r in rows] == ["AB-28", "AB-29", "AB-2a"]


def test_a_hidden_events_table_shows_its_newest_rows_when_it_comes_into_view(qtbot):
    panel = EventsPanel()
    qtbot.addWidget(panel)
    panel.add([Event("warning", "web", {"message": f"m{i}"}) for i in range(50)], 0)
    assert panel.model.shown_count == 0  # hidden: nothing written for it
    panel.resize(700, 400)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.shown_count > 0)
    bar = panel.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())  # newest
    visible = panel.table.visible_rows()
    assert visible.stop == 50
    model = panel.model
    assert [r for r in range(50) if model.index(r, 3).data() is not None] == list(visible)
    assert [model.index(r, 3).data() for r in visible] == [f"m{r}" for r in visible]


def test_the_detail_pane_says_how_many_logs_a_group_kept_and_why(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    lines = [b"line %d" % i for i in range(500)]
    view.show_group(summarise("p", batch_group(lines)))
    assert "Showing the first 200 of its 500 logs." in view.group_info.text()
    assert view.detail.rowCount() == 200
    view.show_group(summarise("p", batch_group(lines), max_logs=MIN_SAMPLE_LOGS))
    assert "Showing the first 10 of its 500 logs: groups arrived faster" in view.group_info.text()
    assert view.detail.rowCount() == 10
    view.show_group(summarise("p", batch_group(lines[:3])))
    assert "Showing" not in view.group_info.text() and view.detail.rowCount() == 3


def test_event_colours_follow_a_theme_change_and_the_selection_stays(qtbot, idle_window):
    window = idle_window
    window.tabs.setCurrentWidget(window.events)
    failed = Event("flusher_error", "otel", {"flusher": "flusher_otlp", "error": "refused"})
    window.on_tick(Tick(events=[failed] * 3))
    model, table = window.events.model, window.events.table
    qtbot.waitUntil(lambda: model.shown_count == 3)
    table.selectRow(1)
    colour = Qt.ItemDataRole.ForegroundRole
    assert model.index(1, 3).data(colour) == level_colour("error", dark=False)
    light = QApplication.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202020"))
    try:
        QApplication.setPalette(dark)
        qtbot.waitUntil(lambda: model.index(1, 3).data(colour) == level_colour("error", True))
        assert table.selected_rows() == [1]
    finally:
        QApplication.setPalette(light)


def test_a_taller_window_shows_the_rows_that_come_into_view(qtbot):
    view = live_view(qtbot, 600)
    before = view.table.visible_rows()
    view.resize(900, 1000)
    qtbot.waitUntil(lambda: len(view.table.visible_rows()) > len(before))
    qtbot.waitUntil(lambda: rows_with_cells(view) == list(view.table.visible_rows()))
