"""The picture side of the desktop app: the drop zone (images, and a video's frame picker) and the timeline.

Embedding (nothing else is needed; all decoding runs on Qt's thread pool through `desktop.tasks.run_task`):

    from desktop.picture import PictureDropZone, TimelineView, guard_pyside, link

    guard_pyside()                      # once, after QApplication exists: see the PySide6 6.12 note below

    zone = PictureDropZone()            # replaces desktop.image_drop.ImageDropZone (same images/set_images API)
    zone.images_changed.connect(window.set_images)   # list[str]: image files, then the checked video frames
                                                     # (PNG paths in the frame cache) -> search(images=[…])
    window.set_images(paths)            # may call zone.set_images(paths) back: a no-op when unchanged

    timeline = TimelineView()           # fixed height (sizeHint), expands horizontally
    link(zone, timeline)                # zone.picture_changed -> timeline.set_picture,
                                        # zone.scenes_changed -> timeline.set_scenes

    # when a result is chosen (times in seconds; beats are seconds into the file):
    timeline.set_cue(path, start_s=0.0, in_point_s=result["in_point_s"], title=title)
    timeline.set_analysis(analyze_result)   # the worker's analyze dict: beats_s, downbeats_s, tempo_bpm, duration_s
    timeline.set_markers([(seconds, "label"), …])
    timeline.set_cue("")                # no cue

    # playhead and seeking, in timeline seconds (0 = the picture's first frame):
    player.position_changed.connect(timeline.set_audio_position)   # seconds into the cue's file
    timeline.position = seconds         # or drive the `position` Qt property directly (positionChanged notifies)
    timeline.seekRequested.connect(lambda t: player.play(cue_path, timeline.audio_time(t)))

    # fit to length: dragging the clip's end emits the new cue length in seconds (snapped to the picture's end,
    # scene cuts and markers; Alt: no snapping); double-clicking the handle fits it to end with the picture;
    # timeline.request_fit(seconds) does the same from code. The clip shows the requested length until the next
    # set_cue.
    timeline.fitRequested.connect(lambda s: bridge.request("export", "export", {**export_params, "fit_s": s}, …))
    # then set_cue(fitted_path, …) with the fitted file and its analysis; timeline.clear_fit() if the fit failed.

A video searched per scene (`zone.video_query()` → search(video=…, split=True); `zone.video_query_changed`):
    timeline.set_bands(desktop.picture.scene_cues.cues_from_reply(reply), selected=0)  # one band per cue
    timeline.bandSelected.connect(lambda i: …)   # a band clicked (or [ ] pressed): list that cue's results

Markers: users add them (double-click in the Markers row, or M at the playhead) and remove them (right-click);
`timeline.markersChanged(list[(seconds, label)])` reports the new list (e.g. for the export's markers file);
the fit handle snaps to them. Other signals: `zone.picker.busy_changed(bool)` while scenes are found.
Everything is legible at 1280×800 and at 2× (QT_SCALE_FACTOR=2); `python -m desktop.picture.demo
docs/screenshots [--scale 2]` renders the screenshots.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call and aborts the interpreter
("Fatal Python error: none_dealloc") after some tens of thousands of them — seconds of painting. `guard_pyside()`
(desktop.picture.pyside_guard.guard) detects the leak and neutralises it; the pin to PySide6 <6.12 in pyproject
(6.11.3 does not leak) is the real fix.
"""

from __future__ import annotations

from desktop.picture.drop_zone import PictureDropZone
from desktop.picture.frame_picker import FramePicker
from desktop.picture.pyside_guard import guard as guard_pyside
from desktop.picture.timeline import TimelineView

__all__ = ["FramePicker", "PictureDropZone", "TimelineView", "guard_pyside", "link"]


def link(zone: PictureDropZone, timeline: TimelineView) -> None:
    """Show the zone's picture (the video, else the first image) and its scene cuts on the timeline."""
    zone.picture_changed.connect(timeline.set_picture)
    zone.scenes_changed.connect(timeline.set_scenes)
