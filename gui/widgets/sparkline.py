"""A throughput sparkline drawn with QPainter (no Qt Charts): the last N samples."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from agent.foreground import foreground
from gui.theme import accent, is_dark

__all__ = ["Sparkline"]


class Sparkline(QWidget):
    def __init__(self, samples: int = 60, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values: deque[float] = deque(maxlen=samples)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(80, 28)

    def sizeHint(self) -> QSize:
        return QSize(220, 40)

    def add(self, value: float) -> None:
        self._values.append(value)
        self.update()

    def values(self) -> list[float]:
        return list(self._values)

    def paintEvent(self, event: QPaintEvent) -> None:
        # Drawn from Python: under full ingest each QPainter call would queue for the GIL.
        with foreground.section():
            self._paint()

    def _paint(self) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(1, 2, -1, -2)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        values = self._values
        if len(values) < 2:
            return
        top = max(values) or 1.0
        step = rect.width() / (values.maxlen - 1 if values.maxlen else len(values) - 1)
        x0 = rect.right() - step * (len(values) - 1)
        points = [
            QPointF(x0 + i * step, rect.bottom() - (v / top) * (rect.height() - 1))
            for i, v in enumerate(values)
        ]
        line = QPainterPath(points[0])
        for p in points[1:]:
            line.lineTo(p)
        area = QPainterPath(line)
        area.lineTo(points[-1].x(), rect.bottom())
        area.lineTo(points[0].x(), rect.bottom())
        area.closeSubpath()
        colour = accent(is_dark())
        fill = QColor(colour)
        fill.setAlpha(60)
        painter.fillPath(area, fill)
        painter.setPen(QPen(colour, 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawPath(line)
