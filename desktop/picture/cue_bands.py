"""Painting the per-scene cues on the timeline: one band per cue over its time span (its number, best match,
span and score), the scene cuts inside a cue as notches on its edges, the selected cue filled and framed on the picture.

Functions of the view's state; they never change it (like `timeline_paint`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

from desktop import theme
from desktop.picture.timefmt import clock

if TYPE_CHECKING:
    from desktop.picture.timeline import Rows, TimelineView

BAND_FILLS = ("#e6edf9", "#eef4e4")  # alternate, so neighbouring cues read apart even when labels elide
BAND_BORDER = "#9db3d9"
SELECTED_TEXT = "#ffffff"
TEXT = "#1b1b1b"
DIM_TEXT = "#4d5560"
GAP_PX = 2  # design px between neighbouring bands: the cue boundary stays visible
MIN_LABEL_PX = 18  # narrower bands show no text (the tooltip still names them)
NOTCH_PX = 4  # design px: a scene cut inside a cue is marked on the band's edges, never across its label


def band_rect(view: TimelineView, rows: Rows, start_s: float, end_s: float) -> QRectF:
    r = rows.bands
    x0, x1 = view.time_to_x(start_s), view.time_to_x(end_s)
    gap = view.px(GAP_PX) / 2
    return QRectF(x0 + gap, r.top() + view.px(2), max(1.0, x1 - x0 - 2 * gap), r.height() - view.px(4))


def paint_bands(view: TimelineView, p: QPainter, rows: Rows) -> None:
    if not view.bands:
        return
    fm = view.fontMetrics()
    bold = QFont(view.font())
    bold.setBold(True)
    bold_fm = QFontMetrics(bold)
    pad = view.px(6)
    for cue in view.bands:
        rect = band_rect(view, rows, cue.start_s, cue.end_s)
        selected = cue.index == view.selected_band
        p.setPen(QPen(QColor(theme.ACCENT if selected else BAND_BORDER), view.px(2) if selected else 1))
        p.setBrush(QColor(theme.ACCENT if selected else BAND_FILLS[cue.index % 2]))
        p.drawRoundedRect(rect, view.px(4), view.px(4))
        notch = view.px(NOTCH_PX)
        p.setPen(QPen(QColor(SELECTED_TEXT if selected else theme.ACCENT), view.px(2)))
        for start, _end in cue.scenes[1:]:  # cuts inside a cue of several short scenes: notches clear of the text
            x = view.time_to_x(start)
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.top() + notch))
            p.drawLine(QPointF(x, rect.bottom() - notch), QPointF(x, rect.bottom()))
        text = QRectF(rect.left() + pad, rect.top(), rect.width() - 2 * pad, rect.height())
        if text.width() < view.px(MIN_LABEL_PX):
            continue
        line = fm.height()
        top = rect.center().y() - line
        p.setFont(bold)
        p.setPen(QColor(SELECTED_TEXT if selected else TEXT))
        p.drawText(QRectF(text.left(), top, text.width(), line), Qt.AlignmentFlag.AlignLeft |
                   Qt.AlignmentFlag.AlignVCenter,
                   bold_fm.elidedText(cue.label, Qt.TextElideMode.ElideRight, int(text.width())))
        p.setFont(view.font())
        p.setPen(QColor(SELECTED_TEXT if selected else DIM_TEXT))
        p.drawText(QRectF(text.left(), top + line, text.width(), line),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(detail(cue), Qt.TextElideMode.ElideRight, int(text.width())))


def detail(cue) -> str:
    """The band's second line: its span, then the best match's score."""
    span = f"{clock(cue.start_s)}–{clock(cue.end_s)}"
    top = cue.top
    return span if top is None else f"{span} · {top.get('score', 0.0):.2f}"


def paint_selected_span(view: TimelineView, p: QPainter, rows: Rows) -> None:
    """Frame the selected cue's stretch of the picture strip, so it is clear which pictures the results fit."""
    if not 0 <= view.selected_band < len(view.bands):
        return
    cue = view.bands[view.selected_band]
    r = rows.picture
    x0, x1 = view.time_to_x(cue.start_s), view.time_to_x(cue.end_s)
    p.setPen(QPen(QColor(theme.ACCENT), view.px(3)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(x0 + 1, r.top() + 1, x1 - x0 - 2, r.height() - 2))
