"""The glue between the results, the audition player and the picture side's timeline: the chosen result goes on
the timeline from its in-point, the worker's analysis adds its beats, the playhead follows the player, a click
plays from there, and the fit handle asks the worker for a fitted edit that then replaces the clip.

A per-scene video search adds its cues: one band each on the timeline; the selected cue's results are the ones
listed (`scene_selected`), and its chosen result goes on the timeline from that cue's start."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.audition import Player
from desktop.bridge import WorkerBridge
from desktop.export_dialog import ExportOptions, export_folder
from desktop.picture.scene_cues import SceneCue, cues_from_reply
from desktop.results import display_title
from protocol.messages import Failed, Progress

ANALYZE_CHANNEL = "analyze"
FIT_CHANNEL = "fit"


class CueTimeline(QObject):
    """Drives a `desktop.picture.TimelineView`; `fitted(reply)` when a fit export finished; `scene_selected(cue)`
    when a per-scene cue becomes the current one (its band clicked, or new cues arrived)."""

    fitted = Signal(object)
    scene_selected = Signal(object)  # SceneCue
    fit_progress = Signal(str, object)  # what, Progress
    fit_failed = Signal(str)

    def __init__(self, view: Any, bridge: WorkerBridge, player: Player, output_dir: Path,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.view, self.bridge, self.player, self.output_dir = view, bridge, player, Path(output_dir)
        self.seed: int | None = None  # the search seed, carried into fitted exports' metadata
        self.description = ""
        self.scene_cues: list[SceneCue] = []
        self.scene_index = -1
        view.bandSelected.connect(self.select_scene)
        view.seekRequested.connect(self.seek)
        view.fitRequested.connect(self.fit)
        player.position_changed.connect(view.set_audio_position)

    # ---- per-scene cues ---------------------------------------------------------------------------------------

    @property
    def current_scene(self) -> SceneCue | None:
        return self.scene_cues[self.scene_index] if 0 <= self.scene_index < len(self.scene_cues) else None

    def set_scene_cues(self, reply: dict[str, Any]) -> None:
        """A per-scene search's reply: its cues become bands; the cue selected before (by number) stays selected."""
        self.scene_cues = cues_from_reply(reply)
        index = min(max(self.scene_index, 0), len(self.scene_cues) - 1)
        self.scene_index = -1
        self.view.set_bands(self.scene_cues, index)
        if self.scene_cues:
            self.select_scene(index)

    def clear_scene_cues(self) -> None:
        self.scene_cues, self.scene_index = [], -1
        self.view.set_bands([])

    def select_scene(self, index: int) -> None:
        """Make cue `index` the current one: its band highlighted, the playhead at its start, its results listed."""
        if not 0 <= index < len(self.scene_cues) or index == self.scene_index:
            return
        self.scene_index = index
        cue = self.scene_cues[index]
        self.view.select_band(index)
        self.view.setPosition(cue.start_s)
        self.scene_selected.emit(cue)

    def replace_scene_reply(self, reply: dict[str, Any]) -> SceneCue | None:
        """New results for the current cue alone (e.g. "more like this" inside it); the other cues keep theirs."""
        cue = self.current_scene
        if cue is None:
            return None
        self.scene_cues[self.scene_index] = cue = dataclasses.replace(cue, reply=dict(reply))
        self.view.set_bands(self.scene_cues, self.scene_index)
        return cue

    # ---- the chosen result ------------------------------------------------------------------------------------

    def show(self, result: dict[str, Any]) -> None:
        """Put the chosen result on the timeline from its in-point (at the current scene cue's start, else at the
        picture's start), then its beats once the worker analysed it."""
        in_point = float(result.get("in_point_s", 0.0))
        duration = result.get("duration_s")
        start = self.current_scene.start_s if self.current_scene is not None else 0.0
        self.view.set_cue(result["path"], start_s=start, in_point_s=in_point,
                          length_s=max(0.0, float(duration) - in_point) if duration else None,
                          title=display_title(result))
        path = result["path"]
        self.bridge.request(ANALYZE_CHANNEL, "analyze", {"path": path},
                            on_result=lambda analysis: self._analysed(path, analysis))

    def _analysed(self, path: str, analysis: dict[str, Any]) -> None:
        if self.view.cue is not None and self.view.cue.path == path:  # still the cue shown
            self.view.set_analysis(analysis)

    def seek(self, timeline_s: float) -> None:
        if self.view.cue is not None:
            self.player.play(self.view.cue.path, self.view.audio_time(timeline_s))

    def fit(self, seconds: float) -> str | None:
        """The fit handle was dropped at `seconds`: the worker re-edits the cue at bar boundaries to that length
        (an export with fit_s); the fitted file then replaces the clip on the timeline."""
        cue = self.view.cue
        if cue is None:
            return None
        options = ExportOptions(path=cue.path, out_dir=export_folder(self.output_dir / "fits", cue.path),
                                in_point_s=cue.in_point_s, midi=True, markers=[], fit_s=float(seconds),
                                seed=self.seed, description=self.description)
        what = f"Fitting {Path(cue.path).name} to {seconds:.1f} s"

        def done(reply: dict[str, Any]) -> None:
            wav = next((f for f in reply.get("files", []) if f.endswith(".wav")), None)
            if wav is not None:
                self.view.set_cue(wav, start_s=cue.start_s, in_point_s=0.0, length_s=reply.get("duration_s"),
                                  beats_s=reply.get("beats_s", []), downbeats_s=reply.get("downbeats_s", []),
                                  tempo_bpm=reply.get("tempo_bpm"), title=f"{cue.title} (fit {seconds:.1f} s)")
            self.fitted.emit(reply)

        def failed(event: Failed) -> None:
            self.view.clear_fit()
            self.fit_failed.emit(f"{what} failed: {event.message}")

        def progress(event: Progress) -> None:
            self.fit_progress.emit(what, event)

        return self.bridge.request(FIT_CHANNEL, "export", options.params(), on_progress=progress, on_result=done,
                                   on_failed=failed)
