"""How a video is searched: "Find music for each scene" (the default: the worker splits the video, or the range
set with In/Out, at its scene changes and gives every cue its own results), or unchecked, by the frames picked
above (one result list for all of them).

The range's bounds come from the frame picker's scrub position (`time_source`), as an editor marks in and out.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop import theme
from desktop.picture.timefmt import clock

MIN_RANGE_S = 1.0  # an out point this close after the in point (or before it) starts the range again
PER_SCENE_NOTE = "Each cue gets its own results on the timeline; the frames above are not sent."
FRAMES_NOTE = "One result list for the checked frames above."


class SceneSearchOptions(QWidget):
    """The per-scene switch and the optional in/out range; `changed` after any edit."""

    changed = Signal()

    def __init__(self, time_source: Callable[[], float], parent: QWidget | None = None):
        super().__init__(parent)
        self.time_source = time_source
        self.in_s: float | None = None
        self.out_s: float | None = None
        self.each_scene = QCheckBox("Find music for each scene")
        self.each_scene.setChecked(True)
        self.each_scene.setToolTip("Split the video at its scene changes; every cue gets its own results on the "
                                   "timeline. Unchecked: search with the checked frames above.")
        self.each_scene.toggled.connect(self._edited)
        self.in_button = QPushButton("In")
        self.in_button.setToolTip("Start the range at the scrub position")
        self.in_button.clicked.connect(lambda: self.set_in(self.time_source()))
        self.out_button = QPushButton("Out")
        self.out_button.setToolTip("End the range at the scrub position")
        self.out_button.clicked.connect(lambda: self.set_out(self.time_source()))
        self.whole_button = QPushButton("Whole")
        self.whole_button.setToolTip("Search the whole video")
        self.whole_button.clicked.connect(self.clear_range)
        self.range_label = QLabel()
        self.range_label.setStyleSheet(f"color:{theme.NEUTRAL};")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color:{theme.NEUTRAL};")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.range_label, 1)
        for button in (self.in_button, self.out_button, self.whole_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.each_scene)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self._refresh()

    @property
    def per_scene(self) -> bool:
        return self.each_scene.isChecked()

    def video_range(self) -> list[float] | None:
        """[start, end] in seconds (None: the whole video; a missing end: to the end)."""
        if self.in_s is None and self.out_s is None:
            return None
        return [self.in_s or 0.0, self.out_s] if self.out_s is not None else [self.in_s or 0.0]

    def set_in(self, seconds: float) -> None:
        self.in_s = round(max(0.0, seconds), 3)
        if self.out_s is not None and self.out_s - self.in_s < MIN_RANGE_S:
            self.out_s = None
        self._edited()

    def set_out(self, seconds: float) -> None:
        self.out_s = round(max(0.0, seconds), 3)
        if self.in_s is not None and self.out_s - self.in_s < MIN_RANGE_S:
            self.in_s = None
        if self.out_s < MIN_RANGE_S:
            self.out_s = None
        self._edited()

    def clear_range(self) -> None:
        if self.in_s is not None or self.out_s is not None:
            self.in_s = self.out_s = None
            self._edited()

    def reset(self) -> None:
        """A new video: per scene, whole video (no signal: the zone announces the new video itself)."""
        self.in_s = self.out_s = None
        self.each_scene.blockSignals(True)
        self.each_scene.setChecked(True)
        self.each_scene.blockSignals(False)
        self._refresh()

    def _edited(self) -> None:
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        span = self.video_range()
        if span is None:
            text = "Whole video"
        else:
            text = f"Range {clock(span[0], 1)}–{clock(span[1], 1) if len(span) > 1 else 'end'}"
        self.range_label.setText(text)
        self.note.setText(PER_SCENE_NOTE if self.per_scene else FRAMES_NOTE)
        for widget in (self.range_label, self.in_button, self.out_button):
            widget.setEnabled(self.per_scene)
        self.whole_button.setEnabled(self.per_scene and span is not None)
