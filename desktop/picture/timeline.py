"""The timeline: the picture as a strip of frames above the chosen cue as a waveform clip with its beat grid,
downbeats and markers, a playhead, and a handle on the clip's end to fit the cue to a length.

Everything is in timeline seconds (picture time, 0 = the picture's first frame). The cue clip starts at
`start_s` on the timeline and plays its file from `in_point_s`; `audio_time`/`timeline_time` convert. Decoding
(waveform, frame strip) happens on the thread pool; replies for a cue or picture no longer shown are dropped.
The static layers are cached in a pixmap, so moving the playhead repaints a few pixels, not the waveform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Property, QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop import theme
from desktop.picture.envelope import Envelope, load_envelope
from desktop.picture.qimages import load_thumbnail, rgb_to_qimage
from desktop.picture.scene_cues import SceneCue
from desktop.picture.ticks import snap
from desktop.picture.timeline_paint import HANDLE_PX, paint_hover, paint_playhead, render_static
from desktop.picture.video import fit_size, is_video, probe, sample_frames, timed_frames_at
from desktop.tasks import run_task

MIN_VIEW_S = 10.0  # an empty or very short timeline still shows ten seconds
END_PAD = 0.06  # room after the last thing on the timeline, so the fit handle can be dragged longer
STILL_DEFAULT_S = 30.0  # a still image without a cue to follow
STRIP_FRAMES = 48  # frames decoded for the strip; tiles show the nearest one
STRIP_MAX_SIDE = 240
STRIP_KEYFRAME_SLACK_S = 1.0  # a keyframe this far before a tile's time still stands for it
STRIP_SEQUENTIAL_MAX_S = 600.0  # up to here, sparse keyframes are replaced by one decoding pass
MIN_FIT_S = 1.0
SNAP_PX = 8  # the fit handle snaps to the picture's end, scene cuts and markers this close
MARKER_GRAB_PX = 6  # a right-click this close to a marker removes it
CONTENT_PAD = 8  # design px between the row headers and time 0
MAX_ZOOM = 200.0
ZOOM_STEP = 1.25


@dataclass
class Cue:
    path: str
    start_s: float = 0.0
    in_point_s: float = 0.0
    length_s: float | None = None  # None until known (analysis or waveform)
    beats_s: list[float] = field(default_factory=list)  # file seconds
    downbeats_s: list[float] = field(default_factory=list)
    title: str = ""
    tempo_bpm: float | None = None
    envelope: Envelope | None = None
    error: str = ""


@dataclass
class Rows:
    ruler: QRect
    markers: QRect
    picture: QRect
    cue: QRect
    header_w: int
    bands: QRect = field(default_factory=QRect)  # the per-scene cues; empty (no height) without them


class TimelineView(QWidget):
    """Set content with set_picture / set_scenes / set_cue / set_analysis / set_markers; drive `position`."""

    seekRequested = Signal(float)  # noqa: N815 — timeline seconds the user clicked or scrubbed to
    fitRequested = Signal(float)  # noqa: N815 — the cue length (seconds) the fit handle was dropped at
    positionChanged = Signal(float)  # noqa: N815
    markersChanged = Signal(list)  # noqa: N815 — [(seconds, label), …] after the user added or removed one
    bandSelected = Signal(int)  # noqa: N815 — the per-scene cue the user clicked (its index)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.picture_path = ""
        self.picture_kind = ""  # "video", "image" or ""
        self.picture_duration_s: float | None = None
        self.picture_error = ""
        self.strip: list[tuple[float, QImage]] = []
        self.still: QImage | None = None
        self.scenes: list[tuple[float, float]] = []
        self.cue: Cue | None = None
        self.markers: list[tuple[float, str]] = []
        self.bands: list[SceneCue] = []  # per-scene cues of a video search, each over its span
        self.selected_band = -1
        self.zoom = 1.0
        self.view_start = 0.0
        self._position = 0.0
        self._picture_token = 0
        self._cue_token = 0
        self._cache: QPixmap | None = None
        self._drag = ""  # "fit", "scrub" or ""
        self.fit_preview: float | None = None
        self.fit_target_s: float | None = None  # the last length asked for, shown until a new cue arrives
        self._frozen_duration: float | None = None  # the view does not rescale under a dragging hand
        self._px_cache: dict[float, int] = {}
        self.hover_x: float | None = None
        self._rows: Rows | None = None

    # ---- content --------------------------------------------------------------------------------------------

    def set_picture(self, path: str, duration_s: float | None = None) -> None:
        """A video (strip of frames) or an image (the still for `duration_s`, else as long as the cue)."""
        self._picture_token += 1
        token = self._picture_token
        self.picture_path, self.strip, self.still, self.picture_error = str(path or ""), [], None, ""
        self.picture_kind = "" if not path else ("video" if is_video(path) else "image")
        self.picture_duration_s = duration_s
        if self.picture_kind == "video":
            run_task(lambda: _decode_strip(path), lambda out, err: self._strip_ready(token, duration_s, out, err))
        elif self.picture_kind == "image":
            run_task(lambda: load_thumbnail(path, STRIP_MAX_SIDE),
                     lambda image, err: self._still_ready(token, image, err))
        if not path:
            self.scenes = []
        self._changed()

    def set_scenes(self, scenes: Sequence[Sequence[float]]) -> None:
        """Scene boundaries [(start_s, end_s), …] (the drop zone's `scenes_changed`)."""
        self.scenes = [(float(a), float(b)) for a, b in scenes]
        self._changed()

    def set_cue(self, path: str, *, start_s: float = 0.0, in_point_s: float = 0.0, length_s: float | None = None,
                beats_s: Sequence[float] = (), downbeats_s: Sequence[float] = (), title: str = "",
                tempo_bpm: float | None = None) -> None:
        """Show `path` as the cue clip; its waveform loads in the background. Beats are in file seconds."""
        self._cue_token += 1
        token = self._cue_token
        self.fit_target_s = None
        if not path:
            self.cue = None
            self._changed()
            return
        self.cue = Cue(str(path), float(start_s), float(in_point_s), length_s, [float(b) for b in beats_s],
                       [float(b) for b in downbeats_s], title or Path(path).stem, tempo_bpm)
        run_task(lambda: load_envelope(path), lambda env, err: self._envelope_ready(token, env, err))
        self._changed()

    def set_analysis(self, analysis: dict[str, Any]) -> None:
        """The worker's analyze result for the current cue: beats_s, downbeats_s, tempo_bpm, duration_s."""
        if self.cue is None:
            return
        self.cue.beats_s = [float(b) for b in analysis.get("beats_s", [])]
        self.cue.downbeats_s = [float(b) for b in analysis.get("downbeats_s", [])]
        self.cue.tempo_bpm = analysis.get("tempo_bpm", self.cue.tempo_bpm)
        if self.cue.length_s is None and analysis.get("duration_s"):
            self.cue.length_s = max(0.0, float(analysis["duration_s"]) - self.cue.in_point_s)
        self._changed()

    def set_bands(self, cues: Sequence[SceneCue], selected: int = 0) -> None:
        """Lay out a per-scene search's cues as bands under the picture ([] removes the row)."""
        self.bands = list(cues)
        self.selected_band = min(max(0, selected), len(self.bands) - 1) if self.bands else -1
        self._rows = None  # the bands row appears or goes: the rows below move
        self._changed()

    def select_band(self, index: int) -> None:
        """Highlight band `index` (does not emit bandSelected: that is for the user's clicks)."""
        if 0 <= index < len(self.bands) and index != self.selected_band:
            self.selected_band = index
            self._changed()

    def band_at(self, pos: QPointF) -> int | None:
        """Index of the band under `pos`, if any."""
        if not self.bands or not self.rows().bands.contains(pos.toPoint()) or pos.x() < self.content_left():
            return None
        t = self.x_to_time(pos.x())
        return next((cue.index for cue in self.bands if cue.start_s <= t < cue.end_s), None)

    def set_markers(self, markers: Sequence[tuple[float, str]]) -> None:
        self.markers = sorted((float(t), str(label)) for t, label in markers)
        self._changed()

    def add_marker(self, seconds: float, label: str = "") -> None:
        """A user marker (M at the playhead, or double-click in the Markers row); numbered when unlabelled."""
        self.markers = sorted([*self.markers, (round(max(0.0, seconds), 3), label or f"M{len(self.markers) + 1}")])
        self._changed()
        self.markersChanged.emit(list(self.markers))

    def marker_at(self, x: float) -> int | None:
        """Index of the marker drawn within a few pixels of `x`, if any."""
        near = [(abs(self.time_to_x(t) - x), i) for i, (t, _) in enumerate(self.markers)]
        best = min(near, default=None)
        return best[1] if best is not None and best[0] <= self.px(MARKER_GRAB_PX) else None

    def remove_marker(self, index: int) -> None:
        del self.markers[index]
        self._changed()
        self.markersChanged.emit(list(self.markers))

    def clear_fit(self) -> None:
        """Forget the requested fit length (e.g. when the worker's fit failed)."""
        self.fit_target_s = None
        self._changed()

    # ---- playhead ---------------------------------------------------------------------------------------------

    def _get_position(self) -> float:
        return self._position

    def setPosition(self, seconds: float) -> None:  # noqa: N802 — the Qt property's setter
        seconds = max(0.0, float(seconds))
        if seconds == self._position:
            return
        old = self._playhead_rect()
        self._position = seconds
        self.update(old.united(self._playhead_rect()))
        self.positionChanged.emit(seconds)

    position = Property(float, _get_position, setPosition, notify=positionChanged)

    def set_audio_position(self, file_s: float) -> None:
        """Slot for a player reporting seconds into the cue's file (desktop.audition.Player.position_changed)."""
        self.setPosition(self.timeline_time(file_s))

    def audio_time(self, timeline_s: float) -> float:
        """Seconds into the cue's file that play at `timeline_s`."""
        return timeline_s if self.cue is None else self.cue.in_point_s + timeline_s - self.cue.start_s

    def timeline_time(self, file_s: float) -> float:
        return file_s if self.cue is None else self.cue.start_s + file_s - self.cue.in_point_s

    # ---- geometry ---------------------------------------------------------------------------------------------

    def cue_length(self) -> float | None:
        if self.cue is None:
            return None
        if self.cue.length_s is not None:
            return self.cue.length_s
        if self.cue.envelope is not None:
            return max(0.0, self.cue.envelope.duration_s - self.cue.in_point_s)
        return None

    def picture_length(self) -> float | None:
        """How long the picture lasts: the video's duration, or the still's (explicit, else the cue's end)."""
        if self.picture_duration_s is not None:
            return self.picture_duration_s
        if self.picture_kind == "image":
            length = self.cue_length()
            return (self.cue.start_s + length) if self.cue is not None and length else STILL_DEFAULT_S
        return None

    def content_duration(self) -> float:
        if self._frozen_duration is not None:
            return self._frozen_duration
        ends = [MIN_VIEW_S, self.picture_length() or 0.0, *(t for t, _ in self.markers)]
        length = self.cue_length()
        if self.cue is not None and length:
            ends.append(self.cue.start_s + length)
        if self.fit_target_s is not None and self.cue is not None:
            ends.append(self.cue.start_s + self.fit_target_s)
        return max(ends) * (1 + END_PAD)

    def px(self, n: float) -> int:
        """theme.px, cached: geometry is asked for on every mouse move and paint, and the font rarely changes."""
        if n not in self._px_cache:
            self._px_cache[n] = theme.px(n)
        return self._px_cache[n]

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.ApplicationFontChange):
            self._px_cache.clear()
            self._rows = self._cache = None
        super().changeEvent(event)

    def rows(self) -> Rows:
        if self._rows is None or self._rows.ruler.width() != self.width():
            self._rows = self._compute_rows()
        return self._rows

    def _compute_rows(self) -> Rows:
        fm = self.fontMetrics()
        line = fm.height()
        header_w = fm.horizontalAdvance("Picture") + self.px(18)
        ruler = QRect(0, 0, self.width(), line + self.px(10))
        markers = QRect(0, ruler.bottom() + 1, self.width(), line + self.px(6))
        picture = QRect(0, markers.bottom() + 1 + self.px(2), self.width(), self.px(56))
        bands = QRect(0, picture.bottom() + 1 + self.px(4), self.width(), 2 * line + self.px(16) if self.bands else 0)
        above_cue = bands.bottom() if self.bands else picture.bottom()
        cue = QRect(0, above_cue + 1 + self.px(6), self.width(), max(self.px(76), 3 * line + self.px(20)))
        return Rows(ruler, markers, picture, cue, header_w, bands)

    def content_left(self) -> int:
        """Where time 0 sits: a little right of the headers, so the playhead at 0 is whole."""
        return self.rows().header_w + self.px(CONTENT_PAD)

    def content_width(self) -> int:
        return max(1, self.width() - self.content_left() - self.px(CONTENT_PAD))

    def px_per_s(self) -> float:
        return self.content_width() * self.zoom / self.content_duration()

    def time_to_x(self, seconds: float) -> float:
        return self.content_left() + (seconds - self.view_start) * self.px_per_s()

    def x_to_time(self, x: float) -> float:
        return self.view_start + (x - self.content_left()) / self.px_per_s()

    def visible_span(self) -> tuple[float, float]:
        return self.view_start, self.view_start + self.content_width() / self.px_per_s()

    def clip_rect(self) -> QRectF | None:
        length = self.cue_length()
        if self.cue is None or not length:
            return None
        r = self.rows().cue
        return QRectF(self.time_to_x(self.cue.start_s), r.top() + 1,
                      length * self.px_per_s(), r.height() - 2)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.px(900), self.rows().cue.bottom() + self.px(8))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.px(320), self.sizeHint().height())

    # ---- background results -----------------------------------------------------------------------------------

    def _strip_ready(self, token: int, duration_s: float | None, out: Any, error: BaseException | None) -> None:
        if token != self._picture_token:
            return
        if error is not None:
            self.picture_error = f"Cannot read the video: {error}"
        else:
            info_duration, self.strip = out
            if duration_s is None:
                self.picture_duration_s = info_duration
        self._changed()

    def _still_ready(self, token: int, image: Any, error: BaseException | None) -> None:
        if token != self._picture_token:
            return
        if error is not None:
            self.picture_error = f"Cannot read the image: {error}"
        else:
            self.still = image
        self._changed()

    def _envelope_ready(self, token: int, envelope: Envelope | None, error: BaseException | None) -> None:
        if token != self._cue_token or self.cue is None:
            return
        if error is not None or envelope is None:
            self.cue.error = f"Cannot read the audio: {error}"
        else:
            self.cue.envelope = envelope
        self._changed()

    def waveform_loaded(self) -> bool:
        return self.cue is not None and (self.cue.envelope is not None or bool(self.cue.error))

    # ---- painting ---------------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._cache = None
        self._clamp_view()
        self.updateGeometry()
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._cache = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if self._cache is None or self._cache.size() != self.size() * self.devicePixelRatioF():
            self._cache = render_static(self)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        if self.hover_x is not None and not self._drag:
            paint_hover(self, painter, self.hover_x)
        paint_playhead(self, painter)
        painter.end()

    def _hover_rect(self) -> QRect:
        if self.hover_x is None:
            return QRect()
        width = self.fontMetrics().horizontalAdvance("0:00:00.0") + self.px(16)
        return QRect(round(self.hover_x) - 2, 0, width, self.height())

    def _set_hover(self, x: float | None) -> None:
        """The pointer's time, shown as a faint line and a tag on the ruler (repaints only that strip)."""
        old = self._hover_rect()
        self.hover_x = x if x is None or x >= self.content_left() else None
        self.update(old.united(self._hover_rect()))

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_hover(None)
        super().leaveEvent(event)

    def _playhead_rect(self) -> QRect:
        x = round(self.time_to_x(self._position))
        return QRect(x - self.px(8), 0, self.px(16) + 1, self.height())

    # ---- interaction ------------------------------------------------------------------------------------------

    def on_fit_handle(self, pos: QPointF) -> bool:
        clip = self.clip_rect()
        return (clip is not None and abs(pos.x() - clip.right()) <= self.px(HANDLE_PX)
                and clip.top() <= pos.y() <= clip.bottom())

    def fit_length_at(self, x: float, snapping: bool = True) -> float:
        """The cue length the handle means at `x`: snapped to the picture's end, cuts and markers nearby."""
        assert self.cue is not None
        end = self.x_to_time(x)
        if snapping:
            candidates = [t for _, t in self.scenes] + [t for t, _ in self.markers] + [c.end_s for c in self.bands]
            if self.picture_kind == "video" and self.picture_duration_s:
                candidates.append(self.picture_duration_s)
            end = snap(end, candidates, self.px_per_s(), self.px(SNAP_PX))
        return round(max(MIN_FIT_S, end - self.cue.start_s), 3)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton and self.rows().markers.contains(pos.toPoint()):
            index = self.marker_at(pos.x())
            if index is not None:
                self.remove_marker(index)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        band = self.band_at(pos)
        if band is not None:
            self.select_band(band)
            self.bandSelected.emit(band)
            return
        if self.on_fit_handle(pos):
            self._drag = "fit"
            self._frozen_duration = self.content_duration()
            self.fit_preview = self.fit_length_at(pos.x(), self._snapping(event))
        elif pos.x() >= self.content_left():
            self._drag = "scrub"
            self._seek_to(pos.x())
        self._cache = None
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag == "fit":
            self.fit_preview = self.fit_length_at(pos.x(), self._snapping(event))
            self._cache = None
            self.update()
        elif self._drag == "scrub":
            self._seek_to(pos.x())
        else:
            self._set_hover(pos.x())
            on_handle = self.on_fit_handle(pos)
            self.setCursor(Qt.CursorShape.SizeHorCursor if on_handle else Qt.CursorShape.ArrowCursor)
            if on_handle:
                tip = "Drag to fit the cue to a length (Alt: no snapping); double-click: end with the picture"
            elif self.rows().markers.contains(pos.toPoint()):
                tip = "Double-click (or press M at the playhead) to add a marker; right-click one to remove it"
            elif (band := self.band_at(pos)) is not None:
                tip = f"{self.bands[band].label}: click to see this scene's results"
            else:
                tip = ""
            self.setToolTip(tip)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Double-click on the fit handle: fit the cue to end with the picture (or with its scene cue's band)."""
        length = self.picture_length()
        if 0 <= self.selected_band < len(self.bands):
            length = self.bands[self.selected_band].end_s
        if self.cue is not None and length and self.on_fit_handle(event.position()):
            self._drag, self.fit_preview, self._frozen_duration = "", None, None
            self.request_fit(length - self.cue.start_s)
        elif self.rows().markers.contains(event.position().toPoint()) and event.position().x() >= self.content_left():
            self._drag = ""
            self.add_marker(self.x_to_time(event.position().x()))
        else:
            super().mouseDoubleClickEvent(event)

    def request_fit(self, seconds: float) -> None:
        """Ask for the cue to be `seconds` long (as the handle does); ignored when it already is."""
        seconds = round(max(MIN_FIT_S, seconds), 3)
        if abs(seconds - (self.cue_length() or 0.0)) >= 1e-3:
            self.fit_target_s = seconds
            self.fitRequested.emit(seconds)
        self._changed()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag == "fit" and self.fit_preview is not None:
            seconds = self.fit_length_at(event.position().x(), self._snapping(event))
            self.fit_preview = self._frozen_duration = None
            self.request_fit(seconds)
        self._drag = ""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self._drag == "fit":
            self._drag, self.fit_preview, self._frozen_duration = "", None, None
            self._changed()
            return
        if event.key() == Qt.Key.Key_M:
            self.add_marker(self._position)
            return
        if event.key() in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight) and self.bands:
            step = 1 if event.key() == Qt.Key.Key_BracketRight else -1  # [ ] previous / next scene cue
            index = min(len(self.bands) - 1, max(0, self.selected_band + step))
            if index != self.selected_band:
                self.select_band(index)
                self.bandSelected.emit(index)
            return
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 1.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.1
            t = max(0.0, self._position + (step if event.key() == Qt.Key.Key_Right else -step))
            self.setPosition(t)
            self.seekRequested.emit(t)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        """Wheel zooms around the pointer; Shift+wheel (or a horizontal swipe) scrolls."""
        delta = event.angleDelta()
        if delta.x() or event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            amount = (delta.x() or delta.y()) / 120.0
            self.view_start -= amount * 0.1 * (self.visible_span()[1] - self.view_start)
        elif delta.y():
            anchor = self.x_to_time(event.position().x())
            self.zoom = min(MAX_ZOOM, max(1.0, self.zoom * (ZOOM_STEP if delta.y() > 0 else 1 / ZOOM_STEP)))
            self.view_start = anchor - (event.position().x() - self.content_left()) / self.px_per_s()
        self._changed()
        event.accept()

    def _clamp_view(self) -> None:
        visible = self.content_width() / self.px_per_s()
        self.view_start = min(max(0.0, self.view_start), max(0.0, self.content_duration() - visible))

    def _seek_to(self, x: float) -> None:
        t = max(0.0, self.x_to_time(x))
        self.setPosition(t)
        self.seekRequested.emit(t)

    @staticmethod
    def _snapping(event: QMouseEvent) -> bool:
        return not event.modifiers() & Qt.KeyboardModifier.AltModifier


