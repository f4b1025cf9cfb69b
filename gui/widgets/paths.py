"""A FilePaths editor: one glob per line, file/folder pickers, and which files match now."""

from __future__ import annotations

import glob
import os
from itertools import islice

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["PREVIEW_LIMIT", "PathListEdit", "matching_files"]

PREVIEW_LIMIT = 200


def matching_files(patterns: list[str], limit: int = PREVIEW_LIMIT) -> tuple[list[str], bool]:
    """Up to `limit` regular files the globs match right now, and whether there were more.

    Uses the same glob rules the input documents (`**` any depth, `~` home, hidden files
    only with an explicit dot); stops early, so a pattern over a big tree stays quick.
    """
    found: dict[str, None] = {}
    for pattern in patterns:
        pattern = os.path.abspath(os.path.expanduser(pattern.strip()))
        for path in islice(glob.iglob(pattern, recursive=True), limit * 4):
            if os.path.isfile(path):
                found[path] = None
                if len(found) > limit:
                    return sorted(found)[:limit], True
    return sorted(found), False


class PathListEdit(QWidget):
    """Edits a list of glob patterns and previews the files they match."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("/var/log/*.log\n~/app/logs/**/*.log")
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 3 + 12)
        self.editor.textChanged.connect(self._edited)
        add_file = QPushButton("Add file…")
        add_file.clicked.connect(self._add_file)
        add_folder = QPushButton("Add folder…")
        add_folder.setToolTip("Adds every .log file in the folder (folder/*.log)")
        add_folder.clicked.connect(self._add_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(add_file)
        buttons.addWidget(add_folder)
        buttons.addStretch(1)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.preview = QListWidget()
        self.preview.setObjectName("globPreview")
        self.preview.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 4 + 12)
        self.preview.setToolTip("Files these patterns match right now")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.preview)
        # Globbing a big tree on every keystroke would stall typing: wait for a pause.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self.refresh_preview)

    def patterns(self) -> list[str]:
        return [line.strip() for line in self.editor.toPlainText().splitlines() if line.strip()]

    def set_patterns(self, patterns: list[str]) -> None:
        self.editor.setPlainText("\n".join(patterns))
        self.refresh_preview()

    def _edited(self) -> None:
        self.changed.emit()
        self._debounce.start()

    def _append(self, pattern: str) -> None:
        self.set_patterns([*self.patterns(), pattern])
        self.changed.emit()

    def _add_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a log file")
        if path:
            self._append(path)

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder of log files")
        if path:
            self._append(os.path.join(path, "*.log"))

    def refresh_preview(self) -> None:
        self._debounce.stop()
        files, more = matching_files(self.patterns())
        self.preview.clear()
        self.preview.addItems(files)
        if not files:
            self.summary.setText("No file matches right now (new files are picked up later).")
        elif more:
            self.summary.setText(f"More than {PREVIEW_LIMIT} files match right now; the first:")
        else:
            self.summary.setText(f"{len(files)} file(s) match right now:")
