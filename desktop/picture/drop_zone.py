"""The picture query: drop or open images (one or several) and a video; the stills they yield are what a search
sends to the worker (`images=[paths]`), or for a video searched per scene (the default), the video itself
(`video_query()` → `search(video=…, video_range=…, split=True)`).

Images are used as they are; a video goes through the frame picker, whose checked frames are PNGs in the frame
cache. Files that are neither are refused with a message in the zone, never silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.picture.frame_picker import PATH_ROLE, FramePicker
from desktop.picture.qimages import load_thumbnail
from desktop.picture.scene_search import SceneSearchOptions
from desktop.picture.video import VIDEO_SUFFIXES
from desktop.tasks import run_task

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
STILL_ICON = QSize(84, 56)
HINT = "Drop images or a video here"


def classify(paths: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(images, videos, refused) by suffix; a missing file is refused."""
    images, videos, refused = [], [], []
    for path in paths:
        suffix = Path(path).suffix.lower()
        if not Path(path).is_file():
            refused.append(path)
        elif suffix in IMAGE_SUFFIXES:
            images.append(path)
        elif suffix in VIDEO_SUFFIXES:
            videos.append(path)
        else:
            refused.append(path)
    return images, videos, refused


def refusal_text(refused: list[str], extra_videos: list[str]) -> str:
    parts = []
    if refused:
        names = ", ".join(Path(p).name or p for p in refused[:3]) + (" …" if len(refused) > 3 else "")
        parts.append(f"Not a picture or video: {names}")
    if extra_videos:
        parts.append(f"One video at a time: skipped {', '.join(Path(p).name for p in extra_videos)}")
    return " · ".join(parts)


