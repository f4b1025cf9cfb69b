"""Colours that read well on the system's light or dark palette."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication

__all__ = ["accent", "is_dark", "level_colour", "warning_colours"]

# (light palette, dark palette) text colours per level family.
_LEVELS = {
    "error": ("#c62828", "#ef6b6b"),
    "warn": ("#9a5400", "#f0b35a"),
    "debug": ("#6b6b6b", "#9a9a9a"),
}
_FAMILY = {
    **dict.fromkeys(
        ("emerg", "emergency", "alert", "crit", "critical", "fatal", "panic", "err", "error"),
        "error",
    ),
    "severe": "error",
    "warn": "warn",
    "warning": "warn",
    **dict.fromkeys(("debug", "trace", "fine", "finer", "finest"), "debug"),
}


def is_dark() -> bool:
    """Whether the application's palette is a dark one (follows the system's scheme)."""
    if QGuiApplication.instance() is None:
        return False
    return QGuiApplication.palette().window().color().lightness() < 128


def level_colour(level: str, dark: bool) -> QColor | None:
    """The text colour for `level` (None for info and unknown levels)."""
    family = _FAMILY.get(level.strip().strip("[]").lower())
    return QColor(_LEVELS[family][1 if dark else 0]) if family else None


def warning_colours(dark: bool) -> tuple[QColor, QColor, QColor]:
    """Background, border and text of a warning banner."""
    if dark:
        return QColor("#4a3411"), QColor("#b7791f"), QColor("#fbe3b4")
    return QColor("#fff4d6"), QColor("#e0a526"), QColor("#4d3300")


def accent(dark: bool) -> QColor:
    return QColor("#5aa9e6") if dark else QColor("#1f6fb2")
