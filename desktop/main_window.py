"""The main window: picture and steering on the left, results with audition in the middle above the timeline,
Library / Generate / Exports / Activity on the right, the worker's status at the bottom.

Every worker call goes through the bridge on a named channel, so a newer search replaces an older one and a
late reply can never overwrite newer results. Steering edits re-run the search after a short pause with the
same seed, so what changes in the results is the steering, not the dice.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy.ma  # noqa: F401 — np.median (timeline beats) imports it lazily: ~0.1–0.3 s at first paint otherwise
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStatusBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import theme
from desktop.activity import ActivityLog
from desktop.app_settings import restore_window, save_window
from desktop.audition import Player
from desktop.bridge import WorkerBridge
from desktop.cue_timeline import CueTimeline
from desktop.export_dialog import ExportDialog, ExportOptions
from desktop.exports_panel import ExportsPanel
from desktop.generate_panel import GeneratePanel
from desktop.image_drop import ImageDropZone
from desktop.library_panel import LibraryPanel
from desktop.models_dialog import ModelsOffer
from desktop.picture.scene_cues import SceneCue, timecode_at
from desktop.results import ResultsPanel
from desktop.status import StatusIndicator
from desktop.steering import SteeringPanel
from desktop.worker_manager import WorkerManager
from protocol.messages import Failed, Progress

log = logging.getLogger(__name__)

SEARCH_CHANNEL = "search"
EXPORT_CHANNEL = "export"  # + a number: exports run side by side, a new one never cancels another
GENERATE_CHANNEL = "generate"
SEARCH_DEBOUNCE_MS = 350
TRAINING_STAGES = ("prior", "train prior")  # a search's stages while it trains the library's prior (minutes)
RESULTS_K = 12
MAX_SEED = 2**31 - 1
WINDOW_SIZE = (1280, 800)


class MainWindow(QMainWindow):
    results_arrived = Signal(object)  # the reply of the current search (tests and the timeline listen)
    export_finished = Signal(object)
    generate_finished = Signal(object)

    def __init__(self, bridge: WorkerBridge, manager: WorkerManager, output_dir: str | Path,
                 player: Player | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("cuesteer")
        self.resize(*WINDOW_SIZE)
        self.bridge, self.manager = bridge, manager
        self.output_dir = Path(output_dir)
        self.player = player or Player(self)
        self.images: list[str] = []
        self.video_query: dict[str, Any] | None = None  # a video searched per scene (the picture zone's choice)
        self.search_seed = random.randrange(MAX_SEED)
        self.last_reply: dict[str, Any] = {}
        self.last_params: dict[str, Any] = {}
        self.auto_search = True
        self._export_ids = itertools.count(1)
        self._training = False  # the current search is training the library's prior
        self._queued_search: dict[str, Any] | None = None
        self._search_fraction = 0.0  # the running search's progress (a video's cue count, not a cue's own stages)
        self._search_step = ""  # the running video search's step ("cue 2 of 3: …"), kept under a cue's own stages

        # ---- left: picture, query, steering ----
        self.picture = self._make_picture_input()
        self.query = QLineEdit()
        self.query.setPlaceholderText("describe the scene or the music (optional)")
        self.query.returnPressed.connect(self.search)
        self.steering = SteeringPanel()
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.reseed_button = QPushButton("New seeds")
        self.reseed_button.setToolTip("Sample new directions from the prior (the seed is shown with the results)")
        self.reseed_button.clicked.connect(self.reseed)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_button, 1)
        search_row.addWidget(self.reseed_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(_heading("Picture"))
        left_layout.addWidget(self.picture)
        left_layout.addWidget(self.query)
        left_layout.addWidget(self.steering, 1)
        left_layout.addLayout(search_row)

        # ---- middle: results over the timeline ----
        self.results = ResultsPanel(self.player)
        self.results.more_like_this.connect(self.more_like_this)
        self.results.export_requested.connect(self.open_export_dialog)
        self.results.selection_changed.connect(self.show_cue)
        self.results.cancel_requested.connect(self.cancel_search)
        self.timeline = self._make_timeline()
        middle = QSplitter(Qt.Orientation.Vertical)
        results_box = QWidget()
        results_layout = QVBoxLayout(results_box)
        results_layout.setContentsMargins(theme.px(4), theme.px(4), theme.px(4), 0)
        results_layout.addWidget(_heading("Results"))
        results_layout.addWidget(self.results, 1)
        middle.addWidget(results_box)
        middle.addWidget(self.timeline)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 1)

        # ---- right: tabs ----
        self.library_panel = LibraryPanel(bridge)
        self.library_panel.indexed.connect(lambda _: self.manager.refresh_status())
        self.generate_panel = GeneratePanel()
        self.generate_panel.generate_requested.connect(self.generate)
        self.generate_panel.cancel_requested.connect(lambda: self._cancel_job(GENERATE_CHANNEL, self.generate_panel))
        self.exports_panel = ExportsPanel()
        self.exports_panel.play_requested.connect(lambda p: self.player.toggle(p, 0.0))
        self.activity = ActivityLog()
        if self.cue_timeline is not None:
            self.cue_timeline.fitted.connect(self._on_exported)
            self.cue_timeline.fit_progress.connect(self.exports_panel.show_progress)
            self.cue_timeline.fit_failed.connect(self.exports_panel.job_ended)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.library_panel, "Library")
        self.tabs.addTab(self.generate_panel, "Generate")
        self.tabs.addTab(self.exports_panel, "Exports")
        self.tabs.addTab(self.activity, "Activity")
        self.activity.count_changed.connect(
            lambda n: self.tabs.setTabText(self.tabs.indexOf(self.activity), f"Activity ({n})" if n else "Activity"))

        splitter = self.splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([theme.px(330), theme.px(600), theme.px(350)])

        # ---- notice banner + status bar ----
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(f"background:{theme.NOTICE_BG}; color:{theme.NOTICE_FG}; padding:{theme.px(6)}px;")
        self.notice_close = QToolButton()
        self.notice_close.setText("✕")
        self.notice_close.clicked.connect(self.hide_notice)
        self.notice_bar = QFrame()
        self.notice_bar.setStyleSheet(f"background:{theme.NOTICE_BG};")
        bar_layout = QHBoxLayout(self.notice_bar)
        bar_layout.setContentsMargins(0, 0, theme.px(6), 0)
        bar_layout.addWidget(self.notice, 1)
        bar_layout.addWidget(self.notice_close)
        self.notice_bar.setVisible(False)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.notice_bar)
        central_layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.status_indicator = StatusIndicator()
        self.busy = QLabel()
        status_bar = QStatusBar()
        status_bar.addWidget(self.busy, 1)
        status_bar.addPermanentWidget(self.status_indicator)
        self.setStatusBar(status_bar)

        # ---- wiring ----
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.search)
        self.steering.changed.connect(self._schedule_search)
        bridge.job_failed.connect(self._on_job_failed)
        bridge.busy_changed.connect(lambda n: self.busy.setText(f"{n} job{'s' if n != 1 else ''} running" if n
                                                                else ""))
        manager.state_changed.connect(self.status_indicator.set_state)
        manager.notice.connect(self.show_notice)
        self.settings = settings  # None: remember nothing (tests, screenshots)
        if settings is not None:
            restore_window(self, settings)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.query.setFocus)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.search)
        self.models_offer = ModelsOffer(self, bridge, manager, settings)  # Tools ▸ Models…, first-run offer

    # ---- picture & timeline slots -----------------------------------------------------------------------------

    def _make_picture_input(self) -> QWidget:
        """The picture side's drop zone (images, a video's frame picker) when `desktop.picture` is present, else
        the plain image drop; both emit `images_changed(list[str])` and take `set_images`."""
        picture = picture_module()
        zone: QWidget = picture.PictureDropZone() if picture is not None else ImageDropZone()
        zone.images_changed.connect(self.set_images)  # type: ignore[attr-defined]
        if hasattr(zone, "video_query_changed"):
            zone.video_query_changed.connect(self.set_video_query)
        return zone

    def _make_timeline(self) -> QWidget:
        """The picture side's timeline (frame strip, cue clip with beats, markers, fit handle, playhead)."""
        picture = picture_module()
        self.timeline_view = None
        self.cue_timeline: CueTimeline | None = None
        if picture is None:
            placeholder = QLabel("Timeline: the picture as a frame strip with the chosen cue's waveform and beats.")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            placeholder.setStyleSheet(f"color:{theme.NEUTRAL};")
            placeholder.setMinimumHeight(theme.px(110))
            return placeholder
        view = picture.TimelineView()
        picture.link(self.picture, view)
        self.timeline_view = view
        self.cue_timeline = CueTimeline(view, self.bridge, self.player, self.output_dir, self)
        self.cue_timeline.scene_selected.connect(self._show_scene)
        return view

    def show_cue(self, result: dict[str, Any]) -> None:
        if self.cue_timeline is not None:
            self.cue_timeline.seed = self.last_reply.get("seed")
            self.cue_timeline.description = self._describe_query()
            self.cue_timeline.show(result)

    # ---- query ------------------------------------------------------------------------------------------------

    def set_images(self, paths: list[str]) -> None:
        if list(paths) == self.images:
            return
        self.images = list(paths)
        if list(getattr(self.picture, "images", [])) != self.images:
            if not self.images and hasattr(self.picture, "clear"):
                self.picture.clear()  # type: ignore[attr-defined]  # the picture zone keeps a picture on []
            else:
                self.picture.set_images(self.images)  # type: ignore[attr-defined]
        if self.video_query is None:  # a video searched per scene does not send its picked frames
            self._schedule_search()

    def set_video_query(self, query: dict[str, Any] | None) -> None:
        """The picture zone's per-scene choice for its video: {video, video_range?, split} or None (frames)."""
        if query == self.video_query:
            return
        old_video = (self.video_query or {}).get("video")
        self.video_query = query
        if self.cue_timeline is not None and (query or {}).get("video") != old_video:
            self.cue_timeline.clear_scene_cues()  # another video (or none): the old cues no longer fit the picture
        self._schedule_search()

    def search_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"k": RESULTS_K, "seed": self.search_seed, "seeds": self.steering.seeds.value(),
                                  "guidance": self.steering.guidance.value()}
        text = self.query.text().strip()
        if text:
            params["text"] = text
        if self.video_query is not None:
            params.update(self.video_query)  # each cue is searched with the same text, phrases and seed
        elif self.images:
            params["images"] = list(self.images)
        steer = self.steering.phrases()
        if steer:
            params["steer"] = steer
        return params

    def has_query(self) -> bool:
        params = self.search_params()
        return any(key in params for key in ("text", "images", "steer", "video"))

    def search(self, params: dict[str, Any] | None = None) -> str | None:
        self._search_timer.stop()
        params = params if isinstance(params, dict) else self.search_params()
        if not any(key in params for key in ("text", "images", "steer", "like", "video")):
            self.results.summary.setText("Nothing to search for: drop a picture, type a query or add a phrase.")
            return None
        if self._training:  # never throw away the (one-off) training of the library's prior: queue behind it
            self._queued_search = params
            self.results.summary.setText("Training this library's prior first (once); your latest query runs next…")
            return None
        self.last_params = params
        self._search_fraction, self._search_step = 0.0, ""
        self.results.show_busy("Finding music for each scene…" if "video" in params else "Searching…",
                               0.0 if "video" in params else None)
        return self.bridge.request(SEARCH_CHANNEL, "search", params, on_result=self._on_results,
                                   on_progress=self._on_search_progress, on_failed=self._on_search_failed)

    def more_like_this(self, result: dict[str, Any]) -> str | None:
        params = {**self.search_params(), "like": result["path"], "like_at": float(result.get("in_point_s", 0.0))}
        for key in ("text", "images", "video", "video_range", "split"):
            params.pop(key, None)  # "like this track", steered by the phrases
        return self.search(params)

    def reseed(self) -> None:
        self.search_seed = random.randrange(MAX_SEED)
        self.search()

    def _schedule_search(self) -> None:
        if self.auto_search and self.has_query():
            self._search_timer.start()

    def _on_results(self, reply: dict[str, Any]) -> None:
        self.results.end_busy()
        scenes = self.cue_timeline
        if "cues" in reply and scenes is not None:  # a video searched per scene: one result set per cue
            self.last_reply = reply
            scenes.set_scene_cues(reply)
            if not scenes.scene_cues:
                self.results.set_reply({})
        elif "like" in self.last_params and scenes is not None and scenes.current_scene is not None:
            self.last_reply = {**self.last_reply, "seed": reply.get("seed")}
            self._show_scene(scenes.replace_scene_reply(reply))  # "more like this" refines the current cue
        else:
            self.last_reply = reply
            if scenes is not None:
                scenes.clear_scene_cues()
            self.results.set_reply(reply)
        self.results_arrived.emit(reply)
        self._run_queued_search()

    def _show_scene(self, cue: SceneCue | None) -> None:
        """List the results of one per-scene cue (its band was clicked, or new cues arrived)."""
        if cue is None:
            return
        self.results.set_reply(cue.reply)
        count = len(self.cue_timeline.scene_cues) if self.cue_timeline is not None else 1
        span = f"{cue.start_s:.1f}–{cue.end_s:.1f} s"
        self.results.summary.setText(f"Scene cue {cue.index + 1} of {count} ({span}) · "
                                     + self.results.summary.text())

    def _on_search_progress(self, event: Progress) -> None:
        if event.stage in TRAINING_STAGES:
            self._training = True
            self.results.show_busy(f"Training this library's prior (once): {event.message}", None)
            return
        self._training = False
        text = event.message or event.stage
        if "video" not in self.last_params or event.stage == "video":  # a cue's own stages would rewind the bar
            self._search_fraction, self._search_step = event.fraction, text
        elif self._search_step:
            text = f"{self._search_step} · {text}"  # "cue 2 of 3: 9.0–18.0 s · sampling 16 seed embeddings"
        self.results.show_busy(f"Searching… {text}", self._search_fraction)

    def _on_search_failed(self, event: Failed) -> None:
        self.results.end_busy()
        if event.reason != "cancelled":
            self.results.summary.setText(f"Search failed: {event.message}")
        self._run_queued_search()

    def cancel_search(self) -> bool:
        """Stop the running search (the worker stops at its next checkpoint); the results shown stay."""
        self._queued_search = None
        self._training = False
        cancelled = self.bridge.cancel(SEARCH_CHANNEL)
        self.results.end_busy("Search cancelled: the results shown are from before." if cancelled else None)
        return cancelled

    def _run_queued_search(self) -> None:
        self._training = False
        queued, self._queued_search = self._queued_search, None
        if queued is not None:
            self.search(queued)

    # ---- export & generate ------------------------------------------------------------------------------------

    def open_export_dialog(self, result: dict[str, Any]) -> None:
        dialog = self.export_dialog(result)
        if dialog.exec():
            self.export(dialog.options())

    def export_dialog(self, result: dict[str, Any]) -> ExportDialog:
        """The Export dialog for `result`; for a per-scene cue, the timecode starts where that cue starts."""
        dialog = ExportDialog(result, str(self.output_dir / "exports"), self,
                              seed=self.last_reply.get("seed"), description=self._describe_query())
        cue = self.cue_timeline.current_scene if self.cue_timeline is not None else None
        if cue is not None:
            def at_cue(fps: str, start_s: float = cue.start_s) -> None:
                dialog.timecode.setText(timecode_at(start_s, fps))

            at_cue(dialog.fps.currentText())
            dialog.fps.currentTextChanged.connect(at_cue)
        return dialog

    def export(self, options: ExportOptions) -> str | None:
        self.tabs.setCurrentWidget(self.exports_panel)
        name = Path(options.path).name
        return self.bridge.request(
            f"{EXPORT_CHANNEL}-{next(self._export_ids)}", "export", options.params(),
            on_progress=lambda e: self.exports_panel.show_progress(f"Exporting {name}", e),
            on_result=self._on_exported,
            on_failed=lambda e: self.exports_panel.job_ended(f"Export of {name} failed: {e.message}"))

    def _on_exported(self, reply: dict[str, Any]) -> None:
        self.exports_panel.job_ended(f"Exported {len(reply.get('files', []))} files: drag them out, or reveal them.")
        self.exports_panel.add_export(reply)
        self.activity.add_info(f"exported into {reply.get('out_dir')}")
        self.export_finished.emit(reply)

    def generate(self, options: dict[str, Any]) -> str | None:
        params = {k: v for k, v in self.search_params().items() if k in ("text", "images", "steer")}
        params.update({k: v for k, v in options.items() if v is not None})
        params["out_dir"] = str(self.output_dir / "generated")
        params["name"] = f"cue-{options['backend']}-{time.strftime('%Y%m%d-%H%M%S')}"
        params["seeds"] = self.steering.seeds.value()
        self.generate_panel.set_running(True, "Generating…")
        return self.bridge.request(
            GENERATE_CHANNEL, "generate", params,
            on_progress=lambda e: self.generate_panel.set_running(True, f"{e.stage}: {e.message}"),
            on_result=self._on_generated,
            on_failed=lambda e: self.generate_panel.set_running(False, f"Generation failed: {e.message}"))

    def _on_generated(self, reply: dict[str, Any]) -> None:
        self.generate_panel.set_running(False, f"Made {Path(reply['files'][0]).name} (seed {reply.get('seed')}); "
                                               f"licence: {reply.get('licence')}")
        warning = (reply.get("novelty") or {}).get("warning")
        if warning:  # the novelty guard: never ship an accidental copy of a library track
            self.show_notice(f"Generated cue {warning}")
        self.exports_panel.add_generated(reply)
        self.generate_finished.emit(reply)

    def _cancel_job(self, channel: str, panel: GeneratePanel) -> None:
        if self.bridge.cancel(channel):
            panel.set_running(False, "Cancelled.")

    def _describe_query(self) -> str:
        parts = [f"{'+' if w > 0 else '-'}{t}:{abs(w):.2f}" for t, w in self.steering.phrases()]
        if self.query.text().strip():
            parts.insert(0, self.query.text().strip())
        if self.video_query is not None:
            cue = self.cue_timeline.current_scene if self.cue_timeline is not None else None
            where = f" cue {cue.start_s:.1f}-{cue.end_s:.1f} s" if cue else ""  # ASCII: MIDI text is latin-1
            parts.insert(0, f"video {Path(self.video_query['video']).name}{where}")
        elif self.images:
            parts.insert(0, f"{len(self.images)} image(s)")
        return "cuesteer: " + ", ".join(parts) if parts else "cuesteer"

    # ---- notices & failures -----------------------------------------------------------------------------------

    def show_notice(self, text: str) -> None:
        self.notice.setText(f"⚠ {text}")
        self.notice_bar.setVisible(True)
        self.activity.add_notice(text)

    def hide_notice(self) -> None:
        self.notice_bar.setVisible(False)

    def _on_job_failed(self, method: str, reason: str, message: str) -> None:
        self.activity.add_failure(method, reason, message)
        self.statusBar().showMessage(f"{method} failed: {message}", 8000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.settings is not None:
            save_window(self, self.settings)
        self.player.stop()
        self.manager.stop()
        super().closeEvent(event)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight:bold;")
    return label


def picture_module() -> Any:
    """`desktop.picture` when the picture side is installed, else None (the plain image drop stands in)."""
    try:
        return importlib.import_module("desktop.picture")
    except ImportError:
        return None