def _decode_strip(path: str) -> tuple[float, list[tuple[float, QImage]]]:
    """(duration, [(time, frame)]) for the strip at about STRIP_FRAMES equally spaced times, each frame with its
    own time.

    Keyframes first (one decode per tile). Where they are too sparse (long GOPs: every seek would decode up to a
    GOP, 40 s for a minute of 720p), one sequential pass over the reference frames of a short video instead
    (~5 s for that minute); a long film keeps its keyframes, whose tiles are minutes wide anyway.
    """
    info = probe(path)
    duration = info.duration_s
    count = max(1, min(STRIP_FRAMES, int(duration * 2) or 1))
    times = [(i + 0.5) * duration / count for i in range(count)]
    keyed = timed_frames_at(path, times, STRIP_MAX_SIDE, exact=False)
    sparse = any(t - key_t > max(duration / count, STRIP_KEYFRAME_SLACK_S)
                 for t, (key_t, _) in zip(times, keyed, strict=True))
    if sparse and duration <= STRIP_SEQUENTIAL_MAX_S:
        size = fit_size(info.width, info.height, STRIP_MAX_SIDE)
        frames = {f.time_s: f.rgb for f in sample_frames(path, count / duration, size)} if duration > 0 \
            else dict(keyed)
    else:
        frames = dict(keyed)  # repeated keyframes collapse
    return duration, [(t, rgb_to_qimage(rgb)) for t, rgb in sorted(frames.items(), key=lambda item: item[0])]

