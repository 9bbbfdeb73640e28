"""The desktop app offscreen against a real worker process: index from the Library panel, drop an image, steer
with signed phrases, see results change with a weight, export with MIDI and check the files, cancel a long index;
a 10-ms timer probe measures how long the GUI event loop ever stalled meanwhile (printed; must stay < 100 ms)."""

from __future__ import annotations

import os
from pathlib import Path

import mido
import soundfile as sf

from desktop.export_dialog import ExportOptions
from desktop.exports_panel import file_urls_mime
from tests.desktop.conftest import App, drop_files, make_music, wait_for

MAX_STALL_MS = 100.0
CALL_TIMEOUT_S = 90.0
GENERATE_SECONDS = 4.0


def _run_search(app: App, action) -> dict:
    """Do `action()` (which leads to a search) and return the reply the window shows."""
    replies: list[dict] = []
    app.window.results_arrived.connect(replies.append)
    try:
        action()
        wait_for(lambda: replies, CALL_TIMEOUT_S, "search results")
    finally:
        app.window.results_arrived.disconnect(replies.append)
    return replies[-1]


def test_status_indicator_shows_device_encoder_and_library_size(app: App) -> None:
    text = app.window.status_indicator.text()
    assert "CPU" in text and "no encoder yet" in text and "0 tracks" in text


def test_index_from_the_library_panel(app: App) -> None:
    panel = app.window.library_panel
    reports: list[dict] = []
    panel.indexed.connect(reports.append)
    app.probe.start_phase("index")
    (app.music / "broken.mp3").write_text("not audio")
    panel.add_folders([str(app.music)])
    wait_for(lambda: reports, CALL_TIMEOUT_S, "the index report")
    assert reports[0]["indexed"] == len(app.tracks)
    assert panel.errors.count() == 1 and "broken.mp3" in panel.errors.item(0).text()
    assert panel.bar.value() == panel.bar.maximum()
    wait_for(lambda: f"{len(app.tracks)} tracks" in app.window.status_indicator.text(), CALL_TIMEOUT_S, "status")
    assert "clap" in app.window.status_indicator.text()  # the library is now stamped with its encoder


def test_image_and_signed_steering_give_results_and_a_weight_change_changes_them(app: App) -> None:
    window = app.window
    app.probe.start_phase("search")
    drop_files(window.picture, [app.image])  # dropped from a file manager onto the picture zone
    wait_for(lambda: window.images == [str(app.image)], CALL_TIMEOUT_S, "the dropped image to become the query")
    window.steering.add_spec("+ piano 0.8")
    window.steering.add_spec("− drums 0.6")
    assert window.steering.phrases() == [["piano", 0.8], ["drums", -0.6]]
    first = _run_search(app, lambda: None)  # the edits above scheduled a (debounced) search
    assert first["results"] and window.results.model.rowCount() == len(first["results"])
    assert window.last_params["images"] == [str(app.image)]
    assert window.last_params["steer"] == [["piano", 0.8], ["drums", -0.6]]
    assert first["steer"] == [["piano", 0.8], ["drums", -0.6]]
    assert "results" in window.results.summary.text() and "similarity" in window.results.summary.text()

    row = window.steering.rows[0]
    second = _run_search(app, lambda: row.set_weight(-0.9))
    assert second["steer"][0] == ["piano", -0.9] and second["seed"] == first["seed"]
    before = [(r["path"], r["score"]) for r in first["results"]]
    after = [(r["path"], r["score"]) for r in second["results"]]
    assert before != after
    assert [window.results.model.results[i]["path"] for i in range(len(after))] == [p for p, _ in after]


def test_a_newer_search_drops_the_older_reply(app: App) -> None:
    window = app.window
    calls: list[str] = []
    stale_before = app.bridge.dropped_stale
    first = window.bridge.request("search", "search", {**window.search_params(), "seed": 1},
                                  on_result=lambda r: calls.append("first"))
    second = window.bridge.request("search", "search", {**window.search_params(), "seed": 2},
                                   on_result=lambda r: calls.append("second"))
    assert first != second
    wait_for(lambda: calls, CALL_TIMEOUT_S, "the newer reply")
    assert calls == ["second"]
    wait_for(lambda: app.bridge.dropped_stale > stale_before, CALL_TIMEOUT_S, "the stale reply")
    assert calls == ["second"]


def test_more_like_this_finds_other_tracks_steered_by_the_phrases(app: App) -> None:
    window = app.window
    chosen = window.results.selected()
    reply = _run_search(app, window.results.more_button.click)
    assert window.last_params["like"] == chosen["path"] and window.last_params["like_at"] == chosen["in_point_s"]
    assert window.last_params["steer"] and "images" not in window.last_params
    assert reply["results"] and chosen["path"] not in [r["path"] for r in reply["results"]]


