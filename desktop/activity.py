"""The activity log: every failed job and every worker notice, with its time, kept until the user clears it.
Failures are never silently dropped: the bridge reports each one here (except those the user cancelled)."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from desktop import theme


class ActivityLog(QWidget):
    count_changed = Signal(int)  # failures since the last clear

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.failures = 0
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def add_failure(self, method: str, reason: str, message: str) -> None:
        self._add(f"✕ {method} failed ({reason}): {message}", theme.ERROR_FG)
        self.failures += 1
        self.count_changed.emit(self.failures)

    def add_notice(self, text: str) -> None:
        self._add(f"⚠ {text}", theme.NOTICE_FG)

    def add_info(self, text: str) -> None:
        self._add(text, None)

    def entries(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def clear(self) -> None:
        self.list.clear()
        self.failures = 0
        self.count_changed.emit(0)

    def _add(self, text: str, colour: str | None) -> None:
        item = QListWidgetItem(f"{time.strftime('%H:%M:%S')}  {text}")
        if colour:
            item.setForeground(QColor(colour))
        self.list.insertItem(0, item)
