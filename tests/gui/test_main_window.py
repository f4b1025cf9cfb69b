"""The main window around a running agent: live groups, follow and hold, status, quitting."""

import orjson
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from gui.app import settings
from gui.bridge import AgentBridge
from gui.windows.live_view import export_groups
from gui.windows.main_window import MainWindow
from tests.gui.conftest import file_pipeline, write_lines


def run(make_window, tmp_path, lines=50, **agg):
    (tmp_path / "in").mkdir(exist_ok=True)
    write_lines(tmp_path / "in" / "app.log", lines)
    config = file_pipeline("web", tmp_path / "in" / "*.log", tmp_path / "out.jsonl", **agg)
    return make_window([config])


def test_delivered_groups_reach_the_live_view_with_their_logs(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=30, MaxLogCount=10)
    live = window.live
    qtbot.waitUntil(lambda: sum(g.count for g in live.model.entries()) == 30, timeout=10_000)
    assert live.model.rowCount() == 3
    assert live.pipelines.findData("web") >= 0
    live.table.selectRow(1)
    assert live.detail.rowCount() == 10
    assert live.detail.index(0, 1).data() == "line 10"
    assert "web" in live.group_info.text() and "pack id: " in live.group_info.text()
    assert "3 groups shown" in window.counts.text()


def select_rows(view, rows):
    model = view.selectionModel()
    for row in rows:
        model.select(
            view.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def test_copy_and_export_the_selection(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=20, MaxLogCount=10)
    live = window.live
    qtbot.waitUntil(lambda: live.model.rowCount() == 2, timeout=10_000)
    select_rows(live.table, [0, 1])
    live.table.setFocus()
    qtbot.keyClick(live.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0].split("\t")[:3] == ["Time", "Pipeline", "Source"]
    assert len(copied) == 3 and copied[1].split("\t")[1] == "web"
    out = tmp_path / "export.jsonl"
    export_groups(live.selected_groups(), out)
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["log_count"] for r in records] == [10, 10]
    assert records[1]["logs"][0]["contents"] == {"content": "line 10"}


def test_follow_pauses_when_scrolled_up_and_resumes_at_the_bottom(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=600, MaxLogCount=5, MaxLogGroupCount=1)
    live = window.live
    bar = live.table.verticalScrollBar()
    qtbot.waitUntil(lambda: live.model.rowCount() == 120, timeout=10_000)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    assert live.follow
    bar.setValue(3)  # the user scrolls up
    assert not live.follow and not live.follow_button.isChecked()
    top = live.table.indexAt(live.table.viewport().rect().topLeft()).row()
    write_lines(tmp_path / "in" / "app.log", 50, start=600)
    qtbot.waitUntil(lambda: live.model.rowCount() == 130, timeout=10_000)
    assert live.table.indexAt(live.table.viewport().rect().topLeft()).row() == top
    bar.setValue(bar.maximum())  # back at the bottom
    assert live.follow and live.follow_button.isChecked()


def test_the_ring_drops_the_oldest_rows_and_keeps_what_is_read_in_place(idle_window):
    from tests.gui.test_ring_model import summary

    live = idle_window.live
    live.model.capacity = 250  # reached by the second tick
    live.add_groups([summary(i) for i in range(200)], 0)
    live.set_follow(False)
    live.table.verticalScrollBar().setValue(120)

    def top():
        return live.model.at(live.table.indexAt(live.table.viewport().rect().topLeft()).row())

    first = top()
    live.add_groups([summary(i) for i in range(200, 260)], 0)
    assert live.model.not_kept == 10 and top() is first
    # Left out of the table only: the status bar says they were delivered.
    assert idle_window.counts.text().endswith("· 10 more delivered, not listed")


def test_pausing_the_display_holds_rows_while_the_agent_keeps_working(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=10, MaxLogCount=10)
    live = window.live
    qtbot.waitUntil(lambda: live.model.rowCount() == 1, timeout=10_000)
    window.hold_action.trigger()
    assert live.model.held and live.hold_button.text() == "Resume display"
    write_lines(tmp_path / "in" / "app.log", 10, start=10)
    qtbot.waitUntil(lambda: live.model.pending == 1, timeout=10_000)
    assert live.model.rowCount() == 1 and "1 waiting (display paused)" in window.counts.text()
    live.hold_button.click()
    assert live.model.rowCount() == 2 and not window.hold_action.isChecked()


