"""The parameter form generated from Param declarations."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QToolButton

from agent.params import Param
from gui.widgets.paramform import ParamForm
from gui.widgets.paths import PathListEdit, matching_files

PARAMS = (
    Param("MaxLogCount", "int", 1024, "The most logs in one group.", min=1, max=4096),
    Param("Ratio", "float", 0.5, "A ratio.", min=0, max=1),
    Param("PackFlag", "bool", True, "Tag each group."),
    Param("Format", "str", "json", "Output format.", choices=("json", "text")),
    Param("Topic", "str", "", "The topic."),
    Param("Regex", "regex", ".*", "A pattern."),
    Param("Keys", "list", items="str", description="Required keys."),
    Param("Headers", "dict", {}, items="str", description="Extra headers."),
    Param("FilePaths", "list", [], items="str", description="Files to read."),
)


def test_each_type_gets_its_editor_with_a_tooltip_from_the_declaration(qtbot):
    form = ParamForm(PARAMS)
    qtbot.addWidget(form)
    kinds = {p.name: type(form.editor(p.name)) for p in PARAMS}
    assert kinds == {
        "MaxLogCount": QLineEdit,
        "Ratio": QLineEdit,
        "PackFlag": QCheckBox,
        "Format": QComboBox,
        "Topic": QLineEdit,
        "Regex": QLineEdit,
        "Keys": QPlainTextEdit,
        "Headers": QPlainTextEdit,
        "FilePaths": PathListEdit,
    }
    tip = form.editor("MaxLogCount").toolTip()
    assert "The most logs in one group." in tip and "1..4096" in tip and "default: 1024" in tip
    assert "required" in form.editor("Keys").toolTip()
    assert form.editor("MaxLogCount").placeholderText() == "1024 (default)"
    assert form.editor("PackFlag").isChecked()


def test_empty_fields_mean_defaults_and_are_left_out(qtbot):
    form = ParamForm(PARAMS, {"Keys": ["a", "b"], "MaxLogCount": 10})
    qtbot.addWidget(form)
    values, errors = form.collect()
    assert values == {"Keys": ["a", "b"], "MaxLogCount": 10} and errors == {}
    form.editor("PackFlag").setChecked(False)
    form.editor("Format").setCurrentIndex(1)
    form.editor("Headers").setPlainText("X-Token: abc")
    values, _ = form.collect()
    assert values["PackFlag"] is False and values["Format"] == "text"
    assert values["Headers"] == {"X-Token": "abc"}


def test_bad_input_shows_an_inline_error_at_once(qtbot):
    form = ParamForm(PARAMS, {"Keys": ["a"]})
    qtbot.addWidget(form)
    qtbot.keyClicks(form.editor("MaxLogCount"), "abc")
    assert form.error("MaxLogCount") == "must be a whole number, got 'abc'"
    form.editor("MaxLogCount").setText("0")
    assert form.error("MaxLogCount") == "must be at least 1, got 0"
    form.editor("MaxLogCount").setText("")
    assert form.error("MaxLogCount") == ""
    form.editor("Regex").setText("(unclosed")
    assert "not a valid regular expression" in form.error("Regex")
    form.editor("Keys").setPlainText("")
    assert form.error("Keys") == "is required"
    _, errors = form.collect()
    assert set(errors) == {"Regex", "Keys"}


def test_unknown_keys_from_a_file_are_kept_for_validation_to_report(qtbot):
    form = ParamForm(PARAMS[:1], {"MaxLogCnt": 5})
    qtbot.addWidget(form)
    assert form.collect()[0] == {"MaxLogCnt": 5}


def test_file_paths_preview_lists_the_files_that_match_now(qtbot, tmp_path):
    (tmp_path / "a.log").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.log").write_text("x")
    (tmp_path / ".hidden.log").write_text("x")
    form = ParamForm(PARAMS[-1:], {"FilePaths": [str(tmp_path / "**" / "*.log")]})
    qtbot.addWidget(form)
    edit = form.editor("FilePaths")
    items = [edit.preview.item(i).text() for i in range(edit.preview.count())]
    assert items == [str(tmp_path / "a.log"), str(tmp_path / "sub" / "b.log")]
    edit.editor.setPlainText(str(tmp_path / "none*.log"))
    qtbot.waitUntil(lambda: edit.preview.count() == 0)
    assert "No file matches" in edit.summary.text()


def test_matching_files_stops_at_its_limit(tmp_path):
    for i in range(30):
        (tmp_path / f"{i}.log").write_text("x")
    files, more = matching_files([str(tmp_path / "*.log")], limit=10)
    assert len(files) == 10 and more


def test_choice_editor_lists_the_declared_choices(qtbot):
    form = ParamForm(PARAMS[3:4])
    qtbot.addWidget(form)
    combo = form.editor("Format")
    assert [combo.itemText(i) for i in range(combo.count())] == ["json", "text"]
    assert combo.currentText() == "json"
    assert form.editor("Format").toolTip().startswith("Output format.")
    assert combo.itemData(1, Qt.ItemDataRole.UserRole) == "text"


def test_options_left_at_their_defaults_wait_behind_a_toggle(qtbot):
    form = ParamForm(PARAMS, {"Keys": ["a"], "Topic": "web"})
    qtbot.addWidget(form)
    form.show()
    visible = {p.name for p in PARAMS if form.editor(p.name).isVisibleTo(form)}
    assert visible == {"Keys", "Topic"}  # required, and set
    assert form.more is not None and form.more.text().startswith("▸ 7 more options")
    form.more.click()
    assert all(form.editor(p.name).isVisibleTo(form) for p in PARAMS)
    form.more.click()
    form.editor("MaxLogCount").setText("0")  # a problem shows its row, toggle or not
    assert form.editor("MaxLogCount").isVisibleTo(form)
    assert not ParamForm(PARAMS[:1], compact=False).findChildren(QToolButton)
