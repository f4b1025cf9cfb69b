"""One pipeline's form: inputs, processors, the aggregator and its flush interval, flushers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent.config import GLOBAL_PARAMS
from agent.registry import Registry
from gui.widgets.paramform import ParamForm
from gui.windows.plugin_editor import PluginEditor

__all__ = ["PipelineForm"]

_INTERVAL = ("AggregatIntervalMs",)
_LABELS = {
    "AggregatIntervalMs": "Flush interval (ms)",
    "DefaultLogGroupQueueSize": "Queue size (groups)",
    "StopTimeoutSecs": "Stop timeout (s)",
}
_SECTIONS = (
    ("inputs", "input", "Inputs", "Add input"),
    ("processors", "processor", "Processors", "Add processor"),
    ("flushers", "flusher", "Flushers", "Add flusher"),
)


class _Section(QGroupBox):
    """A titled list of plugin editors of one kind, with an add button."""

    changed = Signal()

    def __init__(
        self, kind: str, title: str, add_text: str, registry: Registry, entries: list[Any]
    ) -> None:
        super().__init__(title)
        self.kind = kind
        self.registry = registry
        self.editors: list[PluginEditor] = []
        self._layout = QVBoxLayout(self)
        self._add = QPushButton(add_text)
        self._add.setObjectName(f"add-{kind}")
        self._add.clicked.connect(lambda: self.add({}))
        self._layout.addWidget(self._add)
        for entry in entries:
            self.add(entry if isinstance(entry, dict) else {})

    def add(self, entry: dict[str, Any]) -> PluginEditor:
        editor = PluginEditor(self.kind, self.registry, entry, movable=self.kind == "processor")
        editor.changed.connect(self.changed)
        editor.remove_requested.connect(self._remove)
        editor.move_requested.connect(self._move)
        self._layout.insertWidget(len(self.editors), editor)
        self.editors.append(editor)
        self.changed.emit()
        return editor

    def _remove(self, editor: PluginEditor) -> None:
        self.editors.remove(editor)
        self._layout.removeWidget(editor)
        editor.deleteLater()
        self.changed.emit()

    def _move(self, editor: PluginEditor, step: int) -> None:
        i = self.editors.index(editor)
        j = i + step
        if not 0 <= j < len(self.editors):
            return
        self.editors[i], self.editors[j] = self.editors[j], self.editors[i]
        self._layout.removeWidget(editor)
        self._layout.insertWidget(j, editor)
        self.changed.emit()

    def entries(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.editors]


class PipelineForm(QScrollArea):
    """Edits one pipeline's mapping; `to_data()` gives it back, `validate()` checks it."""

    changed = Signal()

    def __init__(self, name: str, data: dict[str, Any], registry: Registry) -> None:
        super().__init__()
        self.name = name
        self.registry = registry
        self._data = dict(data)
        globals_ = dict(data.get("global") or {})
        body = QWidget()
        layout = QVBoxLayout(body)
        title = QLabel(f"Pipeline “{name}”")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        self.sections: dict[str, _Section] = {}
        for key, kind, label, add_text in _SECTIONS[:2]:
            self.sections[key] = _Section(kind, label, add_text, registry, data.get(key) or [])
            layout.addWidget(self.sections[key])

        aggregator_box = QGroupBox("Aggregator")
        aggregator_layout = QVBoxLayout(aggregator_box)
        aggregators = data.get("aggregators") or [{"Type": "aggregator_default"}]
        self.aggregator = PluginEditor("aggregator", registry, aggregators[0], removable=False)
        self.aggregator.changed.connect(self.changed)
        aggregator_layout.addWidget(self.aggregator)
        interval_params = tuple(p for p in GLOBAL_PARAMS if p.name in _INTERVAL)
        self.interval = ParamForm(interval_params, globals_, labels=_LABELS, compact=False)
        self.interval.changed.connect(self.changed)
        aggregator_layout.addWidget(self.interval)
        note = QLabel(
            "The pipeline's default. The aggregator's own FlushIntervalMs (among its options "
            "above) overrides it; 0 keeps the default. Either change applies to the running "
            "pipeline without a restart."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        aggregator_layout.addWidget(note)
        layout.addWidget(aggregator_box)

        key, kind, label, add_text = _SECTIONS[2]
        self.sections[key] = _Section(kind, label, add_text, registry, data.get(key) or [])
        layout.addWidget(self.sections[key])

        other_box = QGroupBox("Pipeline")
        other_layout = QVBoxLayout(other_box)
        other_params = tuple(p for p in GLOBAL_PARAMS if p.name not in _INTERVAL)
        self.globals = ParamForm(other_params, globals_, labels=_LABELS, compact=False)
        self.globals.changed.connect(self.changed)
        other_layout.addWidget(self.globals)
        layout.addWidget(other_box)
        layout.addStretch(1)
        for section in self.sections.values():
            section.changed.connect(self.changed)
        self.setWidget(body)
        self.setWidgetResizable(True)

    def to_data(self) -> dict[str, Any]:
        """The pipeline's mapping as edited, keys in iLogtail's order."""
        interval, _ = self.interval.collect()
        others, _ = self.globals.collect()
        data: dict[str, Any] = {"enable": self._data.get("enable", True)}
        if interval or others:
            data["global"] = {**interval, **others}
        for key in ("inputs", "processors"):
            entries = self.sections[key].entries()
            if entries:
                data[key] = entries
        data["aggregators"] = [self.aggregator.to_dict()]
        entries = self.sections["flushers"].entries()
        if entries:
            data["flushers"] = entries
        return data

    def validate(self) -> list[str]:
        """Check every field and plugin, showing problems inline; all problems as text."""
        problems = []
        for form in (self.interval, self.globals):
            _, errors = form.collect()
            form.show_errors(errors)
            problems.extend(f"{k}: {v}" for k, v in errors.items())
        for key in ("inputs", "processors"):
            for editor in self.sections[key].editors:
                problems.extend(editor.validate())
        problems.extend(self.aggregator.validate())
        for editor in self.sections["flushers"].editors:
            problems.extend(editor.validate())
        return problems

    def focus_flusher(self, type_name: str) -> PluginEditor | None:
        """Scroll to the first flusher of `type_name` and put the cursor in it."""
        for editor in self.sections["flushers"].editors:
            if editor.type_name() == type_name:
                # Layouts settle on the next event loop turn; scroll after that.
                QTimer.singleShot(0, lambda e=editor: self.ensureWidgetVisible(e))
                editor.combo.setFocus()
                return editor
        return None
