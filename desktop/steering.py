"""The steering list: phrases with a signed weight each (−1…+1), shown with a sign badge and colour, editable,
reorderable, loaded from and saved as presets; plus the diversity (CFG guidance) and seed-count controls.

`SteeringPanel.phrases()` is the protocol form `[[text, weight], …]` the worker's search takes; `changed` fires
on every edit so the window can re-run the search after a short pause.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.presets import Preset, PresetError, load_presets, save_preset

SLIDER_STEPS = 100  # slider units per 1.0 of weight
WEIGHT_STEP = 0.05
DEFAULT_WEIGHT = 0.8
DEFAULT_GUIDANCE = 1.0
MAX_GUIDANCE = 4.0
DEFAULT_SEEDS = 16
MAX_SEEDS = 64
MINUS = "\u2212"


def format_weight(weight: float) -> str:
    """"+0.80" / "−0.60" (a real minus sign) / "0.00": the sign is always visible."""
    if abs(weight) < 1e-9:
        return "0.00"
    return f"{'+' if weight > 0 else MINUS}{abs(weight):.2f}"


class PhraseRow(QWidget):
    """One phrase: sign badge, text, slider and spin box kept in step, move up/down, remove."""

    changed = Signal()
    remove_requested = Signal(object)
    move_requested = Signal(object, int)

    def __init__(self, text: str = "", weight: float = DEFAULT_WEIGHT, parent: QWidget | None = None):
        super().__init__(parent)
        self.badge = QLabel()
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setFixedWidth(theme.px(22))
        self.text = QLineEdit(text)
        self.text.setCursorPosition(0)  # a long phrase shows its beginning
        self.text.setToolTip(text)
        self.text.textChanged.connect(self.text.setToolTip)
        self.text.setPlaceholderText("phrase, e.g. warm acoustic guitar")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-SLIDER_STEPS, SLIDER_STEPS)
        self.slider.setMinimumWidth(theme.px(80))
        self.spin = QDoubleSpinBox()
        self.spin.setRange(-1.0, 1.0)
        self.spin.setSingleStep(WEIGHT_STEP)
        self.spin.setDecimals(2)
        self.spin.setFixedWidth(theme.px(68))
        self.spin.textFromValue = format_weight  # type: ignore[method-assign]
        self.up = _tool("▲", "Move up")
        self.down = _tool("▼", "Move down")
        self.remove = _tool("✕", "Remove this phrase")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.badge)
        top.addWidget(self.text, 1)
        top.addWidget(self.up)
        top.addWidget(self.down)
        top.addWidget(self.remove)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(theme.px(26), 0, 0, 0)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, theme.px(2), 0, theme.px(2))
        layout.setSpacing(theme.px(2))
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.slider.valueChanged.connect(lambda v: self.set_weight(v / SLIDER_STEPS))
        self.spin.valueChanged.connect(self.set_weight)
        self.text.textChanged.connect(lambda _: self.changed.emit())
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        self.up.clicked.connect(lambda: self.move_requested.emit(self, -1))
        self.down.clicked.connect(lambda: self.move_requested.emit(self, +1))
        self._weight = None
        self.set_weight(weight)

    def weight(self) -> float:
        return float(self._weight or 0.0)

    def set_weight(self, weight: float) -> None:
        weight = round(max(-1.0, min(1.0, float(weight))), 2)
        if weight == self._weight:
            return
        self._weight = weight
        for widget, value in ((self.slider, round(weight * SLIDER_STEPS)), (self.spin, weight)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self._paint_sign()
        self.changed.emit()

    def _paint_sign(self) -> None:
        w = self.weight()
        colour = theme.POSITIVE if w > 0 else theme.NEGATIVE if w < 0 else theme.NEUTRAL
        self.badge.setText("+" if w > 0 else MINUS if w < 0 else "0")
        self.badge.setToolTip("attracts results" if w > 0 else "repels results" if w < 0 else "no effect")
        self.badge.setStyleSheet(f"background:{colour}; color:white; font-weight:bold; border-radius:{theme.px(4)}px;")
        self.spin.setStyleSheet(f"color:{colour}; font-weight:bold;")
        self.slider.setStyleSheet(theme.slider_style(colour, w))


class SteeringPanel(QWidget):
    """Phrase rows + add field + presets menu + guidance and seeds; `changed` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[PhraseRow] = []
        self.presets: list[Preset] = []
        self.preset_errors: list[str] = []

        title = QLabel("Steering")
        title.setStyleSheet("font-weight:bold;")
        self.presets_button = QPushButton("Presets")
        self.presets_menu = QMenu(self)
        self.presets_button.setMenu(self.presets_menu)
        self.presets_menu.aboutToShow.connect(self._fill_presets_menu)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.presets_button)

        self.new_phrase = QLineEdit()
        self.new_phrase.setPlaceholderText("add: +piano 0.8  or  −drums 0.6")
        self.new_phrase.returnPressed.connect(self._add_from_field)
        add = QPushButton("Add")
        add.clicked.connect(self._add_from_field)
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_phrase, 1)
        add_row.addWidget(add)

        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows_box)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, MAX_GUIDANCE)
        self.guidance.setSingleStep(0.1)
        self.guidance.setValue(DEFAULT_GUIDANCE)
        self.guidance.setToolTip("How hard the picture/text query pulls the seeds (CFG strength): lower = more "
                                 "varied results, higher = closer to the query")
        self.seeds = QSpinBox()
        self.seeds.setRange(1, MAX_SEEDS)
        self.seeds.setValue(DEFAULT_SEEDS)
        self.seeds.setToolTip("How many directions the diffusion prior samples; each finds its own results")
        form = QFormLayout()
        form.addRow("Guidance (CFG)", self.guidance)
        form.addRow("Seeds", self.seeds)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(add_row)
        layout.addWidget(scroll, 1)
        layout.addLayout(form)
        self.guidance.valueChanged.connect(lambda _: self.changed.emit())
        self.seeds.valueChanged.connect(lambda _: self.changed.emit())

    # ---- phrases ----------------------------------------------------------------------------------------------

    def phrases(self) -> list[list]:
        """`[[text, weight], …]` for non-empty phrases with a non-zero weight, in list order."""
        return [[r.text.text().strip(), r.weight()] for r in self.rows if r.text.text().strip() and r.weight()]

    def add_phrase(self, text: str, weight: float = DEFAULT_WEIGHT) -> PhraseRow:
        row = PhraseRow(text, weight)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self.remove_row)
        row.move_requested.connect(self.move_row)
        self.rows.append(row)
        self.rows_layout.insertWidget(len(self.rows) - 1, row)
        self.changed.emit()
        return row

    def add_spec(self, spec: str) -> PhraseRow:
        """"+piano 0.8", "-drums:0.6", "− drums 0.6", "strings" (weight DEFAULT_WEIGHT)."""
        text, weight = parse_spec(spec)
        return self.add_phrase(text, weight)

    def remove_row(self, row: PhraseRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.changed.emit()

    def move_row(self, row: PhraseRow, delta: int) -> None:
        i = self.rows.index(row)
        j = max(0, min(len(self.rows) - 1, i + delta))
        if i == j:
            return
        self.rows.insert(j, self.rows.pop(i))
        self.rows_layout.removeWidget(row)
        self.rows_layout.insertWidget(j, row)
        self.changed.emit()

    def clear(self) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()

    def _add_from_field(self) -> None:
        spec = self.new_phrase.text().strip()
        if not spec:
            return
        try:
            self.add_spec(spec)
        except ValueError as exc:
            QMessageBox.warning(self, "Steering phrase", str(exc))
            return
        self.new_phrase.clear()

    # ---- presets ----------------------------------------------------------------------------------------------

    def reload_presets(self) -> None:
        self.presets, self.preset_errors = load_presets()

    def apply_preset(self, preset: Preset) -> None:
        self.blockSignals(True)
        try:
            self.clear()
            for text, weight in preset.phrases:
                self.add_phrase(text, weight)
            if preset.guidance is not None:
                self.guidance.setValue(preset.guidance)
            if preset.seeds is not None:
                self.seeds.setValue(preset.seeds)
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def current_preset(self, name: str) -> Preset:
        return Preset(name, [(t, w) for t, w in self.phrases()], guidance=self.guidance.value(),
                      seeds=self.seeds.value())

    def save_as_preset(self, name: str | None = None) -> Preset | None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save as preset", "Preset name:")
            if not ok or not name.strip():
                return None
        preset = self.current_preset(name.strip())
        try:
            path = save_preset(preset)
        except (OSError, PresetError) as exc:
            QMessageBox.warning(self, "Save as preset", f"Could not save the preset: {exc}")
            return None
        self.reload_presets()
        return Preset(preset.name, preset.phrases, preset.description, preset.guidance, preset.seeds, path)

    def _fill_presets_menu(self) -> None:
        self.reload_presets()
        menu = self.presets_menu
        menu.clear()
        for preset in self.presets:
            action = menu.addAction(preset.name)
            action.setToolTip(preset.description)
            action.triggered.connect(lambda _=False, p=preset: self.apply_preset(p))
        if not self.presets:
            menu.addAction("(no presets found)").setEnabled(False)
        for error in self.preset_errors:
            menu.addAction(f"⚠ {error[:80]}").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Save as preset…").triggered.connect(lambda: self.save_as_preset())


def parse_spec(spec: str) -> tuple[str, float]:
    """A typed phrase → (text, signed weight). Accepts a leading +/−/-, then the text, then an optional weight
    after a colon or a space: "+ piano 0.8", "-drums:0.6", "− drums 0.6"."""
    raw = spec.strip().replace(MINUS, "-")
    sign = 1.0
    if raw[:1] in "+-":
        sign = -1.0 if raw[0] == "-" else 1.0
        raw = raw[1:].strip()
    weight = DEFAULT_WEIGHT
    head, sep, tail = raw.rpartition(":") if ":" in raw else raw.rpartition(" ")
    if sep:
        try:
            weight = float(tail)
            raw = head.strip()
        except ValueError:
            pass
    if not raw:
        raise ValueError(f"no phrase in {spec!r}; write e.g. \"+warm acoustic guitar 0.8\"")
    if abs(weight) > 1.0:
        raise ValueError(f"the weight in {spec!r} is outside −1…+1")
    return raw, sign * weight


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button