def test_export_with_midi_writes_the_files_and_they_drag_out(app: App) -> None:
    window = app.window
    result = window.results.selected()
    assert result is not None
    finished: list[dict] = []
    window.export_finished.connect(finished.append)
    app.probe.start_phase("export")
    out_dir = app.out / "exports" / "first"
    window.export(ExportOptions(path=result["path"], out_dir=str(out_dir), in_point_s=0.0, midi=True,
                                markers=["csv", "resolve"], timecode="01:00:00:00", fps="25", seed=7))
    wait_for(lambda: finished, CALL_TIMEOUT_S, "the export")
    files = {Path(f).name: Path(f) for f in finished[0]["files"]}
    stem = Path(result["path"]).stem
    assert set(files) == {f"{stem}.wav", f"{stem}.mid", f"{stem}-markers.csv", f"{stem}.edl"}
    audio, rate = sf.read(files[f"{stem}.wav"])
    assert rate == 48000 and len(audio) > rate  # the whole 6-s track at 48 kHz
    midi = mido.MidiFile(files[f"{stem}.mid"])
    tempos = [m for track in midi.tracks for m in track if m.type == "set_tempo"]
    assert tempos, "the MIDI file carries a tempo map"
    assert "01:00:00:00" in files[f"{stem}.edl"].read_text() or "01:00:0" in files[f"{stem}.edl"].read_text()

    tree = window.exports_panel.tree
    top = tree.topLevelItem(0)
    assert top.childCount() == 4
    tree.setCurrentItem(top)
    top.setSelected(True)
    mime = file_urls_mime(tree.selected_paths())
    assert sorted(Path(u.toLocalFile()).name for u in mime.urls()) == sorted(files)
    assert all(Path(u.toLocalFile()).is_file() for u in mime.urls())


def test_chosen_result_on_the_timeline_with_beats_then_fitted_by_the_handle(app: App) -> None:
    window = app.window
    timeline = window.timeline_view
    assert timeline is not None, "desktop.picture's TimelineView is in the window"
    window.results.view.setCurrentIndex(window.results.model.index(1))
    result = window.results.selected()
    assert timeline.cue is not None and timeline.cue.path == result["path"]
    assert timeline.cue.in_point_s == result["in_point_s"]
    wait_for(lambda: timeline.cue.beats_s, CALL_TIMEOUT_S, "the analysis on the timeline")
    finished: list[dict] = []
    window.export_finished.connect(finished.append)
    app.probe.start_phase("export")
    timeline.fitRequested.emit(4.0)  # what dropping the fit handle at 4 s does
    wait_for(lambda: finished, CALL_TIMEOUT_S, "the fitted cue")
    reply = finished[-1]
    fit = reply["fit"]  # bar-based: a cue whose bars cannot make 4 s says how far it is, it never pretends
    assert fit["target_s"] == 4.0 and abs(reply["duration_s"] - fit["duration_s"]) < 1e-3
    assert abs(abs(reply["duration_s"] - 4.0) - abs(fit["error_s"])) < 1e-3
    assert fit["within_tolerance"] == (abs(fit["error_s"]) <= fit["tolerance_s"] + 1e-6)
    assert timeline.cue.path.endswith(".wav") and Path(timeline.cue.path).is_file()
    assert Path(timeline.cue.path).parent.parent == app.out / "fits" and timeline.cue.beats_s == reply["beats_s"]


def test_generate_from_the_panel_steered_by_the_query(app: App) -> None:
    window, panel = app.window, app.window.generate_panel
    panel.seconds.setValue(GENERATE_SECONDS)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(5)
    finished: list[dict] = []
    window.generate_finished.connect(finished.append)
    panel.go.click()
    assert not panel.go.isEnabled() and panel.cancel.isEnabled()
    wait_for(lambda: finished, CALL_TIMEOUT_S, "the generated cue")
    reply = finished[0]
    assert reply["seed"] == 5 and reply["backend"] == "symbolic" and reply["steered_by_seeds"]
    assert all(Path(f).is_file() for f in reply["files"]) and any(f.endswith(".mid") for f in reply["files"])
    assert Path(reply["files"][0]).parent == app.out / "generated"
    assert panel.go.isEnabled() and "seed 5" in panel.state.text()
    top = window.exports_panel.tree.topLevelItem(0)
    assert top.childCount() == len(reply["files"]) and "seed 5" in top.text(0)


def test_cancel_a_long_index_from_the_ui(app: App, tmp_path: Path) -> None:
    panel = app.window.library_panel
    many = make_music(tmp_path / "many", count=60, seconds=3.0, first=100)
    seen: list[str] = []
    app.probe.start_phase("index")
    request_id = panel.add_folders([str(tmp_path / "many")])
    assert request_id is not None
    original = panel._progress

    def on_progress(event) -> None:
        seen.append(event.stage)
        original(event)

    app.bridge._requests[request_id].on_progress = on_progress
    wait_for(lambda: "embed" in seen, CALL_TIMEOUT_S, "the first committed batch")
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    assert "Cancelled" in panel.state.text() and not panel.running
    statuses: list[dict] = []
    app.bridge.request("status-check", "status", on_result=statuses.append)
    wait_for(lambda: statuses, CALL_TIMEOUT_S, "the status after the cancel")
    # the worker stopped at a checkpoint: some of the new files were committed, not all of them
    assert len(app.tracks) < statuses[0]["tracks"] < len(app.tracks) + len(many)


def test_the_event_loop_never_stalled(app: App) -> None:
    """The GUI thread never works for 100 ms at a stretch during index, search and export. Its wall-clock gaps
    (printed) also include the time the OS gives other processes — the worker among them — on 2 shared cores, so
    they are held to 100 ms only while the machine is not overloaded (load average below the core count)."""
    load = os.getloadavg()[0]
    print(f"GUI stall probe, max event-loop gap per phase (load average {load:.1f}): " + app.probe.report())
    gaps, busy = app.probe.max_gap_ms, app.probe.max_busy_ms
    phases = ("index", "search", "export")
    assert set(phases) <= set(gaps)
    assert max(busy[k] for k in phases) < MAX_STALL_MS, busy
    if load < (os.cpu_count() or 1):
        assert max(gaps[k] for k in phases) < MAX_STALL_MS, gaps
