"""Painting the timeline: the static layers (ruler, frame strip, cue clip with waveform and beats, markers, the
fit handle) rendered once into a pixmap, and the playhead drawn over it on every position change.

Functions of the view's state; they never change it. Kept apart from `timeline.py` (state, geometry, input).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPixmap, QPolygonF

from desktop import theme
from desktop.picture.cue_bands import paint_bands, paint_selected_span
from desktop.picture.ticks import tick_step, ticks
from desktop.picture.timefmt import clock, decimals_for

if TYPE_CHECKING:
    from desktop.picture.timeline import Rows, TimelineView

HANDLE_PX = 8  # design px: the fit handle's width (and how near the pointer must be to grab it)
MIN_BEAT_GAP_PX = 4  # closer beats are left out (downbeats stay)
PLAYHEAD = "#d0312d"
CLIP_FILL = "#dfe8f7"
CLIP_FILL_FITTED = "#f3e7c9"
STRIP_BG = "#202124"
DOWNBEAT = "#1d3f7a"
MARKER = "#8e44ad"
HOVER_TAG = "#37474f"


def render_static(view: TimelineView) -> QPixmap:
    ratio = view.devicePixelRatioF()
    pixmap = QPixmap(view.size() * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(view.palette().base().color())
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(view.font())
    rows = view.rows()
    painter.setClipRect(QRect(rows.header_w, 0, view.width() - rows.header_w, view.height()))
    paint_ruler(view, painter, rows)
    paint_picture(view, painter, rows)
    paint_selected_span(view, painter, rows)
    paint_bands(view, painter, rows)
    paint_cue(view, painter, rows)
    paint_markers(view, painter, rows)
    painter.setClipping(False)
    paint_headers(view, painter, rows)
    painter.end()
    return pixmap


def paint_headers(view: TimelineView, p: QPainter, rows: Rows) -> None:
    p.fillRect(QRect(0, 0, rows.header_w, view.height()), view.palette().window().color())
    p.setPen(view.palette().text().color())
    pad = view.px(6)
    labelled = [(rows.markers, "Markers"), (rows.picture, "Picture"), (rows.cue, "Cue")]
    if view.bands:
        labelled.append((rows.bands, "Scenes"))
    for rect, label in labelled:
        p.drawText(QRect(pad, rect.top(), rows.header_w - pad, rect.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
    p.setPen(QPen(view.palette().mid().color(), 1))
    p.drawLine(rows.header_w, 0, rows.header_w, view.height())


def paint_ruler(view: TimelineView, p: QPainter, rows: Rows) -> None:
    fm = view.fontMetrics()
    text = view.palette().text().color()
    grid = QColor(view.palette().mid().color())
    start, end = view.visible_span()
    step = tick_step(view.px_per_s(), fm.horizontalAdvance("00:00.0") + view.px(16))
    minor = step / (5 if step in (1.0, 10.0, 60.0, 600.0, 0.5, 5.0) else 2)
    r = rows.ruler
    p.setPen(QPen(grid, 1))
    p.drawLine(r.left(), r.bottom(), r.right(), r.bottom())
    for t in ticks(start, end, minor):
        x = round(view.time_to_x(t))
        p.drawLine(x, r.bottom() - view.px(3), x, r.bottom())
    decimals = decimals_for(step)
    for t in ticks(start, end, step):
        x = round(view.time_to_x(t))
        p.setPen(QPen(grid, 1))
        p.drawLine(x, r.bottom() - view.px(7), x, r.bottom())
        p.setPen(text)
        p.drawText(QRect(x + view.px(3), r.top(), view.px(200), r.height() - view.px(4)),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, clock(t, decimals))


def paint_picture(view: TimelineView, p: QPainter, rows: Rows) -> None:
    r = rows.picture
    length = view.picture_length()
    if not view.picture_kind or not length:
        placeholder(view, p, r, "No picture: drop images or a video")
        return
    x0, x1 = view.time_to_x(0.0), view.time_to_x(length)
    area = QRectF(x0, r.top(), x1 - x0, r.height())
    p.fillRect(area, QColor(STRIP_BG))
    if view.picture_error:
        p.setPen(QColor("#f0b0a0"))
        p.drawText(area, Qt.AlignmentFlag.AlignCenter, view.picture_error)
        return
    images = view.strip if view.picture_kind == "video" else ([(0.0, view.still)] if view.still else [])
    if not images:
        p.setPen(QColor("#bbbbbb"))
        p.drawText(area.intersected(QRectF(view.rect())), Qt.AlignmentFlag.AlignCenter, "loading picture…")
        return
    first = images[0][1]
    tile_w = max(view.px(24), r.height() * first.width() / max(1, first.height()))
    times = np.array([t for t, _ in images])
    p.save()
    p.setClipRect(area.intersected(QRectF(rows.header_w, 0, view.width(), view.height())))
    # tiles restart at each cut, so a tile never shows one shot over another's time
    segments = [(a, min(b, length)) for a, b in view.scenes if a < length] or [(0.0, length)]
    for a, b in segments:
        sx0, sx1 = view.time_to_x(a), view.time_to_x(b)
        if sx1 < rows.header_w or sx0 > view.width():
            continue
        p.save()
        p.setClipRect(QRectF(sx0, r.top(), sx1 - sx0, r.height()).intersected(
            QRectF(rows.header_w, 0, view.width(), view.height())))
        x = sx0 + tile_w * max(0, int((rows.header_w - tile_w - sx0) // tile_w))
        while x < min(sx1, view.width()):
            t = view.x_to_time((x + min(x + tile_w, sx1)) / 2)  # the middle of what is visible of the tile
            image = images[tile_frame(times, (a, b), t)][1]
            p.drawImage(QRectF(x, r.top(), tile_w, r.height()), image)
            p.setPen(QPen(QColor(0, 0, 0, 140), 1))
            p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
            x += tile_w
        p.restore()
    for start, _end in view.scenes[1:]:  # cuts: a bright line with a dark edge so it shows on any frame
        cx = view.time_to_x(start)
        p.setPen(QPen(QColor(0, 0, 0, 200), view.px(4)))
        p.drawLine(QPointF(cx, r.top()), QPointF(cx, r.bottom()))
        p.setPen(QPen(QColor("#ffd34d"), view.px(2)))
        p.drawLine(QPointF(cx, r.top()), QPointF(cx, r.bottom()))
    p.restore()


def tile_frame(times: np.ndarray, shot: tuple[float, float], t: float) -> int:
    """Index of the strip frame a tile at time `t` shows: the nearest inside its shot [start, end) — a frame at
    `end` is the next shot's first — else (no frame decoded inside) the nearest overall."""
    inside = np.flatnonzero((times >= shot[0]) & (times < shot[1]))
    pool = inside if len(inside) else np.arange(len(times))
    return int(pool[np.abs(times[pool] - t).argmin()])


