"""The model offer: the real models cuesteer can use (what each is for, size, licence, whether it is on this
machine), each with a Download that runs as a worker job (`pull_model`, heavy lane) with byte progress, Cancel,
and the worker's own words when a pull fails (offline, HF_HUB_OFFLINE, a checksum). Non-modal: search, audition
and export go on while it is open or a download runs, and a closed dialog keeps its downloads going.

`ModelsOffer` puts Tools ▸ Models… in the main window and shows the dialog once the worker is ready on first
run (remembered in the app settings; "Don't ask again at start" is ticked by default, so that is once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.app_settings import MODELS_OFFER_KEY, offer_models_at_start, set_offer_models_at_start
from desktop.bridge import WorkerBridge
from desktop.progress import format_eta
from protocol.messages import Failed, Progress

LIST_CHANNEL = "models"
PULL_CHANNEL = "pull-model:"  # + the model's name: one pull per model; several queue on the worker's heavy lane
PROGRESS_STEPS = 1000
PRESENT, MISSING, INCOMPLETE = "present", "missing", "incomplete"  # worker/models/status.py's states
BUNDLED = "bundled"  # worker/models/manifest.py's source of the model shipped inside cuesteer
HEADERS = ("Model", "Size", "Licence", "State", "")
NAME_COL, SIZE_COL, LICENCE_COL, STATE_COL, BUTTON_COL = range(len(HEADERS))
LICENCE_WIDTH = 160  # design px: long licences and states wrap instead of widening the dialog
STATE_WIDTH = 150
DIALOG_SIZE = (820, 600)
INTRO = ("cuesteer works fully offline with its built-in model. These optional models make search, picture "
         "queries, generation and stems better: each downloads once into your Hugging Face cache, then runs "
         "offline. Downloads run in the background; keep working meanwhile.")


def size_text(n: int, approximate: bool = False) -> str:
    """12 kB, 84 MB, 2.4 GB; "≈" for sizes the Hub showed when cuesteer was written (not what is on disk)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            text = f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
            break
    else:
        text = f"{n} B"
    return f"≈ {text}" if approximate else text


def state_text(row: dict[str, Any]) -> str:
    """What the user needs to know about one model, in a few words."""
    if row.get("source") == BUNDLED:
        text = "built in" if row["state"] == PRESENT else "missing — reinstall cuesteer"
    elif row["state"] == PRESENT:
        text = "downloaded"
    elif row["state"] == INCOMPLETE:
        text = "incomplete — download again"
    else:
        text = "not downloaded"
    if row.get("partial_bytes") and row["state"] != PRESENT:
        text += f" ({size_text(row['partial_bytes'])} so far; resumes)"
    if row.get("needs_package"):
        text += f"; needs `pip install {row['needs_package']}`"
    return text


def pull_progress_text(event: Progress) -> str:
    """"42 % · model.safetensors 1.3/3.2 MB · about 5 s left" from a pull's progress event."""
    parts = [f"{event.fraction * 100:.0f} %"]
    message = event.message.split(" ", 1)[1] if " " in event.message else event.message  # drop the model name
    if message:
        parts.append(message)
    eta = format_eta(event.eta_s)
    if eta and 0 < event.fraction < 1:
        parts.append(eta)
    return " · ".join(parts)


@dataclass
class ModelRow:
    """The widgets of one model in the grid (its first line) and the detail line under it."""

    name: str
    title: QLabel
    size: QLabel
    licence: QLabel
    state: QLabel
    button: QPushButton
    bar: QProgressBar
    detail: QLabel
    data: dict[str, Any]
    running: bool = False

    @property
    def channel(self) -> str:
        return PULL_CHANNEL + self.name

    def downloadable(self) -> bool:
        return self.data.get("source") != BUNDLED and self.data.get("state") != PRESENT


