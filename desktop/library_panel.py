"""The Library panel: add folders to the index, watch progress with an ETA, cancel, and see each unreadable file
with its reason. Indexing commits per batch on the worker, so a cancel keeps everything done so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.bridge import WorkerBridge
from desktop.progress import progress_text
from protocol.messages import Failed, Progress

CHANNEL = "index"
PROGRESS_STEPS = 1000
STATE_LINES = 2
MAX_REASON_CHARS = 90


def error_line(path: str, reason: str) -> str:
    """"file.mp3 — not a readable audio file": the name and the reason's first clause (details in the tooltip)."""
    short = reason.split(" (")[0].strip()
    if len(short) > MAX_REASON_CHARS:
        short = short[:MAX_REASON_CHARS - 1] + "…"
    return f"{Path(path).name} — {short}"


def paths_for_run(known: list[str], added: list[str], running: bool) -> list[str]:
    """The folders one index run covers: the added ones, or — replacing a run still going — all of them."""
    if not running:
        return list(dict.fromkeys(added))
    return list(dict.fromkeys([*known, *added]))


class LibraryPanel(QWidget):
    indexed = Signal(object)  # the index report, when a run finishes

    def __init__(self, bridge: WorkerBridge, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.folders: list[str] = []
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self._choose)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.bar = QProgressBar()
        self.bar.setRange(0, PROGRESS_STEPS)
        self.bar.setValue(0)
        self.state = QLabel("Add a folder of music to build the library.")
        self.state.setWordWrap(True)
        self.state.setMinimumHeight(self.state.fontMetrics().lineSpacing() * STATE_LINES + theme.px(4))
        self.state.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.folder_list = QListWidget()
        self.folder_list.setMaximumHeight(110)
        self.errors = QListWidget()
        self.errors.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.state)
        layout.addWidget(QLabel("Folders"))
        layout.addWidget(self.folder_list)
        layout.addWidget(QLabel("Files that could not be read"))
        layout.addWidget(self.errors, 1)

    @property
    def running(self) -> bool:
        return self.bridge.current(CHANNEL) is not None

    def add_folders(self, folders: list[str]) -> str | None:
        """Index `folders`. A run still going is replaced by one over every folder added so far (its committed
        batches stay; the worker skips files it already has), so adding a folder never drops another's files."""
        paths = paths_for_run(self.folders, folders, self.running)
        for folder in folders:
            if folder not in self.folders:
                self.folders.append(folder)
                self.folder_list.addItem(folder)
        self.errors.clear()
        self.bar.setValue(0)
        self.state.setText("Starting…")
        self.cancel_button.setEnabled(True)
        return self.bridge.request(CHANNEL, "index", {"paths": paths}, on_progress=self._progress,
                                   on_result=self._done, on_failed=self._failed)

    def cancel(self) -> None:
        if self.bridge.cancel(CHANNEL):
            self.state.setText("Cancelled: everything indexed so far is kept.")
        self.cancel_button.setEnabled(False)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a music folder")
        if folder:
            self.add_folders([folder])

    def _progress(self, event: Progress) -> None:
        self.bar.setValue(round(event.fraction * PROGRESS_STEPS))
        self.state.setText(progress_text(event))

    def _done(self, report: dict[str, Any]) -> None:
        self.cancel_button.setEnabled(False)
        self.bar.setValue(PROGRESS_STEPS)
        errors = report.get("errors", [])
        self.state.setText(f"Done: {report.get('indexed', 0)} new, {report.get('skipped', 0)} unchanged, "
                           f"{len(errors)} unreadable.")
        for error in errors:
            item = QListWidgetItem(error_line(error["path"], error["reason"]))
            item.setToolTip(f"{error['path']}\n{error['reason']}")
            self.errors.addItem(item)
        self.indexed.emit(report)

    def _failed(self, event: Failed) -> None:
        self.cancel_button.setEnabled(False)
        if event.reason == "cancelled":
            self.state.setText("Cancelled: everything indexed so far is kept.")
        else:
            self.state.setText(f"Indexing failed ({event.reason}): {event.message}")