def test_filtering_by_text_and_pipeline(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=20, MaxLogCount=10)
    live = window.live
    qtbot.waitUntil(lambda: live.model.rowCount() == 2, timeout=10_000)
    qtbot.keyClicks(live.filter, "line 15")
    assert live.shown_rows() == 1
    live.regex.setChecked(True)
    live.filter.setText("line 1[0-9](")
    assert "Not a valid regular expression" in live.filter.toolTip()
    assert live.shown_rows() == 1  # the last valid filter stays
    live.filter.setText(r"line [0-9]$")
    assert live.shown_rows() == 1
    live.filter.clear()
    live.pipelines.setCurrentIndex(live.pipelines.findData("web"))
    assert live.shown_rows() == 2


def test_pause_all_holds_the_inputs_and_resume_reads_on(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=10, MaxLogCount=10)
    pipeline = window.bridge.agent.pipelines["web"]
    qtbot.waitUntil(lambda: pipeline.metrics.delivered_logs == 10, timeout=10_000)
    window.pause_action.trigger()
    assert window.bridge.agent.paused and "paused" in window.agent_state.text()
    log = tmp_path / "in" / "app.log"
    write_lines(log, 10, start=10)
    size = log.stat().st_size
    # The stat pass sees the file grow; nothing of it is handed over while paused.
    qtbot.waitUntil(
        lambda: any(f.size == size for f in pipeline.metrics.files.values()), timeout=10_000
    )
    assert pipeline.metrics.logs == 10
    window.pause_action.trigger()
    qtbot.waitUntil(lambda: pipeline.metrics.delivered_logs == 20, timeout=10_000)


def test_status_view_and_log_panel_follow_the_agent(qtbot, make_window, tmp_path):
    window = run(make_window, tmp_path, lines=10, MaxLogCount=10)
    pipeline = window.bridge.agent.pipelines["web"]
    qtbot.waitUntil(lambda: pipeline.metrics.delivered_logs == 10, timeout=10_000)
    window.bridge.sample()
    qtbot.waitUntil(lambda: "web" in window.status_view.cards)
    card = window.status_view.cards["web"]
    assert "1 groups flushed" in card.counters.text() and card.gauge.maximum == 4
    assert window.status_view.files.rowCount() == 1
    assert window.status_view.files.index(0, 1).data() == str(tmp_path / "in" / "app.log")
    import logging

    logging.getLogger("tailbox.test").warning("a line for the panel")
    qtbot.waitUntil(lambda: "a line for the panel" in window.log.toPlainText())


def test_closing_the_window_without_a_tray_quits_with_a_final_flush(qtbot, make_window, tmp_path):
    # A long flush interval: only the final flush can deliver these lines.
    window = run(make_window, tmp_path, lines=7, interval_ms=600_000)
    pipeline = window.bridge.agent.pipelines["web"]
    qtbot.waitUntil(lambda: pipeline.metrics.logs == 7, timeout=10_000)
    assert pipeline.metrics.delivered_logs == 0
    with qtbot.waitSignal(window.stopped, timeout=15_000) as stopped:
        window.close()
    assert stopped.args == [True], window.bridge.agent.events.history()
    assert pipeline.metrics.delivered_logs == 7 and not window.bridge.agent.pipelines
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1


def test_window_geometry_and_tab_are_remembered(qtbot, idle_window):
    idle_window.show()
    qtbot.waitExposed(idle_window)
    idle_window.resize(700, 560)  # within the offscreen screen (800x800)
    idle_window.tabs.setCurrentIndex(2)
    idle_window._save()
    again = MainWindow(AgentBridge(), [], settings())
    qtbot.addWidget(again)
    again.bridge.close()
    assert (again.width(), again.height()) == (700, 560)
    assert again.tabs.currentIndex() == 2


def test_keyboard_shortcuts_switch_tabs_and_find(idle_window):
    shortcuts = {
        a.shortcut().toString(): a.text()
        for a in idle_window.actions()
        if not a.shortcut().isEmpty()
    }
    assert shortcuts["Ctrl+5"] == "Configure" and shortcuts["Ctrl+Q"] == "Quit"
    assert (
        shortcuts["Ctrl+Shift+P"] == "Pause all pipelines"
        and shortcuts["Ctrl+P"] == "Pause display"
    )
    idle_window.tabs.setCurrentIndex(4)
    idle_window.focus_filter()
    assert idle_window.tabs.currentWidget() is idle_window.live


def test_start_at_login_toggles_the_autostart_entry(qtbot, tmp_path):
    from gui.autostart import LinuxAutostart

    autostart = LinuxAutostart(tmp_path, ["tailbox"])
    window = MainWindow(AgentBridge(), [], settings(), autostart=autostart)
    qtbot.addWidget(window)
    window.bridge.close()
    assert window.autostart_action.isEnabled() and not window.autostart_action.isChecked()
    window.autostart_action.trigger()
    assert autostart.enabled()
    window.autostart_action.trigger()
    assert not autostart.enabled()
