"""The results list: one row per found track with its waveform thumbnail, title/artist, score, in-point and the
seeds (directions of the prior) that found it; a diversity summary above; audition controls below.

Keys in the list: ↑/↓ move, Space play/stop from the in-point, L loop, M "more like this", E export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QLineF, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.audition import Player
from desktop.tasks import run_task
from desktop.waveform import peaks

ResultRole = Qt.ItemDataRole.UserRole + 1
PeaksRole = Qt.ItemDataRole.UserRole + 2
ROW_HEIGHT = 58
THUMB_WIDTH = 132
MAX_CACHED_THUMBS = 256
PROGRESS_STEPS = 1000


def display_title(result: dict[str, Any]) -> str:
    return result.get("title") or Path(result["path"]).stem


def seeds_text(seeds: list[int]) -> str:
    """Why a row ranks where it does: rows are ordered by how many seeds found them, and how high (rank fusion), so
    a track several seeds agree on can outrank one with a higher best score that only one seed reached."""
    if not seeds:
        return "query"
    return f"found by seed {seeds[0]}" if len(seeds) == 1 else f"found by {len(seeds)} seeds"


def diversity_text(reply: dict[str, Any]) -> str:
    """One line for the query: how many results, how alike they are (MISCS), how many sources, which seed."""
    div = reply.get("diversity") or {}
    found = {s for r in reply.get("results", []) for s in r.get("seeds", [])}
    parts = [f"{len(reply.get('results', []))} results"]
    if "miscs" in div:
        parts.append(f"similarity {div['miscs']:.2f} (lower = more varied)")
    if "distinct_labels" in div:
        n = div["distinct_labels"]
        parts.append(f"{n} source{'s' if n != 1 else ''}")
    if reply.get("seeds"):
        parts.append(f"{len(found)}/{len(reply['seeds'])} seeds found something")
    if reply.get("seed") is not None:
        parts.append(f"seed {reply['seed']}")
    return " · ".join(parts)


class ResultsModel(QAbstractListModel):
    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.results: list[dict[str, Any]] = []
        self.reply: dict[str, Any] = {}
        self._peaks: dict[str, np.ndarray | None] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.results)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        result = self.results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_title(result)
        if role == Qt.ItemDataRole.ToolTipRole:  # the seed numbers reproduce a result (`--seed`)
            seeds = result.get("seeds", [])
            return result["path"] + (f"\nseeds {', '.join(map(str, seeds))}" if seeds else "")
        if role == ResultRole:
            return result
        if role == PeaksRole:
            return self._peaks.get(result["path"])
        return None

    def set_reply(self, reply: dict[str, Any]) -> None:
        self.beginResetModel()
        self.reply = reply
        self.results = list(reply.get("results", []))
        self.endResetModel()
        for result in self.results:
            self._request_peaks(result["path"])

    def clear(self) -> None:
        self.set_reply({})

    def _request_peaks(self, path: str) -> None:
        if path in self._peaks:
            return
        self._peaks[path] = None
        run_task(lambda: peaks(path), lambda out, err, p=path: self._got_peaks(p, out, err))

    def _got_peaks(self, path: str, out: np.ndarray | None, err: BaseException | None) -> None:
        self._peaks[path] = out if err is None else np.zeros(0, np.float32)
        for row, result in enumerate(self.results):
            if result["path"] == path:
                index = self.index(row)
                self.dataChanged.emit(index, index, [PeaksRole])


class ResultDelegate(QStyledItemDelegate):
    """Thumbnail | title, artist · file | score, in-point, seeds. Thumbnails are drawn once into pixmaps:
    repainting the list (scrolling, selection, the playhead elsewhere) then costs a blit per row."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._pixmaps: dict[tuple, QPixmap] = {}

    def _thumbnail(self, levels: np.ndarray | None, result: dict[str, Any], size: QSize, selected: bool,
                   dpr: float) -> QPixmap:
        key = (result["path"], result.get("in_point_s"), None if levels is None else len(levels), size.width(),
               size.height(), selected, dpr)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            if len(self._pixmaps) > MAX_CACHED_THUMBS:
                self._pixmaps.clear()
            pixmap = QPixmap(round(size.width() * dpr), round(size.height() * dpr))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            draw_waveform(painter, QRect(0, 0, size.width(), size.height()), levels, result, selected)
            painter.end()
            if levels is not None:  # "…" while loading is not worth keeping
                self._pixmaps[key] = pixmap
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return QSize(theme.px(300), max(theme.px(ROW_HEIGHT), option.fontMetrics.height() * 3 + theme.px(10)))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        result = index.data(ResultRole)
        if result is None:
            return
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        rect: QRect = option.rect.adjusted(theme.px(6), theme.px(4), -theme.px(8), -theme.px(4))
        text_colour = option.palette.highlightedText().color() if selected else option.palette.text().color()
        dim = QColor(text_colour)
        dim.setAlpha(170)

        thumb = QRect(rect.left(), rect.top(), theme.px(THUMB_WIDTH), rect.height())
        painter.drawPixmap(thumb.topLeft(), self._thumbnail(index.data(PeaksRole), result, thumb.size(), selected,
                                                            painter.device().devicePixelRatioF()))

        fm = option.fontMetrics
        right_w = fm.horizontalAdvance("seeds 00, 00, 00, 00, 00, 00 +00")
        right = QRect(rect.right() - right_w, rect.top(), right_w, rect.height())
        middle = QRect(thumb.right() + theme.px(10), rect.top(), right.left() - thumb.right() - theme.px(16),
                       rect.height())
        line = fm.height()
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(QRect(middle.left(), middle.top(), middle.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(f"{index.row() + 1}. {display_title(result)}", Qt.TextElideMode.ElideRight,
                                       middle.width()))
        painter.setFont(option.font)
        painter.setPen(dim)
        artist = result.get("artist") or "unknown artist"
        painter.drawText(QRect(middle.left(), middle.top() + line, middle.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(f"{artist} · {Path(result['path']).name}", Qt.TextElideMode.ElideMiddle,
                                       middle.width()))
        duration = result.get("duration_s")
        painter.drawText(QRect(middle.left(), middle.top() + 2 * line, middle.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"in-point {result.get('in_point_s', 0.0):.1f} s"
                         + (f" of {duration:.0f} s" if duration else ""))
        painter.setPen(text_colour)
        painter.setFont(bold)
        painter.drawText(QRect(right.left(), right.top(), right.width(), line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{result.get('score', 0):.3f}")
        painter.setFont(option.font)
        painter.setPen(dim)
        imsm = result.get("imsm")  # image–music match (text-bridged), for picture queries
        painter.drawText(QRect(right.left(), right.top() + line, right.width(), line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         "score" if imsm is None else f"score · picture {imsm:+.2f}")
        painter.drawText(QRect(right.left(), right.top() + 2 * line, right.width(), line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(seeds_text(result.get("seeds", [])), Qt.TextElideMode.ElideRight, right_w))
        painter.restore()


def draw_waveform(painter: QPainter, rect: QRect, levels: np.ndarray | None, result: dict[str, Any],
                  selected: bool) -> None:
    """Mirrored peak bars, with the in-point marked (when the duration is known)."""
    painter.fillRect(rect, QColor(0, 0, 0, 40 if selected else 18))
    colour = QColor(theme.WAVEFORM_SELECTED if selected else theme.WAVEFORM)
    if levels is None or len(levels) == 0:
        painter.setPen(QColor(theme.NEUTRAL))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "…" if levels is None else "no preview")
        return
    mid = rect.center().y()
    half = rect.height() / 2 - 1
    step = rect.width() / len(levels)
    painter.setPen(QPen(colour, max(1.0, step * 0.7)))
    xs = rect.left() + (np.arange(len(levels)) + 0.5) * step
    hs = np.maximum(0.5, np.asarray(levels, np.float64) * half)
    painter.drawLines([QLineF(x, mid - h, x, mid + h) for x, h in zip(xs.tolist(), hs.tolist(), strict=True)])
    duration = result.get("duration_s")
    if duration:
        x = rect.left() + rect.width() * min(1.0, float(result.get("in_point_s", 0.0)) / float(duration))
        painter.setPen(QPen(QColor(theme.NEGATIVE), 2))
        painter.drawLine(int(x), rect.top(), int(x), rect.bottom())


class ResultsView(QListView):
    """The list with the app's keys; the panel connects the signals."""

    play_toggled = Signal()
    loop_toggled = Signal()
    more_like_this = Signal()
    export_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.play_toggled.emit()
        elif key == Qt.Key.Key_L:
            self.loop_toggled.emit()
        elif key == Qt.Key.Key_M:
            self.more_like_this.emit()
        elif key == Qt.Key.Key_E:
            self.export_requested.emit()
        else:
            super().keyPressEvent(event)


class ResultsPanel(QWidget):
    """Summary, list and audition bar. Emits `more_like_this(result)` and `export_requested(result)`; while a
    search runs (`show_busy`), a progress bar and Cancel (`cancel_requested`)."""

    more_like_this = Signal(object)
    export_requested = Signal(object)
    selection_changed = Signal(object)
    cancel_requested = Signal()

    def __init__(self, player: Player, parent: QWidget | None = None):
        super().__init__(parent)
        self.player = player
        self.summary = QLabel("No search yet: drop a picture, type a query or add steering phrases.")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(theme.px(10))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this search (the results shown stay)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.busy_row = QWidget()
        busy_layout = QHBoxLayout(self.busy_row)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(self.progress, 1)
        busy_layout.addWidget(self.cancel_button)
        self.busy_row.hide()
        self.model = ResultsModel(self)
        self.view = ResultsView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(ResultDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().currentChanged.connect(self._on_current)

        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play from the in-point (Space)")
        self.loop_box = QCheckBox("Loop")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(round(player.volume * 100))
        self.volume.setMaximumWidth(theme.px(110))
        self.volume.setToolTip("Volume")
        self.device = QComboBox()
        self.device.setMinimumContentsLength(14)
        self.device_note = QLabel()
        self.device_note.setStyleSheet(f"color:{theme.ERROR_FG};")
        self.more_button = QPushButton("More like this")
        self.more_button.setToolTip("Search around the selected result (M)")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Hand-off files for the selected result (E)")
        self.position = QLabel("")
        bar = QHBoxLayout()
        for widget in (self.play_button, self.loop_box, QLabel("Vol"), self.volume, self.device, self.device_note,
                       self.position):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.more_button)
        bar.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.view, 1)
        layout.addLayout(bar)

        self.play_button.clicked.connect(self.toggle_play)
        self.view.play_toggled.connect(self.toggle_play)
        self.view.activated.connect(lambda _: self.toggle_play())
        self.view.loop_toggled.connect(self.loop_box.toggle)
        self.view.more_like_this.connect(self._more)
        self.view.export_requested.connect(self._export)
        self.more_button.clicked.connect(self._more)
        self.export_button.clicked.connect(self._export)
        self.loop_box.toggled.connect(lambda on: setattr(self.player, "loop", on))
        self.volume.valueChanged.connect(lambda v: self.player.set_volume(v / 100))
        self.device.currentIndexChanged.connect(self._on_device)
        player.state_changed.connect(self._on_player_state)
        player.position_changed.connect(lambda s: self.position.setText(f"{s:5.1f} s"))
        player.error.connect(self.device_note.setText)
        self.fill_devices()
        self._update_buttons()

    def fill_devices(self) -> None:
        self.device.blockSignals(True)
        self.device.clear()
        for index, name in self.player.devices:
            self.device.addItem(name, index)
        self.device.blockSignals(False)
        has = self.player.available
        self.device.setVisible(has)
        self.device_note.setText("" if has else "no output device")
        self.device_note.setToolTip(self.player.unavailable_reason)
        self._update_buttons()

    def set_reply(self, reply: dict[str, Any]) -> None:
        self.model.set_reply(reply)
        self.summary.setText(diversity_text(reply) if reply.get("results") else "No results for this query.")
        if self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0))
        self._update_buttons()

    def show_busy(self, text: str, fraction: float | None = None) -> None:
        """A search is running: `text` above the list, a bar (moving without a `fraction`) and Cancel."""
        self.summary.setText(text)
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, PROGRESS_STEPS)
            self.progress.setValue(round(min(1.0, max(0.0, fraction)) * PROGRESS_STEPS))
        self.busy_row.show()

    def end_busy(self, text: str | None = None) -> None:
        self.busy_row.hide()
        if text is not None:
            self.summary.setText(text)

    @property
    def busy(self) -> bool:
        return not self.busy_row.isHidden()

    def selected(self) -> dict[str, Any] | None:
        index = self.view.currentIndex()
        return index.data(ResultRole) if index.isValid() else None

    def toggle_play(self) -> None:
        result = self.selected()
        if result is not None:
            self.player.toggle(result["path"], float(result.get("in_point_s", 0.0)))

    def _more(self) -> None:
        result = self.selected()
        if result is not None:
            self.more_like_this.emit(result)

    def _export(self) -> None:
        result = self.selected()
        if result is not None:
            self.export_requested.emit(result)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        if current.isValid():
            self.selection_changed.emit(current.data(ResultRole))

    def _on_device(self, _row: int) -> None:
        self.player.device = self.device.currentData()

    def _on_player_state(self, state: str) -> None:
        self.play_button.setText("■ Stop" if state != "stopped" else "▶ Play")
        if state == "stopped":
            self.position.setText("")

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.play_button.setEnabled(has and self.player.available)
        self.loop_box.setEnabled(self.player.available)
        self.volume.setEnabled(self.player.available)
        self.more_button.setEnabled(has)
        self.export_button.setEnabled(has)
