"""The plugin editor offers the plugins of the running platform, and only those."""

import pytest

from agent.registry import Registry
from gui.windows.plugin_editor import PluginEditor


def offered(editor: PluginEditor) -> list[str]:
    return [editor.combo.itemData(i) for i in range(editor.combo.count())]


@pytest.mark.parametrize(
    ("platform", "own", "other"),
    [
        ("linux", "input_journal", "input_wineventlog"),
        ("windows", "input_wineventlog", "input_journal"),
    ],
)
def test_inputs_offered_are_the_platforms_own(qtbot, platform, own, other):
    editor = PluginEditor("input", Registry(platform))
    qtbot.addWidget(editor)
    types = offered(editor)
    assert "input_file" in types and own in types and other not in types
    editor.combo.setCurrentIndex(editor.combo.findData(own))
    assert editor.type_name() == own
    assert editor.validate() == []  # its defaults make a valid input


def test_the_other_platforms_input_from_a_file_is_shown_as_not_available(qtbot):
    editor = PluginEditor("input", Registry("linux"), {"Type": "input_wineventlog"})
    qtbot.addWidget(editor)
    index = editor.combo.currentIndex()
    assert editor.combo.itemData(index) == "input_wineventlog"
    assert editor.combo.itemText(index) == "input_wineventlog (not available here)"
    assert any("only available on windows" in p for p in editor.validate())