class ModelsDialog(QDialog):
    """`ModelsDialog(bridge).show()`; lists the models from the worker and downloads them on request."""

    listed = Signal(object)  # the worker's models report, each time it arrives
    pull_finished = Signal(str, object)  # name, the pull's result
    pull_failed = Signal(str, object)  # name, Failed (cancelled included)

    def __init__(self, bridge: WorkerBridge, parent: QWidget | None = None, *, settings: QSettings | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models — cuesteer")
        self.setModal(False)
        self.resize(theme.px(DIALOG_SIZE[0]), theme.px(DIALOG_SIZE[1]))
        self.bridge = bridge
        self.settings = settings
        self.rows: dict[str, ModelRow] = {}
        self.report: dict[str, Any] = {}

        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.offline_note = QLabel()
        self.offline_note.setWordWrap(True)
        self.offline_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.offline_note.setStyleSheet(f"background:{theme.NOTICE_BG}; color:{theme.NOTICE_FG};"
                                        f" padding:{theme.px(6)}px;")
        self.offline_note.setVisible(False)
        self.status = QLabel("Asking the worker which models are here…")
        self.status.setWordWrap(True)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(theme.px(12))
        self.grid.setColumnStretch(NAME_COL, 1)
        for col, text in enumerate(HEADERS):
            header = QLabel(text)
            header.setStyleSheet(f"font-weight:bold; color:{theme.NEUTRAL};")
            self.grid.addWidget(header, 0, col)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.addLayout(self.grid)
        table_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(table)
        self.cache_label = QLabel()
        self.cache_label.setStyleSheet(f"color:{theme.NEUTRAL};")
        self.cache_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dont_ask = QCheckBox("Don't ask again at start (Tools ▸ Models… is always there)")
        # Ticked on first run (so the offer shows once); after that it shows what the user chose.
        self.dont_ask.setChecked(settings is None or not settings.contains(MODELS_OFFER_KEY)
                                 or not offer_models_at_start(settings))
        self.dont_ask.setVisible(settings is not None)
        self.dont_ask.toggled.connect(self._remember)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.dont_ask)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.offline_note)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.cache_label)
        layout.addLayout(buttons)

    # ---- worker calls ---------------------------------------------------------------------------------------

    def refresh(self) -> str | None:
        """Ask the worker for the models' states (directory listings only: quick, and nothing downloads)."""
        return self.bridge.request(LIST_CHANNEL, "models", on_result=self._on_list, on_failed=self._on_list_failed,
                                   report_failures=False)

    def pull(self, name: str) -> str | None:
        row = self.rows[name]
        row.running = True
        row.button.setText("Cancel")
        row.bar.setValue(0)
        row.bar.setVisible(True)
        row.state.setText("downloading…")
        self._detail(row, "waiting for the worker (downloads run one at a time, after any indexing)…")
        return self.bridge.request(row.channel, "pull_model", {"name": name},
                                   on_progress=lambda e: self._on_progress(row, e),
                                   on_result=lambda r: self._on_pulled(row, r),
                                   on_failed=lambda e: self._on_pull_failed(row, e))

    def cancel(self, name: str) -> None:
        row = self.rows[name]
        self.bridge.cancel(row.channel)  # no callback of that request runs again: finish the row here
        self._on_pull_failed(row, Failed("cancelled", "cancelled"))

    # ---- GUI thread callbacks ---------------------------------------------------------------------------------

    def _on_list(self, report: dict[str, Any]) -> None:
        self.report = report
        self.status.setText("")
        self.status.setVisible(False)
        self.cache_label.setText(f"Hugging Face cache: {report.get('hub_cache', '?')}")
        self.offline_note.setVisible(bool(report.get("offline")))
        self.offline_note.setText("HF_HUB_OFFLINE is set where the worker runs, so downloads are refused. Start "
                                  "cuesteer without it (or run `HF_HUB_OFFLINE=0 cuesteer models pull NAME` in a "
                                  "terminal) to fetch a model.")
        for data in report.get("models", []):
            row = self.rows.get(data["name"]) or self._add_row(data)
            row.data = data
            self._show(row)
        self.listed.emit(report)

    def _on_list_failed(self, event: Failed) -> None:
        if event.reason != "cancelled":
            self.status.setVisible(True)
            self.status.setText(f"Cannot list the models: {event.message}. They are listed once the worker runs "
                                "(Refresh).")

    def _on_progress(self, row: ModelRow, event: Progress) -> None:
        row.bar.setValue(round(event.fraction * PROGRESS_STEPS))
        self._detail(row, pull_progress_text(event))

    def _on_pulled(self, row: ModelRow, result: dict[str, Any]) -> None:
        row.running = False
        row.bar.setVisible(False)
        self._detail(row, f"Downloaded {size_text(int(result.get('bytes', 0)))}: it runs offline from now on.")
        row.detail.setToolTip(str(result.get("path", "")))
        self.pull_finished.emit(row.name, result)
        self.refresh()

    def _on_pull_failed(self, row: ModelRow, event: Failed) -> None:
        if not row.running:
            return
        row.running = False
        row.bar.setVisible(False)
        if event.reason == "cancelled":
            self._detail(row, "Cancelled. What was downloaded is kept: Download resumes from there.")
        else:
            self._detail(row, event.message, error=True)
        self._show(row)
        self.pull_failed.emit(row.name, event)
        self.refresh()  # a cancelled or failed pull may have left a partial file to resume

    def _remember(self, dont_ask: bool) -> None:
        if self.settings is not None:
            set_offer_models_at_start(self.settings, not dont_ask)

    # ---- rows -------------------------------------------------------------------------------------------------

    def _add_row(self, data: dict[str, Any]) -> ModelRow:
        line = 1 + 2 * len(self.rows)
        title = QLabel()
        title.setWordWrap(True)
        licence = QLabel()
        licence.setWordWrap(True)
        licence.setFixedWidth(theme.px(LICENCE_WIDTH))
        state = QLabel()
        state.setWordWrap(True)
        state.setFixedWidth(theme.px(STATE_WIDTH))
        button = QPushButton("Download")
        bar = QProgressBar()
        bar.setRange(0, PROGRESS_STEPS)
        bar.setTextVisible(False)
        bar.setMaximumHeight(theme.px(8))
        bar.setVisible(False)
        detail = QLabel()
        detail.setWordWrap(True)
        detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        detail.setVisible(False)
        row = ModelRow(data["name"], title, QLabel(), licence, state, button, bar, detail, data)
        button.clicked.connect(lambda: self.cancel(row.name) if row.running else self.pull(row.name))
        top = Qt.AlignmentFlag.AlignTop
        for col, widget in ((NAME_COL, title), (SIZE_COL, row.size), (LICENCE_COL, licence),
                            (STATE_COL, row.state), (BUTTON_COL, button)):
            self.grid.addWidget(widget, line, col, top)
        below = QVBoxLayout()
        below.setContentsMargins(0, 0, 0, theme.px(8))
        below.addWidget(bar)
        below.addWidget(detail)
        self.grid.addLayout(below, line + 1, 0, 1, len(HEADERS))
        self.rows[row.name] = row
        return row

    def _show(self, row: ModelRow) -> None:
        data = row.data
        row.title.setText(f"<b>{data['label']}</b><br><span style='color:{theme.NEUTRAL}'>{data['used_for']}"
                          "</span>")
        row.title.setToolTip(f"{data['repo_id']}\n{data['path']}")
        row.size.setText(size_text(int(data["bytes"]), bool(data.get("size_is_approximate"))))
        row.licence.setText(data["licence"])
        colour = theme.OK if data["state"] == PRESENT else theme.NEUTRAL
        row.state.setStyleSheet(f"color:{colour};")
        if row.running:  # the list may be refreshed while this model downloads
            row.state.setText("downloading…")
            return
        row.state.setText(state_text(data))
        row.button.setText("Download")
        row.button.setVisible(data.get("source") != BUNDLED)
        row.button.setEnabled(row.downloadable())
        row.button.setToolTip(f"or in a terminal: {data['pull']}" if row.downloadable() else "")

    def _detail(self, row: ModelRow, text: str, *, error: bool = False) -> None:
        row.detail.setText(text)
        row.detail.setStyleSheet(f"color:{theme.ERROR_FG};" if error else "")
        row.detail.setVisible(bool(text))


