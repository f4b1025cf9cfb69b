"""The application and tray icons, drawn at run time (no image files to package)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap

__all__ = ["app_icon", "warning_icon"]

_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def _draw(size: int, warning: bool) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 32
    # A box with three log lines; it turns amber with a badge when a queue is full.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#1f6fb2"))
    p.drawRoundedRect(QRectF(2 * s, 3 * s, 28 * s, 26 * s), 5 * s, 5 * s)
    p.setBrush(QColor("#ffffff"))
    for i, width in enumerate((18, 13, 16)):
        p.drawRoundedRect(QRectF(7 * s, (9 + 6 * i) * s, width * s, 3 * s), 1.5 * s, 1.5 * s)
    if warning:
        badge = QPainterPath()
        badge.moveTo(24 * s, 14 * s)
        badge.lineTo(32 * s, 30 * s)
        badge.lineTo(16 * s, 30 * s)
        badge.closeSubpath()
        p.setBrush(QColor("#f0a020"))
        p.setPen(QColor("#7a4b00"))
        p.drawPath(badge)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#3a2400"))
        p.drawRect(QRectF(23.2 * s, 19 * s, 1.6 * s, 6 * s))
        p.drawEllipse(QRectF(23.1 * s, 26.3 * s, 1.8 * s, 1.8 * s))
    p.end()
    return pixmap


def _icon(warning: bool) -> QIcon:
    icon = QIcon()
    for size in _SIZES:
        icon.addPixmap(_draw(size, warning))
    return icon


def app_icon() -> QIcon:
    return _icon(False)


def warning_icon() -> QIcon:
    return _icon(True)
