"""Thumbnails as QImage (safe to build off the GUI thread, unlike QPixmap) from files and from RGB arrays."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

THUMB_MAX_SIDE = 256  # device pixels: sharp at 2x for the ~110-px thumbnails the widgets show


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A deep copy, so the array may be freed as soon as this returns."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def load_thumbnail(path: str | os.PathLike[str], max_side: int = THUMB_MAX_SIDE) -> QImage:
    """Decode at thumbnail size (JPEG decoders scale while decoding); raises OSError when unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise OSError(f"{path}: {reader.errorString()}")
    return image
