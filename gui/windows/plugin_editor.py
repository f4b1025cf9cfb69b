"""One plugin of a pipeline in the editor: its type, its summary and its generated form."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent.params import ConfigError
from agent.registry import Registry
from gui.widgets.paramform import ParamForm

__all__ = ["PluginEditor"]


class PluginEditor(QFrame):
    """Edits `{Type: ..., key: value}` for a plugin of `kind` the running platform has."""

    changed = Signal()
    remove_requested = Signal(object)
    move_requested = Signal(object, int)

    def __init__(
        self,
        kind: str,
        registry: Registry,
        entry: dict[str, Any] | None = None,
        *,
        removable: bool = True,
        movable: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.kind = kind
        self.registry = registry
        entry = dict(entry or {})
        infos = registry.plugins(kind)
        type_name = str(entry.pop("Type", "") or (infos[0].type_name if infos else ""))
        self.combo = QComboBox()
        self.combo.setObjectName(f"{kind}-type")
        for info in infos:
            self.combo.addItem(info.type_name, info.type_name)
            self.combo.setItemData(
                self.combo.count() - 1, info.summary, Qt.ItemDataRole.ToolTipRole
            )
        if self.combo.findData(type_name) < 0:
            # Kept so the user sees what the file asks for; validation explains why not.
            self.combo.addItem(f"{type_name} (not available here)", type_name)
        self.combo.setCurrentIndex(self.combo.findData(type_name))
        self.combo.currentIndexChanged.connect(self._type_changed)
        top = QHBoxLayout()
        top.addWidget(self.combo, 1)
        if movable:
            for text, step, tip in (("▲", -1, "Run earlier"), ("▼", 1, "Run later")):
                button = QToolButton()
                button.setText(text)
                button.setToolTip(tip)
                button.clicked.connect(lambda _=False, s=step: self.move_requested.emit(self, s))
                top.addWidget(button)
        if removable:
            remove = QToolButton()
            remove.setText("Remove")
            remove.setToolTip(f"Remove this {kind} from the pipeline")
            remove.clicked.connect(lambda: self.remove_requested.emit(self))
            top.addWidget(remove)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setEnabled(False)  # drawn in the palette's quieter text colour
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d64545;")
        self.problem.hide()
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top)
        self._layout.addWidget(self.summary)
        self._layout.addWidget(self.problem)
        self.form = self._make_form(entry)

    def _make_form(self, values: dict[str, Any]) -> ParamForm:
        type_name = self.type_name()
        cls = self.registry.get(type_name) if type_name in self.registry else None
        self.summary.setText(cls.summary if cls is not None else "")
        form = ParamForm(cls.params if cls is not None else (), values)
        form.changed.connect(self.changed)
        self._layout.insertWidget(2, form)
        return form

    def _type_changed(self) -> None:
        self._layout.removeWidget(self.form)
        self.form.deleteLater()
        self.form = self._make_form({})
        self.problem.hide()
        self.changed.emit()

    def type_name(self) -> str:
        return str(self.combo.currentData())

    def to_dict(self) -> dict[str, Any]:
        values, _ = self.form.collect()
        return {"Type": self.type_name(), **values}

    def validate(self) -> list[str]:
        """Show every problem inline; the problems as text (empty when valid)."""
        values, errors = self.form.collect()
        other: list[str] = []
        if not errors:
            try:
                self.registry.create(self.type_name(), values)
            except ConfigError as e:
                for p in e.problems:
                    if p.key in {param.name for param in self.form.params}:
                        errors.setdefault(p.key, p.reason)
                    else:
                        other.append(f"{p.key}: {p.reason}" if p.key else p.reason)
        self.form.show_errors(errors)
        self.problem.setText("\n".join(other))
        self.problem.setVisible(bool(other))
        return [f"{self.type_name()}: {k}: {v}" for k, v in errors.items()] + [
            f"{self.type_name()}: {text}" for text in other
        ]
