"""Finished exports and generated cues as files you can drag straight onto a DAW or NLE timeline (a `QDrag`
carrying file URLs), play, or reveal in the file manager; running export/generate jobs show their progress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDrag
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.progress import progress_text
from protocol.messages import Progress

PathRole = Qt.ItemDataRole.UserRole + 1
PROGRESS_STEPS = 1000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def file_urls_mime(paths: list[str]) -> QMimeData:
    """What a drag out of the app carries: file URLs (text/uri-list) that DAWs and NLEs accept as a file drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(p).resolve())) for p in paths])
    return mime


def reveal_command(path: str, platform: str = sys.platform) -> list[str] | None:
    """The command that shows `path` selected in the file manager (None: open its folder through Qt)."""
    if platform == "darwin":
        return ["open", "-R", path]
    if platform == "win32":
        return ["explorer", f"/select,{path}"]
    return None


def reveal(path: str) -> None:
    command = reveal_command(path)
    if command is None:
        target = path if Path(path).is_dir() else str(Path(path).parent)
        QDesktopServices.openUrl(QUrl.fromLocalFile(target))
    else:
        subprocess.Popen(command)  # noqa: S603  (our own fixed command, the path as one argument)


class FilesTree(QTreeWidget):
    """One top-level item per export (dragging it drags all its files), its files as children."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["Exports and cues", "Size"])
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.last_drag: QMimeData | None = None

    def selected_paths(self) -> list[str]:
        paths: list[str] = []
        for item in self.selectedItems():
            if item.childCount():
                paths += [item.child(i).data(0, PathRole) for i in range(item.childCount())]
            elif item.data(0, PathRole):
                paths.append(item.data(0, PathRole))
        return [p for p in dict.fromkeys(paths) if p and Path(p).exists()]

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802
        paths = self.selected_paths()
        if not paths:
            return
        self.last_drag = file_urls_mime(paths)
        drag = QDrag(self)
        drag.setMimeData(self.last_drag)
        drag.exec(Qt.DropAction.CopyAction)


class ExportsPanel(QWidget):
    play_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = FilesTree()
        self.bar = QProgressBar()
        self.bar.setRange(0, PROGRESS_STEPS)
        self.bar.setVisible(False)
        self.state = QLabel("Exports and generated cues appear here; drag them onto your DAW or NLE.")
        self.state.setWordWrap(True)
        self.state.setMinimumHeight(self.state.fontMetrics().lineSpacing() * 2 + 4)
        self.reveal_button = QPushButton("Reveal in file manager")
        self.reveal_button.clicked.connect(self._reveal)
        self.play_button = QPushButton("▶ Play")
        self.play_button.clicked.connect(self._play)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.bar)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

    def show_progress(self, what: str, event: Progress) -> None:
        self.bar.setVisible(True)
        self.bar.setValue(round(event.fraction * PROGRESS_STEPS))
        self.state.setText(f"{what}: {progress_text(event)}")

    def job_ended(self, text: str) -> None:
        self.bar.setVisible(False)
        self.state.setText(text)

    def add_files(self, title: str, detail: str, files: list[str]) -> QTreeWidgetItem:
        top = QTreeWidgetItem([f"{title} — {detail}" if detail else title, ""])
        top.setToolTip(0, str(Path(files[0]).parent) if files else title)
        if files:
            top.setData(0, PathRole, str(Path(files[0]).parent))
        for path in files:
            child = QTreeWidgetItem([Path(path).name, _size(path)])
            child.setData(0, PathRole, path)
            child.setToolTip(0, path)
            top.addChild(child)
        self.tree.insertTopLevelItem(0, top)
        top.setFirstColumnSpanned(True)  # the export's summary spans; the second column holds file sizes only
        top.setExpanded(True)
        self.tree.setCurrentItem(top)
        return top

    def add_export(self, reply: dict[str, Any]) -> QTreeWidgetItem:
        files = reply.get("files", [])
        detail = f"{reply.get('tempo_bpm', 0):.0f} BPM · {reply.get('key', '?')} · {reply.get('duration_s', 0):.0f} s"
        return self.add_files(Path(reply.get("out_dir") or (files[0] if files else "export")).name, detail, files)

    def add_generated(self, reply: dict[str, Any]) -> QTreeWidgetItem:
        files = reply.get("files", [])
        detail = f"{reply.get('backend')} · seed {reply.get('seed')} · {reply.get('tempo_bpm', 0):.0f} BPM"
        title = Path(files[0]).stem if files else "generated cue"
        return self.add_files(title, detail, files)

    def _reveal(self) -> None:
        item = self.tree.currentItem()
        if item is not None and item.data(0, PathRole):
            reveal(item.data(0, PathRole))

    def _play(self) -> None:
        for path in self.tree.selected_paths():
            if path.lower().endswith(AUDIO_SUFFIXES):
                self.play_requested.emit(path)
                return


def _size(path: str) -> str:
    try:
        size = Path(path).stat().st_size
    except OSError:
        return "missing"
    if size < 1000:
        return f"{size} B"
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"
