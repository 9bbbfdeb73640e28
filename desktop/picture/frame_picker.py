"""Pick the stills a video is searched by: one automatic pick per scene, plus frames added by scrubbing.

Decoding and scene detection run on Qt's thread pool (`desktop.tasks.run_task`); replies for a video that is no
longer loaded are dropped by a load token. Picks are PNG files in the frame cache, so what is sent to the worker
is exactly what the thumbnails show.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.picture.qimages import THUMB_MAX_SIDE, rgb_to_qimage
from desktop.picture.scenes import Scene, SceneAnalysis, detect_scenes, representative_scenes
from desktop.picture.timefmt import clock
from desktop.picture.video import PICK_MAX_SIDE, frame_png_path, frames_at, timed_frames_at, write_png
from desktop.tasks import run_task

SCRUB_DEBOUNCE_MS = 60  # a preview decode per pause in the drag, not per pixel
SLIDER_STEPS_PER_S = 10  # 0.1-s scrubbing resolution
PICK_ICON = QSize(112, 63)  # 16:9 at a size that keeps three picks side by side in the left column
SETTLE_FRACTION = 0.25  # a scene's still comes from after its first quarter …
SETTLE_MAX_S = 1.0  # … or its first second, whichever is shorter
PATH_ROLE = Qt.ItemDataRole.UserRole
TIME_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Pick:
    time_s: float
    path: str
    thumbnail: Any  # QImage


def pick_frames(video: str, times: list[float]) -> list[Pick]:
    """Write the exact frames at `times` as PNGs (cached) with thumbnails; runs off the GUI thread."""
    return [_pick(video, t, rgb) for t, rgb in zip(times, frames_at(video, times, PICK_MAX_SIDE), strict=True)]


def scene_stills(video: str, scenes: list[Scene]) -> list[Pick]:
    """One still per scene: the keyframe before the scene's middle when it lies well inside the scene (periodic
    keyframes; one decode instead of up to a GOP), else the exact middle frame. A keyframe at the very start is
    not taken: that is where fades from black and dissolves are."""
    keyed = timed_frames_at(video, [s.pick_s for s in scenes], PICK_MAX_SIDE, exact=False)
    usable = [s.start_s + _settle(s) <= key_t < s.end_s for s, (key_t, _) in zip(scenes, keyed, strict=True)]
    exact = iter(frames_at(video, [s.pick_s for s, ok in zip(scenes, usable, strict=True) if not ok], PICK_MAX_SIDE))
    return [_pick(video, key_t, rgb) if ok else _pick(video, s.pick_s, next(exact))
            for s, (key_t, rgb), ok in zip(scenes, keyed, usable, strict=True)]


def _settle(scene: Scene) -> float:
    return min(SETTLE_MAX_S, SETTLE_FRACTION * (scene.end_s - scene.start_s))


def _pick(video: str, t: float, rgb: Any) -> Pick:
    path = frame_png_path(video, t)
    if not path.exists():
        write_png(rgb, path)
    thumb = rgb_to_qimage(rgb).scaled(THUMB_MAX_SIDE, THUMB_MAX_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)
    return Pick(t, str(path), thumb)


def analyse_video(video: str, cancelled: threading.Event, progress: list[float]) -> tuple[SceneAnalysis, list[Pick]]:
    """Scenes, then a still from each of the representative ones; runs off the GUI thread."""
    analysis = detect_scenes(video, cancelled=cancelled.is_set, progress=lambda f: progress.__setitem__(0, f))
    if cancelled.is_set():
        return analysis, []  # the picker moved on; its token drops this reply
    return analysis, scene_stills(video, representative_scenes(analysis.scenes))


class FramePicker(QWidget):
    """One video: automatic scene picks (checked = used), a scrub slider with a preview, and "Add frame"."""

    frames_changed = Signal(list)  # PNG paths of the checked picks, in time order
    scenes_changed = Signal(list)  # [(start_s, end_s), …] of the loaded video; [] when cleared
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.video: str | None = None
        self.analysis: SceneAnalysis | None = None
        self._token = 0
        self._cancel = threading.Event()
        self._progress = [0.0]
        self._busy = False
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.status = QLabel()
        self.status.setStyleSheet(f"color:{theme.NEUTRAL};")
        self.picks = QListWidget()
        self.picks.setViewMode(QListView.ViewMode.IconMode)
        self.picks.setFlow(QListView.Flow.LeftToRight)
        self.picks.setWrapping(False)
        self.picks.setMovement(QListView.Movement.Static)
        self.picks.setIconSize(QSize(theme.px(PICK_ICON.width()), theme.px(PICK_ICON.height())))
        self.picks.setFixedHeight(theme.px(PICK_ICON.height()) + 2 * self.fontMetrics().height() + theme.px(18))
        self.picks.setSpacing(theme.px(2))
        self.picks.setToolTip("Checked frames are searched with. Delete removes the selected frame.")
        self.picks.itemChanged.connect(lambda _item: self._emit_frames())
        self.picks.currentItemChanged.connect(lambda item, _previous: item and self.seek(item.data(TIME_ROLE)))
        self.picks.installEventFilter(self)
        self.preview = QLabel()
        self.preview.setFixedSize(theme.px(PICK_ICON.width()), theme.px(PICK_ICON.height()))
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:#202124; color:#bbb;")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self._scrubbed)
        self.time_label = QLabel(clock(0.0))
        self.add_button = QPushButton("Add frame")
        self.add_button.setToolTip("Use the frame under the slider as another still")
        self.add_button.clicked.connect(self.add_current_frame)
        self._scrub_timer = QTimer(self, singleShot=True, interval=SCRUB_DEBOUNCE_MS)
        self._scrub_timer.timeout.connect(self._request_preview)
        self._progress_timer = QTimer(self, interval=200)
        self._progress_timer.timeout.connect(self._show_progress)

        scrub_side = QVBoxLayout()
        scrub_side.addWidget(self.slider)
        row = QHBoxLayout()
        row.addWidget(self.time_label)
        row.addStretch(1)
        row.addWidget(self.add_button)
        scrub_side.addLayout(row)
        scrub = QHBoxLayout()
        scrub.addWidget(self.preview)
        scrub.addLayout(scrub_side, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.picks)
        layout.addLayout(scrub)
        layout.addWidget(self.status)
        self._set_enabled(False)

    # ---- loading ----------------------------------------------------------------------------------------------

    def load(self, video: str) -> None:
        """Find the scenes of `video` and pick one frame per scene (in the background)."""
        self.clear(emit=False)
        self.video = video = str(video)
        token = self._token
        self._cancel = cancel = threading.Event()
        self._progress = progress = [0.0]
        self.title.setText(f"<b>{html.escape(Path(video).name)}</b>")
        self.status.setText("Finding scenes…")
        self._progress_timer.start()
        self._set_busy(True)
        run_task(lambda: analyse_video(video, cancel, progress),
                 lambda result, error: self._analysed(token, result, error))

    def clear(self, emit: bool = True) -> None:
        self._token += 1
        self._cancel.set()
        self._progress_timer.stop()
        had = self.video is not None
        self.video, self.analysis = None, None
        self.picks.clear()
        self.title.clear()
        self.status.clear()
        self.preview.clear()
        self._set_enabled(False)
        self._set_busy(False)
        if emit and had:
            self.scenes_changed.emit([])
            self.frames_changed.emit([])

    def _analysed(self, token: int, result: tuple[SceneAnalysis, list[Pick]] | None,
                  error: BaseException | None) -> None:
        if token != self._token:
            return  # a newer video (or clear) replaced this one
        self._progress_timer.stop()
        self._set_busy(False)
        if error is not None or result is None:
            self._error(f"Cannot read this video: {error}")
            return
        self.analysis, picks = result
        count = len(self.analysis.scenes)
        name = html.escape(Path(self.video or "").name)
        self.title.setText(f"<b>{name}</b> — {count} scene{'s' if count != 1 else ''}, "
                           f"{clock(self.analysis.duration_s)}")
        picked = f"{len(picks)} of {count} scenes picked (the longest). " if len(picks) < count else ""
        self.status.setText(picked + "Checked frames are searched with; scrub to add more.")
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, int(self.analysis.duration_s * SLIDER_STEPS_PER_S) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._set_enabled(True)
        self.picks.blockSignals(True)
        for pick in picks:
            self._add_item(pick)
        self.picks.blockSignals(False)
        self.scenes_changed.emit(self.analysis.boundaries)
        self._emit_frames()
        self._request_preview()

    def _show_progress(self) -> None:
        self.status.setText(f"Finding scenes… {round(100 * self._progress[0])} %")

    # ---- picks ------------------------------------------------------------------------------------------------

    def chosen(self) -> list[str]:
        items = [self.picks.item(i) for i in range(self.picks.count())]
        checked = [it for it in items if it.checkState() == Qt.CheckState.Checked]
        return [it.data(PATH_ROLE) for it in sorted(checked, key=lambda it: it.data(TIME_ROLE))]

    def pick_times(self) -> list[float]:
        return sorted(self.picks.item(i).data(TIME_ROLE) for i in range(self.picks.count()))

    def current_time(self) -> float:
        return self.slider.value() / SLIDER_STEPS_PER_S

    def seek(self, seconds: float) -> None:
        """Move the scrub slider (e.g. from the timeline's playhead)."""
        self.slider.setValue(round(seconds * SLIDER_STEPS_PER_S))

    def add_current_frame(self) -> None:
        self.add_frame(self.current_time())

    def add_frame(self, seconds: float) -> None:
        """Add the frame at `seconds` as a checked pick (decoded and written in the background)."""
        if self.video is None or any(abs(t - seconds) < 0.5 / SLIDER_STEPS_PER_S for t in self.pick_times()):
            return
        token, video = self._token, self.video
        run_task(lambda: pick_frames(video, [seconds]),
                 lambda picks, error: self._added(token, picks, error))

    def remove_selected(self) -> None:
        rows = sorted((self.picks.row(it) for it in self.picks.selectedItems()), reverse=True)
        for row in rows:
            self.picks.takeItem(row)
        if rows:
            self._emit_frames()

    def _added(self, token: int, picks: list[Pick] | None, error: BaseException | None) -> None:
        if token != self._token:
            return
        if error is not None or not picks:
            self._error(f"Cannot grab that frame: {error}")
            return
        item = self._add_item(picks[0])
        self.picks.scrollToItem(item)
        self._emit_frames()

    def _add_item(self, pick: Pick) -> QListWidgetItem:
        item = QListWidgetItem(QIcon(QPixmap.fromImage(pick.thumbnail)), clock(pick.time_s, decimals=1))
        item.setData(PATH_ROLE, pick.path)
        item.setData(TIME_ROLE, pick.time_s)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setToolTip(f"{clock(pick.time_s, decimals=2)} — {pick.path}")
        row = sum(1 for t in self.pick_times() if t < pick.time_s)
        self.picks.insertItem(row, item)
        return item

    def _emit_frames(self) -> None:
        self.frames_changed.emit(self.chosen())

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802
        if watched is self.picks and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    # ---- scrubbing --------------------------------------------------------------------------------------------

    def _scrubbed(self, _value: int) -> None:
        self.time_label.setText(clock(self.current_time(), decimals=1))
        self._scrub_timer.start()

    def _request_preview(self) -> None:
        if self.video is None:
            return
        token, video, t = self._token, self.video, self.current_time()
        run_task(lambda: rgb_to_qimage(frames_at(video, [t], THUMB_MAX_SIDE)[0]),
                 lambda image, error: self._preview_ready(token, t, image, error))

    def _preview_ready(self, token: int, t: float, image: Any, error: BaseException | None) -> None:
        if token != self._token or abs(t - self.current_time()) > 1e-6 or error is not None:
            return  # stale: the slider moved on (a newer preview is on its way)
        self.preview.setPixmap(QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def _error(self, text: str) -> None:
        self.status.setText(f"<span style='color:{theme.ERROR_FG}'>{html.escape(text)}</span>")

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.slider, self.add_button, self.picks):
            widget.setEnabled(enabled)
