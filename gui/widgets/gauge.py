"""A queue fill gauge: depth out of capacity, turning amber then red as it fills."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from agent.foreground import foreground

__all__ = ["Gauge"]


class Gauge(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = 0
        self.maximum = 1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(60, 18)

    def sizeHint(self) -> QSize:
        return QSize(160, 20)

    def set_value(self, value: int, maximum: int) -> None:
        self.value, self.maximum = value, max(1, maximum)
        self.setToolTip(f"LogGroupQueue: {value} of {maximum} slots used")
        self.update()

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.value / self.maximum))

    def paintEvent(self, event: QPaintEvent) -> None:
        # Drawn from Python: under full ingest each QPainter call would queue for the GIL.
        with foreground.section():
            self._paint()

    def _paint(self) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(self.palette().mid().color())
        painter.setBrush(self.palette().base())
        painter.drawRoundedRect(rect, radius, radius)
        fraction = self.fraction
        if fraction > 0:
            colour = QColor("#2e9d5b") if fraction < 0.5 else QColor("#d99a1e")
            if fraction >= 1:
                colour = QColor("#d64545")
            filled = QRectF(
                rect.left(), rect.top(), max(rect.height(), rect.width() * fraction), rect.height()
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(filled, radius, radius)
        painter.setPen(self.palette().text().color())
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{self.value} / {self.maximum}")
