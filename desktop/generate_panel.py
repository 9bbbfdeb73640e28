"""The Generate panel: new music in the current query's direction (picture, text, steering) — back-end, length
and seed; the licence of the chosen back-end is shown before anything is made."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

BACKENDS = {  # name -> licence line (mirrors worker.generate.api.LICENCES; the desktop imports no worker code)
    "symbolic": "free to use: our own arranger, FluidR3_GM soundfont (MIT)",
    "musicgen": "MusicGen weights (Meta): CC-BY-NC 4.0, non-commercial only",
    "musicgen-melody": "MusicGen weights (Meta): CC-BY-NC 4.0, non-commercial only",
    "musicldm": "MusicLDM weights: CC-BY-NC-SA 4.0, non-commercial, share alike",
}
DEFAULT_SECONDS = 30.0
MAX_SECONDS = 600.0
MAX_SEED = 2**31 - 1


class GeneratePanel(QWidget):
    generate_requested = Signal(object)  # backend, seconds, seed (None = random), loop
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.backend = QComboBox()
        self.backend.addItems(list(BACKENDS))
        self.licence = QLabel()
        self.licence.setWordWrap(True)
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(2.0, MAX_SECONDS)
        self.seconds.setValue(DEFAULT_SECONDS)
        self.seconds.setSuffix(" s")
        self.random_seed = QCheckBox("random")
        self.random_seed.setChecked(True)
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setEnabled(False)
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.loop = QCheckBox("Loopable")
        self.go = QPushButton("Generate")
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.state = QLabel("Uses the picture, text and steering on the left.")
        self.state.setWordWrap(True)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        form = QFormLayout()
        form.addRow("Back-end", self.backend)
        form.addRow("", self.licence)
        form.addRow("Length", self.seconds)
        form.addRow("Seed", seed_row)
        form.addRow("", self.loop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.go)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addStretch(1)
        self.backend.currentTextChanged.connect(lambda name: self.licence.setText(BACKENDS.get(name, "")))
        self.licence.setText(BACKENDS["symbolic"])
        self.go.clicked.connect(lambda: self.generate_requested.emit(self.options()))
        self.cancel.clicked.connect(self.cancel_requested)

    def options(self) -> dict[str, Any]:
        return {"backend": self.backend.currentText(), "seconds": self.seconds.value(),
                "seed": None if self.random_seed.isChecked() else self.seed.value(), "loop": self.loop.isChecked()}

    def set_running(self, running: bool, text: str = "") -> None:
        self.go.setEnabled(not running)
        self.cancel.setEnabled(running)
        if text:
            self.state.setText(text)