def paint_cue(view: TimelineView, p: QPainter, rows: Rows) -> None:
    r = rows.cue
    clip = view.clip_rect()
    if view.cue is None:
        placeholder(view, p, r, "No cue: choose a result to lay it against the picture")
        return
    if clip is None:
        placeholder(view, p, r, "loading cue…")
        return
    fm = view.fontMetrics()
    accent = QColor(theme.ACCENT)
    fitted = view.fit_target_s is not None
    p.setPen(QPen(accent, 1))
    p.setBrush(QColor(CLIP_FILL_FITTED if fitted else CLIP_FILL))
    p.drawRoundedRect(clip, view.px(4), view.px(4))
    title_h = fm.height() + view.px(4)
    wave = QRectF(clip.left(), clip.top() + title_h, clip.width(), clip.height() - title_h - view.px(2))
    paint_waveform(view, p, wave)
    paint_beats(view, p, clip, wave, title_h)
    paint_title(view, p, clip, title_h)
    paint_fit(view, p, rows, clip)


def paint_waveform(view: TimelineView, p: QPainter, wave: QRectF) -> None:
    cue = view.cue
    assert cue is not None
    if cue.error:
        p.setPen(QColor(theme.ERROR_FG))
        p.drawText(wave, Qt.AlignmentFlag.AlignCenter, cue.error)
        return
    if cue.envelope is None:
        p.setPen(QColor(theme.NEUTRAL))
        p.drawText(wave, Qt.AlignmentFlag.AlignCenter, "loading waveform…")
        return
    visible = wave.intersected(QRectF(view.content_left(), wave.top(), view.content_width(), wave.height()))
    columns = max(1, int(visible.width() * view.devicePixelRatioF()))
    a = view.audio_time(view.x_to_time(visible.left()))
    b = view.audio_time(view.x_to_time(visible.right()))
    lo, hi = cue.envelope.columns(a, b, columns)
    mid = wave.center().y()
    half = (wave.height() / 2 - 1) / max(cue.envelope.peak, 1e-3)  # a quiet cue still shows its shape
    xs = visible.left() + (np.arange(columns) + 0.5) * visible.width() / columns
    outline = [QPointF(x, mid - v * half) for x, v in zip(xs, hi, strict=True)]
    outline += [QPointF(x, mid - v * half) for x, v in zip(xs[::-1], lo[::-1], strict=True)]
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(theme.WAVEFORM))
    p.drawPolygon(QPolygonF(outline))  # one call: a polygon, not thousands of lineTo