class PictureDropZone(QFrame):
    """Stills (images as thumbnails) plus, for a video, a FramePicker; emits the paths to search with."""

    images_changed = Signal(list)  # still image paths to send as `images=[…]` (image files, then video frames)
    picture_changed = Signal(str)  # the picture the timeline shows: the video, else the first image, else ""
    scenes_changed = Signal(list)  # [(start_s, end_s), …] of the video; [] without one
    video_query_changed = Signal(object)  # video_query(): the per-scene search's parameters, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.stills: list[str] = []
        self.video: str | None = None
        self._emitted: list[str] | None = None
        self._thumb_token = 0
        self.setAcceptDrops(True)
        self.setObjectName("pictureDropZone")
        self.setStyleSheet(f"#pictureDropZone {{ border:2px dashed {theme.NEUTRAL}; border-radius:{theme.px(6)}px; }}"
                           f"#pictureDropZone[dragging=\"true\"] {{ border-color:{theme.ACCENT}; }}")
        self.hint = QLabel(HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet(f"color:{theme.NEUTRAL};")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self.message.setStyleSheet(f"color:{theme.ERROR_FG};")
        self.message.hide()
        self.thumbs = QListWidget()
        self.thumbs.setViewMode(QListView.ViewMode.IconMode)
        self.thumbs.setFlow(QListView.Flow.LeftToRight)
        self.thumbs.setWrapping(False)
        self.thumbs.setMovement(QListView.Movement.Static)
        self.thumbs.setIconSize(QSize(theme.px(STILL_ICON.width()), theme.px(STILL_ICON.height())))
        self.thumbs.setFixedHeight(theme.px(STILL_ICON.height()) + theme.px(14))
        self.thumbs.setToolTip("Images searched with. Delete removes the selected one.")
        self.thumbs.installEventFilter(self)
        self.thumbs.hide()
        self.picker = FramePicker()
        self.picker.frames_changed.connect(lambda _paths: self._emit_images())
        self.picker.scenes_changed.connect(self.scenes_changed)
        self.picker.hide()
        self.scene_search = SceneSearchOptions(self.picker.current_time)
        self.scene_search.changed.connect(self._emit_video_query)
        self.scene_search.hide()
        open_button = QPushButton("Open…")
        open_button.setToolTip("Choose images or a video")
        open_button.clicked.connect(self._open)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(open_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.thumbs)
        layout.addWidget(self.picker)
        layout.addWidget(self.scene_search)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._refresh_hint()

    # ---- the query ------------------------------------------------------------------------------------------

    @property
    def images(self) -> list[str]:
        """What a search sends: the image files, then the picked video frames."""
        return list(self.stills) + (self.picker.chosen() if self.video else [])

    def video_query(self) -> dict[str, Any] | None:
        """The search parameters of "Find music for each scene" for the loaded video; None when there is no video
        or its picked frames are the query."""
        if not self.video or not self.scene_search.per_scene:
            return None
        query: dict[str, Any] = {"video": self.video, "split": True}
        span = self.scene_search.video_range()
        if span is not None:
            query["video_range"] = span
        return query

    def _emit_video_query(self) -> None:
        self.video_query_changed.emit(self.video_query())

    def set_images(self, paths: list[str]) -> None:
        """Replace the picture with `paths` (images and/or one video), as dropping them would; [] clears it."""
        if list(paths) == self.images:
            return
        if not paths:
            self.clear()
        else:
            self.set_paths(list(paths))

    def set_paths(self, paths: list[str]) -> None:
        images, videos, refused = classify(paths)
        self.message.setText(refusal_text(refused, videos[1:]))
        self.message.setVisible(bool(refused or videos[1:]))
        if not images and not videos:
            return  # nothing usable: keep the current picture
        self.stills = images
        self._load_thumbnails()
        if videos:
            self.video = videos[0]
            self.picker.show()
            self.picker.load(self.video)
            self.scene_search.reset()
            self.scene_search.show()
        elif self.video is not None:
            self.video = None
            self.picker.clear()
            self.picker.hide()
            self.scene_search.hide()
        self.picture_changed.emit(self.video or (self.stills[0] if self.stills else ""))
        self._refresh_hint()
        self._emit_video_query()
        self._emit_images()

    def clear(self) -> None:
        self.stills, self.video = [], None
        self.thumbs.clear()
        self.thumbs.hide()
        self.picker.clear()
        self.picker.hide()
        self.scene_search.hide()
        self.message.hide()
        self.picture_changed.emit("")
        self._refresh_hint()
        self._emit_video_query()
        self._emit_images()

    def _emit_images(self) -> None:
        images = self.images
        if images != self._emitted:
            self._emitted = images
            self.images_changed.emit(images)

    # ---- thumbnails -----------------------------------------------------------------------------------------

    def _load_thumbnails(self) -> None:
        self._thumb_token += 1
        token = self._thumb_token
        self.thumbs.clear()
        self.thumbs.setVisible(bool(self.stills))
        for path in self.stills:
            item = QListWidgetItem(Path(path).name)
            item.setData(PATH_ROLE, path)
            item.setToolTip(path)
            self.thumbs.addItem(item)
            run_task(lambda p=path: load_thumbnail(p), lambda image, error, p=path: self._thumb_ready(token, p, image,
                                                                                                     error))

    def _thumb_ready(self, token: int, path: str, image: Any, error: BaseException | None) -> None:
        if token != self._thumb_token:
            return
        for i in range(self.thumbs.count()):
            item = self.thumbs.item(i)
            if item.data(PATH_ROLE) == path:
                if error is not None:
                    item.setText(f"{Path(path).name} (unreadable)")
                    item.setForeground(Qt.GlobalColor.red)
                else:
                    item.setIcon(QIcon(QPixmap.fromImage(image)))

    def _remove_selected_stills(self) -> None:
        gone = {it.data(PATH_ROLE) for it in self.thumbs.selectedItems()}
        if gone:
            self.stills = [p for p in self.stills if p not in gone]
            for item in self.thumbs.selectedItems():
                self.thumbs.takeItem(self.thumbs.row(item))
            self.thumbs.setVisible(bool(self.stills))
            if not self.video:
                self.picture_changed.emit(self.stills[0] if self.stills else "")
            self._refresh_hint()
            self._emit_images()

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802
        if watched is self.thumbs and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self._remove_selected_stills()
            return True
        return super().eventFilter(watched, event)

    def _refresh_hint(self) -> None:
        n = len(self.stills)
        if not n and not self.video:
            self.hint.setText(HINT)
        else:
            parts = [f"{n} image{'s' if n != 1 else ''}"] if n else []
            if self.video:
                parts.append("1 video")
            self.hint.setText(" + ".join(parts) + " · drop to replace")
        self.clear_button.setEnabled(bool(n or self.video))

    # ---- drag and drop --------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            self._set_dragging(True)
            event.acceptProposedAction()  # refusals are explained on drop, not by a forbidden cursor

    def dragLeaveEvent(self, event: Any) -> None:  # noqa: N802
        self._set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._set_dragging(False)
        urls = event.mimeData().urls()
        self.set_paths([u.toLocalFile() if u.isLocalFile() else u.toString() for u in urls])
        event.acceptProposedAction()

    def _set_dragging(self, on: bool) -> None:
        self.setProperty("dragging", "true" if on else "false")
        self.style().unpolish(self)
        self.style().polish(self)

    def _open(self) -> None:
        pattern = " ".join(f"*{s}" for s in IMAGE_SUFFIXES + VIDEO_SUFFIXES)
        files, _ = QFileDialog.getOpenFileNames(self, "Open images or a video", "", f"Pictures ({pattern})")
        if files:
            self.set_paths(files)
