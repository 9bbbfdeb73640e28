"""A plain picture input: drop or open one or several images; they become the search's image query.

The full drop zone (video frame picker with scene-change picks) lives in `desktop.picture`; this one stands in
where that package is not available, and is what `MainWindow.set_images` feeds either way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop import theme

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
THUMB = QSize(96, 64)
MAX_THUMBS = 4


def image_paths(paths: list[str]) -> list[str]:
    return [p for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES and Path(p).is_file()]


class ImageDropZone(QFrame):
    images_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.images: list[str] = []
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("dropZone")
        self.setStyleSheet(f"#dropZone {{ border:2px dashed {theme.NEUTRAL}; border-radius:{theme.px(6)}px; }}")
        self.hint = QLabel("Drop images here")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbs = QHBoxLayout()
        open_button = QPushButton("Open…")
        open_button.clicked.connect(self._open)
        clear_button = QPushButton("Clear")
        clear_button.clicked.connect(lambda: self.set_images([]))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(open_button)
        buttons.addWidget(clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(self.thumbs)
        layout.addLayout(buttons)

    def set_images(self, paths: list[str]) -> None:
        self.images = image_paths(paths)
        while self.thumbs.count():
            item = self.thumbs.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for path in self.images[:MAX_THUMBS]:
            label = QLabel()
            size = QSize(theme.px(THUMB.width()), theme.px(THUMB.height()))
            label.setPixmap(QPixmap(path).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
            label.setToolTip(path)
            self.thumbs.addWidget(label)
        extra = len(self.images) - MAX_THUMBS
        self.hint.setText("Drop images here" if not self.images else
                           f"{len(self.images)} image{'s' if len(self.images) > 1 else ''}"
                           + (f" (+{extra} not shown)" if extra > 0 else ""))
        self.images_changed.emit(list(self.images))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if image_paths([u.toLocalFile() for u in event.mimeData().urls()]):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = image_paths([u.toLocalFile() for u in event.mimeData().urls()])
        if paths:
            self.set_images(paths)
            event.acceptProposedAction()

    def _open(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", "",
                                                "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")")
        if files:
            self.set_images(files)