def paint_beats(view: TimelineView, p: QPainter, clip: QRectF, wave: QRectF, title_h: float) -> None:
    cue = view.cue
    assert cue is not None
    length = view.cue_length() or 0.0
    fm = view.fontMetrics()
    pps = view.px_per_s()

    def on_clip(times: list[float]) -> list[tuple[int, float]]:
        return [(i, view.timeline_time(t)) for i, t in enumerate(times)
                if cue.in_point_s <= t <= cue.in_point_s + length]

    beats = on_clip(cue.beats_s)
    gaps = np.diff(cue.beats_s) * pps if len(cue.beats_s) > 1 else np.array([np.inf])
    if _middle(gaps) >= MIN_BEAT_GAP_PX:
        p.setPen(QPen(QColor(29, 63, 122, 90), 1))
        for _, t in beats:
            x = view.time_to_x(t)
            p.drawLine(QPointF(x, wave.top()), QPointF(x, wave.bottom()))
    downs = on_clip(cue.downbeats_s)
    label_w = fm.horizontalAdvance("888") + view.px(6)
    bar_gap = _middle(np.diff(cue.downbeats_s)) * pps if len(cue.downbeats_s) > 1 else np.inf
    every = max(1, int(np.ceil(label_w / bar_gap))) if bar_gap > 0 else 1
    every = next((n for n in (1, 2, 4, 8, 16, 32, 64) if n >= every), every)
    for i, t in downs:
        x = view.time_to_x(t)
        p.setPen(QPen(QColor(DOWNBEAT), view.px(2) if bar_gap > 3 * label_w else 1))
        p.drawLine(QPointF(x, clip.top() + title_h), QPointF(x, clip.bottom()))
        text_w = fm.horizontalAdvance(str(i + 1)) + view.px(3)
        if i % every == 0 and x + text_w <= clip.right() - view.px(HANDLE_PX):  # never under the fit handle
            p.setPen(QColor(DOWNBEAT))
            p.drawText(QRectF(x + view.px(3), wave.top(), label_w, fm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, str(i + 1))


def paint_title(view: TimelineView, p: QPainter, clip: QRectF, title_h: float) -> None:
    cue = view.cue
    assert cue is not None
    parts = [cue.title]
    if cue.tempo_bpm:
        parts.append(f"{cue.tempo_bpm:.0f} BPM")
    parts.append(clock(view.cue_length() or 0.0, 1))
    visible_left = max(clip.left(), float(view.content_left()))
    box = QRectF(visible_left + view.px(6), clip.top(), clip.right() - visible_left - view.px(6) - HANDLE_PX,
                 title_h)
    p.setPen(view.palette().text().color() if view.palette().base().color().lightness() > 128
             else QColor("#111111"))
    font = p.font()
    font.setBold(True)
    p.setFont(font)
    p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
               QFontMetrics(font).elidedText("  ·  ".join(parts), Qt.TextElideMode.ElideRight, int(box.width())))
    font.setBold(False)
    p.setFont(font)


