"""A form generated from a plugin's Param declarations: widgets, tooltips, inline errors.

An empty field means "the default" and is left out of the config, as an iLogtail user
would write it. Each edit is checked at once with the same `Param.validate` the agent
uses; `collect()` returns the values and every problem, keyed by parameter name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent.params import Param
from gui.widgets.paths import PathListEdit

__all__ = ["ParamForm", "tooltip"]

_PARSE = {"int": int, "float": float}
_PARSE_ERROR = {"int": "must be a whole number", "float": "must be a number"}
Parsed = tuple[bool, Any, str | None]  # present, value, error


def tooltip(p: Param) -> str:
    lines = [p.description] if p.description else []
    details = [f"type: {p.type_text()}"]
    if p.range_text():
        details.append(p.range_text())
    details.append("required" if p.required else f"default: {_shown(p.default)}")
    lines.append("; ".join(details))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if value else "empty"
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True).strip() if value else "none"
    return str(value)


class _Field:
    """One parameter's editor widget with its parse and set rules."""

    widget: QWidget

    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        self.param = param

    def get(self) -> Parsed:
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError


class _LineField(_Field):
    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        super().__init__(param, on_change)
        self.widget = self.edit = edit = QLineEdit()
        if not param.required:
            edit.setPlaceholderText(f"{_shown(param.default)} (default)")
        edit.textChanged.connect(on_change)

    def get(self) -> Parsed:
        text = self.edit.text()
        if not text.strip():
            return False, None, None
        parse = _PARSE.get(self.param.type)
        if parse is None:
            return True, text, None
        try:
            return True, parse(text.strip().replace("_", "")), None
        except ValueError:
            return True, text, f"{_PARSE_ERROR[self.param.type]}, got {text.strip()!r}"

    def set(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class _BoolField(_Field):
    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        super().__init__(param, on_change)
        self.widget = self.box = box = QCheckBox()
        box.toggled.connect(on_change)

    def get(self) -> Parsed:
        checked = self.box.isChecked()
        return self.param.required or checked != self.param.default, checked, None

    def set(self, value: Any) -> None:
        default = False if self.param.required else self.param.default
        self.box.setChecked(bool(default if value is None else value))


class _ChoiceField(_Field):
    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        super().__init__(param, on_change)
        self.widget = self.combo = combo = QComboBox()
        for choice in param.choices or ():
            combo.addItem(str(choice), choice)
        combo.currentIndexChanged.connect(on_change)

    def get(self) -> Parsed:
        value = self.combo.currentData()
        return self.param.required or value != self.param.default, value, None

    def set(self, value: Any) -> None:
        index = self.combo.findData(self.param.default if value is None else value)
        self.combo.setCurrentIndex(max(0, index))


class _TextField(_Field):
    """Lists (one item per line) and mappings (one `key: value` per line)."""

    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        super().__init__(param, on_change)
        self.widget = self.edit = edit = QPlainTextEdit()
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 12)
        hint = "one item per line" if param.type == "list" else "one  key: value  per line"
        edit.setPlaceholderText(
            hint if param.required else f"{hint} — default: {_shown(param.default)}"
        )
        edit.textChanged.connect(on_change)

    def get(self) -> Parsed:
        text = self.edit.toPlainText()
        if not text.strip():
            return False, None, None
        if self.param.type == "dict":
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError:
                return True, text, "write one  key: value  per line"
            if not isinstance(value, dict):
                return True, text, "write one  key: value  per line"
            return True, value, None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if self.param.items in (None, "str", "regex"):
            return True, lines, None
        try:
            return True, [yaml.safe_load(line) for line in lines], None
        except yaml.YAMLError:
            return True, lines, "an item is not a valid value"

    def set(self, value: Any) -> None:
        if value is None:
            text = ""
        elif isinstance(value, dict):
            text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
        else:
            text = "\n".join(str(v) for v in value)
        self.edit.setPlainText(text)


class _PathsField(_Field):
    def __init__(self, param: Param, on_change: Callable[[], None]) -> None:
        super().__init__(param, on_change)
        self.widget = self.edit = edit = PathListEdit()
        edit.changed.connect(on_change)

    def get(self) -> Parsed:
        patterns = self.edit.patterns()
        return (bool(patterns) or self.param.required), patterns, None

    def set(self, value: Any) -> None:
        self.edit.set_patterns(list(value or []))