class ModelsOffer(QObject):
    """Tools ▸ Models… in `window`, and the dialog shown by itself once the worker is ready on first run."""

    def __init__(self, window: QMainWindow, bridge: WorkerBridge, manager: QObject,
                 settings: QSettings | None) -> None:
        super().__init__(window)
        self.window, self.bridge, self.settings = window, bridge, settings
        self.dialog: ModelsDialog | None = None
        self.action = window.menuBar().addMenu("&Tools").addAction("Models…")
        self.action.triggered.connect(self.show_dialog)
        if settings is not None and offer_models_at_start(settings):
            manager.state_changed.connect(self._on_worker_state)  # type: ignore[attr-defined]
        self._manager = manager

    def show_dialog(self) -> ModelsDialog:
        """Show (or raise) the one dialog; its downloads keep running while it is closed."""
        if self.dialog is None:
            self.dialog = ModelsDialog(self.bridge, self.window, settings=self.settings)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.refresh()
        return self.dialog

    def _on_worker_state(self, state: str, detail: str) -> None:
        if state != "ready":
            return
        self._manager.state_changed.disconnect(self._on_worker_state)  # type: ignore[attr-defined]
        dialog = self.show_dialog()
        self._remember_offered(dialog)

    def _remember_offered(self, dialog: ModelsDialog) -> None:
        """Offered once: unless the user unticks "Don't ask again", the next start does not show it."""
        if self.settings is not None:
            set_offer_models_at_start(self.settings, not dialog.dont_ask.isChecked())