def paint_fit(view: TimelineView, p: QPainter, rows: Rows, clip: QRectF) -> None:
    """The handle on the clip's end; while dragging (or after a request) the target end, dashed."""
    handle = QRectF(clip.right() - view.px(HANDLE_PX), clip.top(), view.px(HANDLE_PX), clip.height())
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(theme.ACCENT))
    p.drawRoundedRect(handle, view.px(2), view.px(2))
    p.setPen(QPen(QColor("white"), 1))
    for dx in (0.35, 0.65):
        x = handle.left() + handle.width() * dx
        p.drawLine(QPointF(x, handle.center().y() - view.px(8)), QPointF(x, handle.center().y() + view.px(8)))
    target = view.fit_preview if view.fit_preview is not None else view.fit_target_s
    if target is None or view.cue is None:
        return
    x = view.time_to_x(view.cue.start_s + target)
    r = rows.cue
    shade = QRectF(min(x, clip.right()), r.top(), abs(x - clip.right()), r.height())
    p.fillRect(shade, QColor(192, 57, 43, 50) if x < clip.right() else QColor(31, 138, 76, 40))
    p.setPen(QPen(QColor(theme.NEGATIVE if x < clip.right() else theme.POSITIVE), view.px(2),
                  Qt.PenStyle.DashLine))
    p.drawLine(QPointF(x, rows.picture.top()), QPointF(x, r.bottom()))
    label = f"fit to {clock(target, 1)}" + ("" if view.fit_preview is not None else " (requested)")
    fm = view.fontMetrics()
    w = fm.horizontalAdvance(label) + view.px(10)
    box = QRectF(min(x + view.px(4), view.width() - w - 2), r.bottom() - fm.height() - view.px(6), w,
                 fm.height() + view.px(4))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(255, 255, 255, 230))
    p.drawRoundedRect(box, view.px(3), view.px(3))
    p.setPen(QColor("#111111"))
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


def paint_markers(view: TimelineView, p: QPainter, rows: Rows) -> None:
    r = rows.markers
    fm = view.fontMetrics()
    colour = QColor(MARKER)
    for t, label in view.markers:
        x = view.time_to_x(t)
        p.setPen(QPen(QColor(142, 68, 173, 110), 1, Qt.PenStyle.DotLine))
        p.drawLine(QPointF(x, r.bottom()), QPointF(x, rows.cue.bottom()))
        size = view.px(6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(x - size, r.top() + view.px(3)), QPointF(x + size, r.top() + view.px(3)),
                                 QPointF(x, r.top() + view.px(3) + size * 1.4)]))
        p.setPen(colour)
        p.drawText(QRectF(x + size + view.px(2), r.top(), fm.horizontalAdvance(label) + view.px(4), r.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)


def placeholder(view: TimelineView, p: QPainter, rect: QRect, text: str) -> None:
    area = QRect(rect.left() + view.content_left() + view.px(4), rect.top() + view.px(2),
                 rect.width() - view.content_left() - view.px(12), rect.height() - view.px(4))
    p.setPen(QPen(QColor(theme.NEUTRAL), 1, Qt.PenStyle.DashLine))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(area, view.px(4), view.px(4))
    p.setPen(QColor(theme.NEUTRAL))
    p.drawText(area, Qt.AlignmentFlag.AlignCenter, text)


def paint_playhead(view: TimelineView, p: QPainter) -> None:
    x = view.time_to_x(view.position)
    if x < view.content_left() - 1:
        return
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(PLAYHEAD)
    p.setPen(QPen(colour, view.px(2)))
    ruler = view.rows().ruler
    p.drawLine(QPointF(x, ruler.top() + view.px(6)), QPointF(x, view.height()))
    size = view.px(6)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawPolygon(QPolygonF([QPointF(x - size, ruler.top()), QPointF(x + size, ruler.top()),
                             QPointF(x, ruler.top() + size * 1.5)]))


def paint_hover(view: TimelineView, p: QPainter, x: float) -> None:
    """A faint line under the pointer and its time on the ruler: where a click would seek to."""
    ruler = view.rows().ruler
    p.setPen(QPen(QColor(0, 0, 0, 60), 1, Qt.PenStyle.DashLine))
    p.drawLine(QPointF(x, ruler.bottom()), QPointF(x, view.height()))
    text = clock(max(0.0, view.x_to_time(x)), 1)
    fm = view.fontMetrics()
    box = QRectF(x + view.px(2), ruler.top() + 1, fm.horizontalAdvance(text) + view.px(8), ruler.height() - 2)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(HOVER_TAG))
    p.drawRoundedRect(box, view.px(3), view.px(3))
    p.setPen(QColor("white"))
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _middle(values: np.ndarray) -> float:
    """The median without np.median, whose first call imports numpy.ma (0.1-0.3 s, here mid-paint)."""
    ordered = np.sort(np.asarray(values, np.float64))
    return float(ordered[len(ordered) // 2]) if len(ordered) else float("inf")
