"""The installers' icon files, rendered from `icons/tailbox.svg` (no binary images in git)."""

from __future__ import annotations

import struct
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICO_SIZES", "SVG", "png_bytes", "write_ico", "write_png"]

SVG = Path(__file__).resolve().parent / "icons" / "tailbox.svg"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_bytes(size: int, svg: Path = SVG) -> bytes:
    """The SVG drawn at `size` x `size` pixels, as PNG data."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG image")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.12's stub asks for bytes, but only a str format is accepted at run time.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise RuntimeError("Qt could not encode the icon as PNG")
    buffer.close()
    return bytes(data.data())


def write_png(path: Path, size: int = 256) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(size))
    return path


def write_ico(path: Path, sizes: tuple[int, ...] = ICO_SIZES) -> Path:
    """A Windows .ico holding one PNG-compressed image per size (Vista and later read these).

    Written by hand because Qt's ICO plugin stores a single image, and Explorer, the
    taskbar and the start menu each pick a different size.
    """
    images = [png_bytes(size) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, data in zip(sizes, images, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + entries + b"".join(images))
    return path
