"""The live groups' ring model: bounded, one remove and one insert range per tick."""

import pytest
from PySide6.QtCore import Qt

from gui.models.groups import DEFAULT_CAPACITY, GroupRingModel
from gui.models.ring import RingTableModel
from gui.summary import GroupSummary, LineSample

SAMPLE = [LineSample.of("content", 0, [b"a log line"] * 10)]


def summary(i: int, sample_bytes: int = 0) -> GroupSummary:
    return GroupSummary(
        time=1_700_000_000 + i,
        pipeline="p" if i % 2 else "q",
        source=f"/logs/{i % 3}.log",
        topic="",
        count=i,
        bytes=i * 10,
        tags=(("host", "h"),),
        pack_id=f"AB-{i:x}",
        sample=SAMPLE if sample_bytes else None,
        sample_bytes=sample_bytes,
    )


class RangeSpy:
    def __init__(self, model: GroupRingModel) -> None:
        self.removed: list[tuple[int, int]] = []
        self.inserted: list[tuple[int, int]] = []
        self.changed: list[tuple[int, int]] = []
        model.rowsRemoved.connect(lambda _, a, b: self.removed.append((a, b)))
        model.rowsInserted.connect(lambda _, a, b: self.inserted.append((a, b)))
        model.dataChanged.connect(lambda a, b: self.changed.append((a.row(), b.row())))


def test_ring_model_passes_the_model_tester_while_it_fills_and_evicts(qtmodeltester):
    model = GroupRingModel(capacity=50)
    model.append([summary(i) for i in range(20)])
    qtmodeltester.check(model)
    for start in range(20, 300, 37):
        model.append([summary(i) for i in range(start, start + 37)])
    model.set_held(True)
    model.append([summary(i) for i in range(5)])
    model.set_held(False)
    model.clear_rows()
    model.append([summary(1)])


def test_ring_model_stays_bounded_under_100_000_groups():
    model = GroupRingModel()
    spy = RangeSpy(model)
    total = 100_000
    per_tick = 1_000
    for start in range(0, total, per_tick):
        model.append([summary(i, 4096) for i in range(start, start + per_tick)])
    assert model.rowCount() == DEFAULT_CAPACITY
    assert model.not_kept == total - DEFAULT_CAPACITY and model.total == total
    assert model.at(0).count == total - DEFAULT_CAPACITY
    assert model.at(DEFAULT_CAPACITY - 1).count == total - 1
    # One insert range per tick, and a remove range only once the ring is full.
    assert len(spy.inserted) == total // per_tick
    assert len(spy.removed) == (total - DEFAULT_CAPACITY) // per_tick
    assert all(b - a + 1 == per_tick for a, b in spy.inserted + spy.removed)
    assert model.sample_bytes <= model.sample_budget


def test_the_logs_of_old_groups_go_first_when_the_sample_budget_is_spent():
    model = GroupRingModel(capacity=100)
    model.sample_budget = 10 * 1000
    model.append([summary(i, 1000) for i in range(30)])
    kept = [g.sample is not None for g in model.entries()]
    assert kept == [False] * 20 + [True] * 10
    assert model.sample_bytes == 10 * 1000


def test_a_tick_larger_than_the_ring_keeps_its_newest_groups():
    model = GroupRingModel(capacity=10)
    spy = RangeSpy(model)
    model.append([summary(i) for i in range(5)])
    model.append([summary(i) for i in range(5, 30)], lost=7)
    assert [g.count for g in model.entries()] == list(range(20, 30))
    assert model.not_kept == 7 + 15 + 5
    assert spy.removed == [(0, 4)] and spy.inserted == [(0, 4), (0, 9)]
    assert spy.changed == []


def test_holding_the_display_queues_groups_boundedly_and_releases_them_at_once():
    model = GroupRingModel(capacity=10)
    model.append([summary(i) for i in range(3)])
    model.set_held(True)
    model.append([summary(i) for i in range(3, 18)])
    assert model.rowCount() == 3 and model.pending == 10 and model.not_kept == 5
    spy = RangeSpy(model)
    model.set_held(False)
    assert [g.count for g in model.entries()] == list(range(8, 18))
    assert len(spy.inserted) == 1 and len(spy.removed) == 1


def test_cells_show_the_summary_once_its_row_is_shown():
    model = GroupRingModel(capacity=4)
    model.append([summary(1234)])
    assert model.index(0, 1).data() is None  # a row holds no cells until a view shows it
    assert model.texts(0)[1] == "q"  # what the ring answers for rows not shown (copying)
    model.show_rows([0])
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[1:] == ["q", "/logs/1.log", "", "1,234", "12.1 KiB", "host=h", "AB-4d2"]
    assert model.index(0, 4).data(Qt.ItemDataRole.TextAlignmentRole) is not None
    assert model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole) == "/logs/1.log"
    assert model.at(0).count == 1234


def test_only_the_rows_last_shown_hold_cells_while_rows_come_and_go():
    model = GroupRingModel(capacity=100)
    spy = RangeSpy(model)
    for tick in range(30):  # 30 ticks of 40: the first 1,100 rows leave at the front
        model.append([summary(tick * 40 + i) for i in range(40)])
        bottom = range(model.rowCount() - 10, model.rowCount())  # a viewport following
        model.show_rows(bottom)
        shown = [r for r in range(model.rowCount()) if model.index(r, 7).data() is not None]
        assert shown == list(bottom)
        assert [model.index(r, 7).data() for r in shown] == [model.texts(r)[7] for r in bottom]
        assert model.shown_count == 10
    assert len(spy.removed) == 28  # one remove range per tick once full
    model.show_rows(range(3))  # scrolled to the top
    assert [r for r in range(100) if model.index(r, 0).data() is not None] == [0, 1, 2]
    model.hide_all()
    assert model.shown_count == 0 and model.index(0, 0).data() is None


def test_rows_keep_their_cells_when_older_rows_leave_above_them():
    model = GroupRingModel(capacity=10)
    model.append([summary(i) for i in range(10)])
    model.show_rows(range(6, 10))
    model.append([summary(i) for i in range(10, 13)])  # rows 0-2 leave; 6-9 become 3-6
    assert [model.index(r, 7).data() for r in range(3, 7)] == [
        model.texts(r)[7] for r in range(3, 7)
    ]
    model.show_rows(range(7, 10))  # the new rows come into view; rows 3-6 give theirs up
    assert [r for r in range(10) if model.index(r, 7).data() is not None] == [7, 8, 9]


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        GroupRingModel(capacity=0)


def test_the_quick_row_cells_agree_with_cell():
    model = GroupRingModel(capacity=4)
    for g in (summary(0), summary(1234, 10), summary(99_999_999)):
        assert model.row_cells(g) == RingTableModel.row_cells(model, g)
