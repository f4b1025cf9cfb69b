"""The configuration editor against a running agent: live interval, validation, files."""

import os
import stat

import yaml
from PySide6.QtCore import Qt

from agent.config import config_dir
from gui.configstore import save_pipelines
from tests.gui.conftest import file_pipeline, write_lines


def start(make_window, tmp_path, **kwargs):
    (tmp_path / "in").mkdir()
    write_lines(tmp_path / "in" / "app.log", 10)
    config = file_pipeline("web", tmp_path / "in" / "*.log", tmp_path / "out.jsonl", **kwargs)
    save_pipelines([config], set())
    window = make_window([config])
    window.tabs.setCurrentWidget(window.config)
    return window, window.bridge.agent


def saved(name="web"):
    return config_dir() / "pipelines" / f"{name}.yml"


def test_editing_the_flush_interval_changes_the_running_pipeline_live(qtbot, make_window, tmp_path):
    window, agent = start(make_window, tmp_path, interval_ms=3000)
    running = agent.pipelines["web"]
    assert running.aggregator.interval_ms == 3000
    field = window.config.form.interval.editor("AggregatIntervalMs")
    field.selectAll()
    qtbot.keyClicks(field, "250")
    qtbot.mouseClick(window.config.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: running.aggregator.interval_ms == 250)
    assert agent.pipelines["web"] is running  # not restarted
    qtbot.waitUntil(lambda: "web updated live" in window.config.status.text())
    assert yaml.safe_load(saved().read_text())["global"]["AggregatIntervalMs"] == 250
    assert stat.S_IMODE(os.stat(saved()).st_mode) == 0o600


def test_the_aggregator_flush_interval_override_applies_live(qtbot, make_window, tmp_path):
    window, agent = start(make_window, tmp_path, interval_ms=3000)
    running = agent.pipelines["web"]
    field = window.config.form.aggregator.form.editor("FlushIntervalMs")
    assert field.toolTip() and "AggregatIntervalMs" in field.toolTip()
    field.selectAll()
    qtbot.keyClicks(field, "250")
    qtbot.mouseClick(window.config.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "web updated live" in window.config.status.text())
    assert agent.pipelines["web"] is running and running.aggregator.interval_ms == 250
    data = yaml.safe_load(saved().read_text())
    assert data["aggregators"][0]["FlushIntervalMs"] == 250
    assert running.config.global_value("AggregatIntervalMs") == 3000  # the default stays
    field.selectAll()
    qtbot.keyClicks(field, "5")
    assert window.config.form.aggregator.form.error("FlushIntervalMs") == (
        "must be 0 (the pipeline's interval) or at least 10"
    )
    assert not window.config.apply()
    assert running.aggregator.interval_ms == 250


def test_changing_an_aggregator_parameter_restarts_the_pipeline(qtbot, make_window, tmp_path):
    window, agent = start(make_window, tmp_path)
    running = agent.pipelines["web"]
    field = window.config.form.aggregator.form.editor("MaxLogCount")
    qtbot.keyClicks(field, "64")
    window.config.apply()
    qtbot.waitUntil(lambda: "web restarted" in window.config.status.text(), timeout=10_000)
    assert agent.pipelines["web"] is not running
    assert agent.pipelines["web"].config.aggregators[0].params == {"MaxLogCount": 64}


def test_bad_input_shows_the_error_and_applies_nothing(qtbot, make_window, tmp_path):
    window, agent = start(make_window, tmp_path, interval_ms=3000)
    running = agent.pipelines["web"]
    before = saved().read_text()
    form = window.config.form
    qtbot.keyClicks(form.aggregator.form.editor("MaxLogCount"), "lots")
    interval = form.interval.editor("AggregatIntervalMs")
    interval.selectAll()
    qtbot.keyClicks(interval, "250")
    assert form.aggregator.form.error("MaxLogCount") == "must be a whole number, got 'lots'"
    qtbot.mouseClick(window.config.apply_button, Qt.MouseButton.LeftButton)
    assert window.config.problems.isVisibleTo(window)
    assert "MaxLogCount" in window.config.problems.text()
    assert "Nothing was applied" in window.config.status.text()
    assert saved().read_text() == before
    assert agent.pipelines["web"] is running and running.aggregator.interval_ms == 3000


def test_a_missing_required_value_is_reported_on_its_field(qtbot, make_window, tmp_path):
    window, _ = start(make_window, tmp_path)
    flusher = window.config.form.sections["flushers"].editors[0]
    flusher.form.editor("FilePath").setText("")
    assert flusher.form.error("FilePath") == "is required"
    assert not window.config.apply()


def test_pipeline_list_add_duplicate_rename_remove_are_applied_together(
    qtbot, make_window, tmp_path
):
    window, agent = start(make_window, tmp_path)
    editor = window.config
    editor.duplicate_pipeline()
    assert [d.name for d in editor.drafts] == ["web", "web-copy"]
    assert editor.rename_pipeline("db")
    assert not editor.rename_pipeline("web")  # taken
    assert "exists already" in editor.problems.text()
    assert not editor.rename_pipeline("bad name!")
    editor.list.setCurrentRow(0)
    editor.remove_pipeline(confirm=False)
    assert [d.name for d in editor.drafts] == ["db"]
    assert editor.apply()
    qtbot.waitUntil(lambda: set(agent.pipelines) == {"db"}, timeout=10_000)
    assert sorted(p.name for p in (config_dir() / "pipelines").iterdir()) == ["db.yml"]
    qtbot.waitUntil(
        lambda: "db started" in editor.status.text() and "web stopped" in editor.status.text()
    )


def test_unchecking_a_pipeline_disables_it(qtbot, make_window, tmp_path):
    window, agent = start(make_window, tmp_path)
    window.config.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert window.config.apply()
    qtbot.waitUntil(lambda: not agent.pipelines, timeout=10_000)
    assert yaml.safe_load(saved().read_text())["enable"] is False


def test_import_and_export_ilogtail_yaml(qtbot, make_window, tmp_path):
    window, _ = start(make_window, tmp_path)
    imported = tmp_path / "nginx.yaml"
    imported.write_text(
        f"""
enable: true
inputs:
  - Type: input_file
    FilePaths: ["{tmp_path}/nginx/*.log"]
processors:
  - Type: processor_regex
    SourceKey: content
    Regex: '^(\\S+) (.*)$'
    Keys: [ip, rest]
aggregators:
  - Type: aggregator_context
    MaxLogCount: 256
flushers:
  - Type: flusher_stdout
"""
    )
    draft = window.config.import_file(imported)
    assert draft.name == "nginx" and not draft.problems
    assert window.config.form.sections["processors"].editors[0].type_name() == "processor_regex"
    assert window.config.form.aggregator.type_name() == "aggregator_context"
    exported = tmp_path / "exported.yml"
    assert window.config.export(exported)
    data = yaml.safe_load(exported.read_text())
    assert data["aggregators"] == [{"Type": "aggregator_context", "MaxLogCount": 256}]
    assert data["processors"][0]["Keys"] == ["ip", "rest"]


def test_a_broken_file_is_listed_with_its_problems(qtbot, make_window, tmp_path):
    window, _ = start(make_window, tmp_path)
    saved("broken").write_text("inputs: [{Type: input_file, FilePaths: []}]\nflushers: nope\n")
    window.config.revert()
    names = [window.config.list.item(i).text() for i in range(window.config.list.count())]
    assert names == ["⚠ broken", "web"]
    window.config.list.setCurrentRow(0)
    assert "FilePaths" in window.config.problems.text()
    assert not window.config.apply()
