"""A video searched per scene, offscreen against a real worker process: a three-scene video (9 s each, with a tone
soundtrack) dropped on the picture zone is sent whole (`video=…, split=True`, steering included); the timeline
lays out one band per cue over the right spans; clicking a band lists that cue's own results, puts its chosen
track at the cue's start and exports from the cue's timecode; Cancel stops a running per-scene search."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.picture.cue_bands import band_rect
from desktop.picture.scene_cues import cues_from_reply, timecode_at
from desktop.results import display_title
from tests.desktop.conftest import App, drop_files, wait_for

CALL_TIMEOUT_S = 90.0
SCENES = (("#c0392b", 9.0), ("#1f6feb", 9.0), ("#2e8b57", 9.0))  # red, blue, green: two hard cuts
SPANS = [(0.0, 9.0), (9.0, 18.0), (18.0, 27.0)]
FPS = 5
SIZE = (96, 54)
AUDIO_RATE = 22050
AUDIO_BLOCK = 1024
SPAN_TOLERANCE_S = 0.25  # the worker places cuts on frames (0.2 s apart here)


def make_scene_video(path: Path) -> Path:
    """H.264 scenes of flat colour with a little grain, plus an AAC tone as the soundtrack."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        video.options = {"preset": "ultrafast"}
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "mono"
        for colour, seconds in SCENES:
            rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
            for _ in range(round(seconds * FPS)):
                image = np.clip(rgb + rng.integers(-12, 12, (SIZE[1], SIZE[0], 3)), 0, 255).astype(np.uint8)
                container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode(None))
        samples = int(sum(s for _, s in SCENES) * AUDIO_RATE)
        wave = (0.2 * np.sin(2 * np.pi * 220.0 * np.arange(samples) / AUDIO_RATE)).astype(np.float32)
        for start in range(0, samples, AUDIO_BLOCK):
            frame = av.AudioFrame.from_ndarray(wave[None, start:start + AUDIO_BLOCK], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = AUDIO_RATE, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


@pytest.fixture(scope="module")
def scene_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scene_video(tmp_path_factory.mktemp("video") / "three-scenes.mp4")


def _wait_reply(app: App, action, accept=lambda reply: True) -> dict:
    replies: list[dict] = []
    app.window.results_arrived.connect(replies.append)
    try:
        action()
        wait_for(lambda: any(accept(r) for r in replies), CALL_TIMEOUT_S, "search results")
    finally:
        app.window.results_arrived.disconnect(replies.append)
    return next(r for r in reversed(replies) if accept(r))


def _paths(results: list[dict]) -> list[str]:
    return [r["path"] for r in results]


def test_cues_and_timecodes_are_read_from_the_reply() -> None:
    reply = {"cues": [{"start_s": 9.0, "end_s": 18.0, "scenes": [[9.0, 12.0], [12.0, 18.0]],
                       "results": [{"path": "/m/b.wav", "score": 0.5}], "seed": 3},
                      {"start_s": 0.0, "end_s": 9.0, "results": []}]}
    first, second = cues_from_reply(reply)
    assert (first.index, first.start_s, first.end_s, first.scenes) == (0, 0.0, 9.0, [(0.0, 9.0)])
    assert first.top is None and first.label == "1 · no match"
    assert second.scenes == [(9.0, 12.0), (12.0, 18.0)] and second.label == "2 · b" and second.reply["seed"] == 3
    assert cues_from_reply({"results": []}) == []
    assert timecode_at(18.0, "25") == "01:00:18:00"
    assert timecode_at(9.48, "25") == "01:00:09:12"  # 237 frames
    assert timecode_at(60.06, "29.97") == "01:01:00:00"  # 1800 real frames of 1001/30000 s, counted non-drop
    assert timecode_at(3600.0, "24", base="23:30:00:00") == "00:30:00:00"  # wraps at midnight like decks


def test_a_dropped_video_is_searched_per_scene_with_one_band_per_cue(app: App, scene_video: Path) -> None:
    window = app.window
    indexed: list[dict] = []
    app.bridge.request("index", "index", {"paths": [str(app.music)]}, on_result=indexed.append)
    wait_for(lambda: indexed, CALL_TIMEOUT_S, "the library index")
    window.steering.add_spec("+ piano 0.8")  # phrases apply to every cue
    shown: list[tuple[str, float | None]] = []
    show_busy = window.results.show_busy
    window.results.show_busy = lambda text, fraction=None: (shown.append((text, fraction)), show_busy(text, fraction))
    try:
        reply = _wait_reply(app, lambda: drop_files(window.picture, [scene_video]), lambda r: "cues" in r)
    finally:
        del window.results.show_busy
    assert any("sampling frames of three-scenes.mp4" in text for text, _ in shown)
    assert any(text.startswith("Searching… cue 3 of 3: 18.0–27.0 s") for text, _ in shown)
    fractions = [f for _, f in shown if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(2 / 3)  # by cue, never rewound

    assert window.picture.scene_search.per_scene, "a video is searched per scene by default"
    params = window.last_params
    assert params["video"] == str(scene_video) and params["split"] is True and "images" not in params
    assert params["steer"] == [["piano", 0.8]]
    cues = reply["cues"]
    assert all(cue["steer"] == [["piano", 0.8]] and cue["results"] for cue in cues)

    view = window.timeline_view
    assert len(view.bands) == len(cues) == len(SPANS)
    for band, cue, (start, end) in zip(view.bands, cues, SPANS, strict=True):
        assert band.start_s == pytest.approx(start, abs=SPAN_TOLERANCE_S)
        assert band.end_s == pytest.approx(end, abs=SPAN_TOLERANCE_S)
        assert band.label.endswith(display_title(cue["results"][0]))
    assert view.selected_band == 0
    assert _paths(window.results.model.results) == _paths(cues[0]["results"])
    assert "Scene cue 1 of 3" in window.results.summary.text() and not window.results.busy
    assert view.rows().bands.height() > 0 and view.rows().cue.top() > view.rows().bands.bottom()
    assert view.cue is not None and view.cue.start_s == 0.0  # the first cue's pick starts with the picture
    assert not window.grab().isNull()


def test_clicking_a_band_lists_that_cues_results_and_places_its_track_at_the_cue(app: App) -> None:
    window = app.window
    view = window.timeline_view
    reply = window.last_reply
    third = view.bands[2]
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=band_rect(view, view.rows(), third.start_s,
                                                                   third.end_s).center().toPoint())
    assert view.selected_band == 2 and window.cue_timeline.current_scene == third
    assert _paths(window.results.model.results) == _paths(reply["cues"][2]["results"])
    assert "Scene cue 3 of 3" in window.results.summary.text()
    assert view.position == pytest.approx(third.start_s)

    chosen = window.results.selected()
    assert chosen is not None and view.cue is not None and view.cue.path == chosen["path"]
    # auditioning plays from the result's in-point, which sits at the cue's start on the picture
    assert view.cue.start_s == pytest.approx(third.start_s)
    assert view.timeline_time(chosen["in_point_s"]) == pytest.approx(third.start_s)
    assert view.audio_time(third.start_s + 1.0) == pytest.approx(chosen["in_point_s"] + 1.0)

    dialog = window.export_dialog(chosen)
    try:
        assert dialog.timecode.text() == timecode_at(third.start_s, dialog.fps.currentText())
        assert dialog.options().timecode.startswith("01:00:1")  # 01:00:18:00, give or take a frame of cut
        dialog.fps.setCurrentText("24")
        assert dialog.timecode.text() == timecode_at(third.start_s, "24")
        dialog.fps.setCurrentText("25")
        options = dialog.options()
    finally:
        dialog.deleteLater()
    exported: list[dict] = []
    window.export_finished.connect(exported.append)
    window.export(options)
    state = window.exports_panel.state
    wait_for(lambda: exported or "failed" in state.text(), CALL_TIMEOUT_S, "the export of the cue's track")
    assert exported, state.text()
    window.export_finished.disconnect(exported.append)
    # the WAV's BWF TimeReference puts it at the cue's scene: 01:00:00:00 + the cue's start, in 48-kHz samples
    frames = round(third.start_s * 25)
    assert exported[0]["timecode"] == options.timecode
    assert exported[0]["time_reference"] == (3600 * 25 + frames) * 48000 // 25


def test_cancel_stops_a_running_per_scene_search(app: App) -> None:
    window = app.window
    view = window.timeline_view
    before = (list(view.bands), _paths(window.results.model.results))
    progress: list[str] = []
    window.reseed()  # the same video with new seeds: a fresh per-scene search
    request_id = app.bridge.current("search")
    assert request_id is not None and window.results.busy and window.results.cancel_button.isEnabled()
    original = app.bridge._requests[request_id].on_progress

    def on_progress(event) -> None:
        progress.append(event.message)
        original(event)

    app.bridge._requests[request_id].on_progress = on_progress
    wait_for(lambda: progress, CALL_TIMEOUT_S, "the search to start sampling the video")
    window.results.cancel_button.click()

    assert not window.results.busy and "cancelled" in window.results.summary.text().lower()
    assert app.bridge.current("search") is None
    log = app.manager.local.log_tail
    wait_for(lambda: any(f"cancel {request_id} (search, running)" in line for line in log), CALL_TIMEOUT_S,
             "the worker to log the cancel of the running search")
    link = app.bridge._link
    wait_for(lambda: link.ping(timeout=CALL_TIMEOUT_S).running.get("interactive", 0) == 0, CALL_TIMEOUT_S,
             "the worker's search lane to be free")
    assert (list(view.bands), _paths(window.results.model.results)) == before  # what was shown stays


def test_keys_step_through_the_cues_and_in_out_set_the_range_sent(app: App) -> None:
    window = app.window
    window.auto_search = False  # the parameters only: no more searches from here on
    view = window.timeline_view
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_BracketLeft)
    assert view.selected_band == 1 and window.cue_timeline.scene_index == 1
    assert _paths(window.results.model.results) == _paths(window.last_reply["cues"][1]["results"])
    QTest.keyClick(view, Qt.Key.Key_BracketRight)
    QTest.keyClick(view, Qt.Key.Key_BracketRight)  # already the last cue: stays
    assert view.selected_band == 2

    options = window.picture.scene_search
    window.picture.picker.seek(4.0)
    options.in_button.click()
    window.picture.picker.seek(20.5)
    options.out_button.click()
    assert window.search_params()["video_range"] == [4.0, 20.5] and "Range 0:04.0–0:20.5" in options.range_label.text()
    options.set_out(4.5)  # an out point before the in point + 1 s starts the range again from it
    assert options.video_range() == [0.0, 4.5]
    options.whole_button.click()
    assert "video_range" not in window.search_params() and not options.whole_button.isEnabled()

    options.each_scene.setChecked(False)  # the picked frames become the query again: one result list
    params = window.search_params()
    assert "video" not in params and params["images"] == window.picture.picker.chosen()
    assert view.bands == [] and view.rows().bands.height() == 0  # the cues no longer answer the query
    options.each_scene.setChecked(True)
    assert window.search_params()["video"] == window.picture.video
    window.picture.clear()
    assert window.video_query is None and "video" not in window.search_params()
