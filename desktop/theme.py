"""Colours and sizes shared by the widgets: one place, so sign colours and spacing agree everywhere.

Sizes go through `px()`, which follows the application font (Qt itself scales logical pixels for
QT_SCALE_FACTOR / high-DPI screens, so nothing here multiplies by the device pixel ratio).
"""

from __future__ import annotations

POSITIVE = "#1f8a4c"  # attracts: green
NEGATIVE = "#c0392b"  # repels: red
NEUTRAL = "#7f8c8d"
ACCENT = "#2d6cdf"
WAVEFORM = "#4a78c2"
WAVEFORM_SELECTED = "#ffffff"
NOTICE_BG = "#fff4ce"
NOTICE_FG = "#5c4400"
ERROR_FG = "#a61b1b"
OK = "#1f8a4c"
BASE_FONT_PX = 13.0


_font_px: float | None = None


def px(n: float) -> int:
    """`n` design pixels at the application's font size (13 px design base). The font's size is read once
    (QFontInfo costs ~1 ms, and painting asks for dozens of sizes)."""
    global _font_px
    if _font_px is None:
        from PySide6.QtGui import QFontInfo
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is None:
            return max(1, round(n))
        _font_px = float(max(QFontInfo(app.font()).pixelSize(), 1))  # type: ignore[attr-defined]
    return max(1, round(n * _font_px / BASE_FONT_PX))


def slider_style(colour: str, weight: float) -> str:
    """A slider whose filled part is the sign's colour, growing from the centre (0) to the handle."""
    return (f"QSlider::groove:horizontal {{ height:{px(6)}px; border-radius:{px(3)}px; background:#d5d8dc; }}"
            f"QSlider::handle:horizontal {{ background:{colour}; width:{px(14)}px; margin:-{px(5)}px 0;"
            f" border-radius:{px(7)}px; }}")
