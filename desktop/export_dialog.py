"""The Export dialog: what to hand off for one cue — stems, MIDI tempo map, marker files for the NLE, a fit to
a target length, and the timecode the cue starts at. `ExportOptions.params()` is the worker's `export` call."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

MARKER_FORMATS = {"resolve": "DaVinci Resolve EDL", "fcpxml": "Final Cut Pro XML", "premiere": "Premiere XML",
                  "csv": "CSV"}
FRAME_RATES = ("23.976", "24", "25", "29.97", "30", "50", "59.94", "60")
DEFAULT_FPS = "25"
DEFAULT_TIMECODE = "01:00:00:00"
TIMECODE_PATTERN = r"^\d{2}:\d{2}:\d{2}[:;]\d{2}$"
MAX_FIT_S = 3600.0


@dataclass
class ExportOptions:
    path: str
    out_dir: str
    in_point_s: float = 0.0
    from_in_point: bool = True
    stems: bool = False
    midi: bool = True
    markers: list[str] = field(default_factory=lambda: ["csv"])
    fit_s: float | None = None
    timecode: str = DEFAULT_TIMECODE
    fps: str = DEFAULT_FPS
    seed: int | None = None
    description: str = ""

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "out_dir": self.out_dir, "stems": self.stems, "midi": self.midi,
                               "markers": list(self.markers), "timecode": self.timecode, "fps": self.fps}
        if self.from_in_point and self.in_point_s > 0:
            out["start_s"] = float(self.in_point_s)
        if self.fit_s is not None:
            out["fit_s"] = float(self.fit_s)
        if self.seed is not None:
            out["seed"] = int(self.seed)
        if self.description:
            out["description"] = self.description
        return out


def export_folder(root: str | Path, source: str) -> str:
    """A fresh folder per export under `root`: "<track> <YYYYmmdd-HHMMSS>" (exports never overwrite)."""
    stem = re.sub(r"[^\w.-]+", "_", Path(source).stem).strip("_") or "cue"
    base = Path(root) / f"{stem} {time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return str(path)


class ExportDialog(QDialog):
    def __init__(self, result: dict[str, Any], out_root: str, parent: QWidget | None = None, *,
                 seed: int | None = None, description: str = "", fit_s: float | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export cue")
        self.result = result
        self.seed, self.description = seed, description
        title = result.get("title") or Path(result["path"]).name
        self.from_in_point = QCheckBox(f"Start at the in-point ({result.get('in_point_s', 0.0):.1f} s)")
        self.from_in_point.setChecked(True)
        self.stems = QCheckBox("Stems (separated parts)")
        self.midi = QCheckBox("MIDI tempo map (beats, bars, markers)")
        self.midi.setChecked(True)
        self.markers = {key: QCheckBox(label) for key, label in MARKER_FORMATS.items()}
        self.markers["csv"].setChecked(True)
        self.fit = QCheckBox("Fit to length")
        self.fit_s = QDoubleSpinBox()
        self.fit_s.setRange(1.0, MAX_FIT_S)
        self.fit_s.setDecimals(2)
        self.fit_s.setSuffix(" s")
        self.fit_s.setValue(fit_s or 30.0)
        self.fit_s.setEnabled(False)
        self.fit.setChecked(fit_s is not None)
        self.fit.toggled.connect(self.fit_s.setEnabled)
        self.fit_s.setEnabled(fit_s is not None)
        self.timecode = QLineEdit(DEFAULT_TIMECODE)
        self.timecode.setValidator(QRegularExpressionValidator(QRegularExpression(TIMECODE_PATTERN), self))
        self.timecode.setToolTip("HH:MM:SS:FF (use ; before the frames for drop-frame at 29.97/59.94)")
        self.fps = QComboBox()
        self.fps.addItems(FRAME_RATES)
        self.fps.setCurrentText(DEFAULT_FPS)
        self.out_root = QLineEdit(out_root)
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)

        fit_row = QHBoxLayout()
        fit_row.addWidget(self.fit)
        fit_row.addWidget(self.fit_s)
        markers_row = QHBoxLayout()
        for box in self.markers.values():
            markers_row.addWidget(box)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_root, 1)
        out_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Cue", QLabel(title))
        form.addRow("Region", self.from_in_point)
        form.addRow("Parts", self.stems)
        form.addRow("", self.midi)
        form.addRow("Markers", markers_row)
        form.addRow("Length", fit_row)
        form.addRow("Timecode start", self.timecode)
        form.addRow("Frame rate", self.fps)
        form.addRow("Into", out_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def options(self) -> ExportOptions:
        return ExportOptions(
            path=self.result["path"], out_dir=export_folder(self.out_root.text(), self.result["path"]),
            in_point_s=float(self.result.get("in_point_s", 0.0)), from_in_point=self.from_in_point.isChecked(),
            stems=self.stems.isChecked(), midi=self.midi.isChecked(),
            markers=[k for k, box in self.markers.items() if box.isChecked()],
            fit_s=self.fit_s.value() if self.fit.isChecked() else None,
            timecode=self.timecode.text() if self.timecode.hasAcceptableInput() else DEFAULT_TIMECODE,
            fps=self.fps.currentText(), seed=self.seed, description=self.description)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.out_root.text())
        if folder:
            self.out_root.setText(folder)
