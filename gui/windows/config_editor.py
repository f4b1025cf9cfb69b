"""The configuration editor: the pipeline list and the selected pipeline's form.

Edits are staged: Apply validates every pipeline (inline errors, nothing applied when
one is wrong), writes the files, then hands the configs to the running agent.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from agent.config import PipelineConfig
from agent.params import ConfigError
from agent.registry import Registry
from gui.configstore import (
    Draft,
    export_pipeline,
    import_pipeline,
    load_drafts,
    name_problem,
    save_pipelines,
    to_config,
)
from gui.windows.pipeline_form import PipelineForm

__all__ = ["ConfigEditor"]


def _template(name: str) -> dict[str, Any]:
    return {
        "enable": True,
        "inputs": [{"Type": "input_file", "FilePaths": []}],
        "aggregators": [{"Type": "aggregator_default"}],
        "flushers": [{"Type": "flusher_file", "FilePath": f"~/tailbox-{name}.jsonl"}],
    }


class ConfigEditor(QWidget):
    """Emits `apply_requested(configs)` once everything validated and was saved."""

    apply_requested = Signal(list)

    def __init__(self, registry: Registry, drafts: list[Draft], parent: QWidget | None = None):
        super().__init__(parent)
        self.registry = registry
        self.drafts = drafts
        self.removed: set[str] = set()
        self.form: PipelineForm | None = None
        self._current: Draft | None = None
        self.dirty = False

        self.list = QListWidget()
        self.list.setObjectName("pipelineList")
        self.list.currentRowChanged.connect(self._select)
        self.list.itemChanged.connect(self._enable_toggled)
        buttons = QVBoxLayout()
        for text, slot, tip in (
            ("Add", self.add_pipeline, "A new pipeline reading files into a JSON Lines file"),
            ("Duplicate", self.duplicate_pipeline, "A copy of the selected pipeline"),
            ("Rename…", self.rename_pipeline, "Rename the selected pipeline (and its file)"),
            ("Remove", self.remove_pipeline, "Remove the selected pipeline (and its file)"),
            ("Import…", self.import_dialog, "Add a pipeline from an iLogtail-style YAML file"),
            ("Export…", self.export_dialog, "Save the selected pipeline as a YAML file"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QHBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        left_layout.addLayout(buttons)

        self.form_holder = QVBoxLayout()
        self.form_holder.setContentsMargins(0, 0, 0, 0)
        right = QWidget()
        right.setLayout(self.form_holder)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 700])

        self.problems = QLabel()
        self.problems.setObjectName("configProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setStyleSheet("color: #d64545;")
        self.problems.hide()
        self.status = QLabel()
        self.status.setObjectName("configStatus")
        self.status.setWordWrap(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Forget the changes, reload the files")
        self.revert_button.clicked.connect(self.revert)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("applyButton")
        self.apply_button.setToolTip("Validate, save and apply to the running agent (Ctrl+S)")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        QShortcut(QKeySequence.StandardKey.Save, self, self.apply)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.problems)
        layout.addLayout(bottom)
        self._fill_list()

    # -- the list ----------------------------------------------------------------------

    def _fill_list(self, select: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for draft in self.drafts:
            item = QListWidgetItem(self._label(draft))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            enabled = draft.data is not None and draft.data.get("enable", True) is not False
            item.setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)
            item.setToolTip("\n".join(draft.problems) or "Checked: runs; unchecked: disabled")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._current = None
        if self.drafts:
            self.list.setCurrentRow(min(select, len(self.drafts) - 1))
        else:
            self._show_form(None)

    @staticmethod
    def _label(draft: Draft) -> str:
        return f"⚠ {draft.name}" if draft.problems else draft.name

    def _sync(self) -> None:
        """Copy the open form back into its draft."""
        if self.form is not None and self._current is not None:
            enable = (self._current.data or {}).get("enable", True)
            self._current.data = {**self.form.to_data(), "enable": enable}

    def _select(self, row: int) -> None:
        self._sync()
        self._current = self.drafts[row] if 0 <= row < len(self.drafts) else None
        self._show_form(self._current)

    def _show_form(self, draft: Draft | None) -> None:
        if self.form is not None:
            self.form_holder.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        if draft is None or draft.data is None:
            if draft is not None:
                self._show_problems(draft.problems)
            return
        self.form = PipelineForm(draft.name, draft.data, self.registry)
        self.form.changed.connect(self._changed)
        self.form_holder.addWidget(self.form)
        self._show_problems(draft.problems)

    def _enable_toggled(self, item: QListWidgetItem) -> None:
        draft = self.drafts[self.list.row(item)]
        if draft.data is not None:
            draft.data["enable"] = item.checkState() == Qt.CheckState.Checked
            self._changed()

    def _changed(self) -> None:
        self.dirty = True
        self.status.setText("Unsaved changes: Apply validates, saves and applies them.")

    def _names(self, besides: Draft | None = None) -> set[str]:
        return {d.name for d in self.drafts if d is not besides}

    def _unique(self, base: str) -> str:
        name, n = base, 2
        while name in self._names():
            name, n = f"{base}-{n}", n + 1
        return name

    def _add(self, draft: Draft) -> None:
        self._sync()
        self.drafts.append(draft)
        self._fill_list(len(self.drafts) - 1)
        self._changed()

    def add_pipeline(self) -> None:
        name = self._unique("pipeline")
        self._add(Draft(name, _template(name)))

    def duplicate_pipeline(self) -> None:
        self._sync()
        if self._current is None or self._current.data is None:
            return
        self._add(
            Draft(self._unique(f"{self._current.name}-copy"), copy.deepcopy(self._current.data))
        )

    def rename_pipeline(self, new_name: str | None = None) -> bool:
        draft = self._current
        if draft is None:
            return False
        if not new_name:
            new_name, ok = QInputDialog.getText(
                self, "Rename pipeline", "New name:", text=draft.name
            )
            if not ok or new_name == draft.name:
                return False
        problem = name_problem(new_name, self._names(besides=draft))
        if problem:
            self._show_problems([f"cannot rename to {new_name!r}: {problem}"])
            return False
        self._sync()
        self.removed.add(draft.name)
        draft.name, draft.path = new_name, None
        self._fill_list(self.drafts.index(draft))
        self._changed()
        return True

    def remove_pipeline(self, confirm: bool = True) -> None:
        draft = self._current
        if draft is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove pipeline",
                f"Remove pipeline “{draft.name}”? Its file is deleted when you apply.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        row = self.drafts.index(draft)
        self.drafts.remove(draft)
        self.removed.add(draft.name)
        self._current = None
        if self.form is not None:
            self.form.deleteLater()
            self.form = None
        self._fill_list(max(0, row - 1))
        self._changed()

    def import_file(self, path: Path) -> Draft:
        draft = import_pipeline(path, self.registry)
        draft.name = self._unique(draft.name if not name_problem(draft.name, set()) else "imported")
        self._add(draft)
        return draft

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a pipeline", "", "YAML files (*.yml *.yaml);;All files (*)"
        )
        if path:
            self.import_file(Path(path))

    def export_dialog(self) -> None:
        self._sync()
        if self._current is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the pipeline", f"{self._current.name}.yml", "YAML files (*.yml *.yaml)"
        )
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> bool:
        """Write the selected pipeline to `path` if it is valid."""
        self._sync()
        if self._current is None:
            return False
        try:
            config = to_config(self._current, self.registry)
        except ConfigError as e:
            self._show_problems([str(p) for p in e.problems])
            return False
        export_pipeline(config, path)
        self.status.setText(f"Exported “{config.name}” to {path}.")
        return True

    # -- apply -------------------------------------------------------------------------

    def _show_problems(self, problems: list[str]) -> None:
        self.problems.setText("\n".join(problems[:12]) + ("\n…" if len(problems) > 12 else ""))
        self.problems.setVisible(bool(problems))

    def validate(self) -> list[PipelineConfig] | None:
        """Every pipeline as a validated config, or None with the problems shown."""
        self._sync()
        problems = self.form.validate() if self.form is not None else []
        configs: list[PipelineConfig] = []
        for draft in self.drafts:
            try:
                configs.append(to_config(draft, self.registry))
                draft.problems = []
            except ConfigError as e:
                draft.problems = [str(p) for p in e.problems]
                problems.extend(f"{draft.name}: {p}" for p in e.problems)
        for row, draft in enumerate(self.drafts):
            self.list.item(row).setText(self._label(draft))
        if problems:
            # The form's own problems repeat the file's; keep each once, in order.
            self._show_problems(list(dict.fromkeys(problems)))
            self.status.setText("Nothing was applied: fix the problems above first.")
            return None
        self._show_problems([])
        return configs

    def apply(self) -> bool:
        configs = self.validate()
        if configs is None:
            return False
        try:
            save_pipelines(configs, self.removed - {c.name for c in configs})
        except OSError as e:
            self._show_problems([f"cannot save the pipelines: {e}"])
            return False
        self.removed.clear()
        self.dirty = False
        self.status.setText("Saved; applying to the running agent…")
        self.apply_requested.emit(configs)
        return True

    def applied(self, result: dict[str, str] | Exception) -> None:
        """Show what the agent did with the last Apply."""
        if isinstance(result, Exception):
            self.status.setText(f"The agent could not apply the change: {result}")
            return
        done = ", ".join(f"{name} {what}" for name, what in sorted(result.items()))
        self.status.setText(f"Applied: {done}." if done else "Applied: nothing runs.")

    def revert(self) -> None:
        self.drafts = load_drafts(self.registry)
        self.removed.clear()
        self.dirty = False
        self._current = None
        self.form = None if self.form is None else self.form
        self._fill_list()
        self.status.setText("Reverted to the saved files.")

    def open_flusher(self, pipeline: str, flusher: str) -> bool:
        """Select `pipeline` and show its flusher `flusher` (the banner's action)."""
        for row, draft in enumerate(self.drafts):
            if draft.name == pipeline:
                self.list.setCurrentRow(row)
                return self.form is not None and self.form.focus_flusher(flusher) is not None
        return False
