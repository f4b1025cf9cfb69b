"""The detail, events, files and filter models: model-tester clean and showing the right cells."""

import re

from PySide6.QtCore import Qt

from agent.events import Event
from agent.protocol import Log, LogBatch, LogGroup
from gui.models.detail import LogDetailModel
from gui.models.events import EventsModel
from gui.models.files import FilesModel
from gui.models.filter import GroupFilterModel, compile_filter
from gui.models.groups import GroupRingModel
from gui.summary import summarise
from gui.theme import level_colour


def group_of(pipeline: str, *contents: dict[str, str]) -> LogGroup:
    return LogGroup(logs=[Log(1_700_000_000, dict(c)) for c in contents], source=pipeline + ".log")


def test_detail_model_has_a_column_per_content_key_and_colours_levels(qtmodeltester):
    model = LogDetailModel()
    qtmodeltester.check(model)
    g = summarise(
        "p",
        group_of("p", {"level": "ERROR", "msg": "disk full"}, {"level": "info", "code": "7"}),
    )
    model.show_group(g)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["time", "level", "msg", "code"]
    assert model.index(0, 2).data() == "disk full" and model.index(1, 2).data() == ""
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) == level_colour("ERROR", False)
    assert model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    model.show_group(None)
    assert model.rowCount() == 0


def test_detail_model_without_a_level_field_does_not_colour():
    model = LogDetailModel()
    model.show_group(summarise("p", group_of("p", {"content": "[error] something"})))
    assert model.level_key is None
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None


def test_detail_model_says_when_the_logs_were_let_go():
    model = LogDetailModel()
    g = summarise("p", group_of("p", {"content": "x"}))
    g.sample = None
    model.show_group(g)
    assert model.missing_logs and model.rowCount() == 0


def test_events_model_describes_queue_full_and_is_bounded(qtmodeltester):
    model = EventsModel(capacity=3)
    qtmodeltester.check(model)
    full = Event(
        "queue_full",
        "web",
        {"aggregator": "aggregator_default", "depth": 4, "capacity": 4, "flusher": "flusher_file"},
    )
    model.append([full, Event("warning", "web", {"message": "hm"})])
    model.show_rows(range(2))  # what a view does for the rows in its viewport
    assert "flusher_file" in model.index(0, 3).data()
    assert model.index(0, 3).data(Qt.ItemDataRole.ForegroundRole) is not None
    model.append([Event("queue_recovered", "web", {"duration": 2.5, "rejected": 9})] * 3)
    assert model.rowCount() == 3 and model.not_kept == 2
    model.show_rows(range(3))
    assert "2.5 s (9 adds waited)" in model.index(2, 3).data()


def test_files_model_updates_rows_in_place_and_computes_lines_per_second(qtmodeltester):
    model = FilesModel()
    qtmodeltester.check(model)

    def f(path, lines, error=""):
        return {
            "path": path,
            "size": 2048,
            "offset": 1024,
            "lag": 1024,
            "lines": lines,
            "last_error": error,
        }

    model.update({"p": (10.0, [f("/a", 0), f("/b", 0)])})
    model.update({"p": (12.0, [f("/a", 100), f("/c", 5, "permission denied")])})
    rows = [[model.index(r, c).data() for c in range(7)] for r in range(model.rowCount())]
    assert [r[1] for r in rows] == ["/a", "/c"]
    assert rows[0][2:6] == ["2.0 KiB", "1.0 KiB", "1.0 KiB", "50"]
    assert model.index(1, 6).data(Qt.ItemDataRole.ForegroundRole) is not None
    model.update({})
    assert model.rowCount() == 0


def test_filter_model_selects_by_pipeline_and_by_text_in_logs(qtmodeltester):
    ring = GroupRingModel(capacity=100)
    proxy = GroupFilterModel(ring)
    qtmodeltester.check(proxy)
    ring.append(
        [
            summarise("web", group_of("web", {"content": "GET /index 200"})),
            summarise("db", group_of("db", {"content": "slow query 5s"})),
            summarise("web", group_of("web", {"content": "GET /admin 500"})),
        ]
    )
    proxy.set_pipeline("web")
    assert proxy.rowCount() == 2
    proxy.set_pattern(compile_filter("admin", regex=False))
    assert proxy.rowCount() == 1
    proxy.set_pipeline("")
    proxy.set_pattern(compile_filter(r"\b5\d\d\b|slow", regex=True))
    assert proxy.rowCount() == 2
    proxy.set_pattern(compile_filter("db.log", regex=False))  # the source matches
    assert proxy.rowCount() == 1
    ring.append([summarise("db", group_of("db", {"content": "x"}))])
    assert proxy.rowCount() == 2
    raw = LogGroup(source="raw.log")
    raw.extend_batch(LogBatch([b"GET /secret 403", b"ok"], 0), 0, 2)
    ring.append([summarise("web", raw)])
    proxy.set_pattern(compile_filter(r"secret \d+", regex=True))  # searched in the raw lines
    assert proxy.rowCount() == 1
    proxy.set_pattern(None)
    assert proxy.rowCount() == 5


def test_plain_filter_text_is_not_a_regex():
    assert compile_filter("a.b(", regex=False).search("xa.b(y")
    assert not compile_filter("a.b", regex=False).search("axb")
    assert compile_filter("ERROR", regex=False).search("error") is not None
    assert isinstance(compile_filter("x+", regex=True), re.Pattern)