def _field_for(param: Param, on_change: Callable[[], None]) -> _Field:
    if param.name == "FilePaths" and param.type == "list":
        return _PathsField(param, on_change)
    if param.choices is not None:
        return _ChoiceField(param, on_change)
    if param.type == "bool":
        return _BoolField(param, on_change)
    if param.type in ("list", "dict"):
        return _TextField(param, on_change)
    return _LineField(param, on_change)


class ParamForm(QWidget):
    """Editors for `params`, filled from `values` (a plugin's config minus its Type).

    `compact` shows the required parameters and those set; the ones left at their
    defaults wait behind a "more options" toggle (a row with an error always shows).
    """

    changed = Signal()

    def __init__(
        self,
        params: tuple[Param, ...],
        values: dict[str, Any] | None = None,
        parent: QWidget | None = None,
        labels: dict[str, str] | None = None,
        compact: bool = True,
    ) -> None:
        super().__init__(parent)
        self.params = params
        values = values or {}
        self._fields: dict[str, _Field] = {}
        self._errors: dict[str, QLabel] = {}
        self._rows: dict[str, int] = {}
        self._extra = {k: v for k, v in values.items() if k not in {p.name for p in params}}
        self._form = form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for p in params:
            field = _field_for(p, lambda *_, name=p.name: self._edited(name))
            field.set(values.get(p.name))
            tip = tooltip(p)
            field.widget.setToolTip(tip)
            field.widget.setObjectName(f"param-{p.name}")
            label = QLabel((labels or {}).get(p.name, p.name) + (" *" if p.required else ""))
            label.setToolTip(tip)
            error = QLabel()
            error.setObjectName(f"error-{p.name}")
            error.setWordWrap(True)
            error.setTextFormat(Qt.TextFormat.PlainText)
            error.setStyleSheet("color: #d64545;")
            error.hide()
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(field.widget)
            column.addWidget(error)
            self._rows[p.name] = form.rowCount()
            form.addRow(label, cell)
            self._fields[p.name] = field
            self._errors[p.name] = error
        if not params:
            form.addRow(QLabel("This plugin has no options."))
        self._advanced = [p.name for p in params if not p.required and p.name not in values]
        self.more: QToolButton | None = None
        if compact and self._advanced:
            self.more = QToolButton()
            self.more.setObjectName("moreOptions")
            self.more.setCheckable(True)
            self.more.setAutoRaise(True)
            self.more.toggled.connect(self.show_advanced)
            form.addRow(self.more)
            self.show_advanced(False)

    def show_advanced(self, shown: bool) -> None:
        """Show or hide the options left at their defaults."""
        for name in self._advanced:
            self._form.setRowVisible(self._rows[name], shown or bool(self.error(name)))
        if self.more is not None:
            n = len(self._advanced)
            self.more.setText(
                "▾ Hide the options left at their defaults"
                if shown
                else f"▸ {n} more option{'s' if n > 1 else ''} (at their defaults)"
            )

    def editor(self, name: str) -> QWidget:
        """The editing widget of parameter `name` (for focus and tests)."""
        return self._fields[name].widget

    def _check(self, p: Param) -> tuple[bool, Any, str | None]:
        present, value, error = self._fields[p.name].get()
        if error is None and present:
            value, error = p.validate(value)
        elif error is None and p.required:
            error = "is required"
        return present, value, error

    def _edited(self, name: str) -> None:
        if name not in self._fields:
            return  # still being built: setting the initial value is not an edit
        p = next(p for p in self.params if p.name == name)
        self.set_error(name, self._check(p)[2])
        self.changed.emit()

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values set (unknown keys from the file kept) and each field's problem."""
        values: dict[str, Any] = dict(self._extra)
        errors: dict[str, str] = {}
        for p in self.params:
            present, value, error = self._check(p)
            if error:
                errors[p.name] = error
            if present:
                values[p.name] = value
        return values, errors

    def show_errors(self, errors: dict[str, str]) -> None:
        for name in self._fields:
            self.set_error(name, errors.get(name))

    def set_error(self, name: str, error: str | None) -> None:
        label = self._errors.get(name)
        if label is None:
            return
        label.setText(error or "")
        label.setVisible(bool(error))
        if error:
            self._form.setRowVisible(self._rows[name], True)

    def error(self, name: str) -> str:
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""
