"""Widgets and their pure helpers without a worker: steering rows and phrases, presets (the shipped ones and
save-as), audition with no output device, export parameters, drag-out data, progress and status lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop import theme
from desktop.audition import NO_DEVICE, Player
from desktop.export_dialog import ExportDialog, ExportOptions, export_folder
from desktop.exports_panel import ExportsPanel, file_urls_mime, reveal_command
from desktop.presets import SHIPPED_DIR, Preset, PresetError, load_presets, parse_preset, preset_toml, save_preset
from desktop.progress import format_eta, progress_text
from desktop.results import ResultsPanel, diversity_text, seeds_text
from desktop.status import status_text
from desktop.steering import PhraseRow, SteeringPanel, format_weight, parse_spec
from protocol.messages import Progress

MIN_SHIPPED_PRESETS = 8


@pytest.fixture(autouse=True)
def _user_presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-presets"
    monkeypatch.setenv("CUESTEER_PRESETS", str(folder))
    return folder


@pytest.mark.parametrize(("spec", "expected"), [
    ("+ piano 0.8", ("piano", 0.8)),
    ("− drums 0.6", ("drums", -0.6)),
    ("-drums:0.6", ("drums", -0.6)),
    ("warm acoustic guitar", ("warm acoustic guitar", 0.8)),
    ("+warm acoustic guitar:0.25", ("warm acoustic guitar", 0.25)),
    ("-  vocals", ("vocals", -0.8)),
])
def test_typed_phrases_parse_to_signed_weights(spec: str, expected: tuple[str, float]) -> None:
    text, weight = parse_spec(spec)
    assert (text, round(weight, 6)) == expected


@pytest.mark.parametrize("spec", ["+", "piano 1.5", "-drums:2"])
def test_bad_phrases_are_refused_with_a_message(spec: str) -> None:
    with pytest.raises(ValueError, match="phrase|outside"):
        parse_spec(spec)


def test_weights_always_show_their_sign() -> None:
    assert [format_weight(w) for w in (0.8, -0.6, 0.0, -1.0)] == ["+0.80", "\u22120.60", "0.00", "\u22121.00"]


def test_a_row_keeps_slider_spin_badge_and_colour_in_step(qtbot) -> None:
    row = PhraseRow("drums", -0.6)
    qtbot.addWidget(row)
    assert row.slider.value() == -60 and row.spin.value() == pytest.approx(-0.6)
    assert row.badge.text() == "\u2212" and theme.NEGATIVE in row.badge.styleSheet()
    row.slider.setValue(35)
    assert row.weight() == pytest.approx(0.35) and row.spin.value() == pytest.approx(0.35)
    assert row.badge.text() == "+" and theme.POSITIVE in row.badge.styleSheet()
    assert row.spin.text() == "+0.35"


def test_steering_panel_add_remove_reorder_and_protocol_form(qtbot) -> None:
    panel = SteeringPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.changed):
        panel.add_spec("+ piano 0.8")
    panel.add_spec("− drums 0.6")
    panel.add_spec("strings")
    assert panel.phrases() == [["piano", 0.8], ["drums", -0.6], ["strings", 0.8]]
    panel.move_row(panel.rows[2], -1)
    assert [p[0] for p in panel.phrases()] == ["piano", "strings", "drums"]
    panel.rows[0].up.click()  # already first: nothing moves
    panel.rows[2].up.click()
    assert [p[0] for p in panel.phrases()] == ["piano", "drums", "strings"]
    panel.rows[1].remove.click()
    assert panel.phrases() == [["piano", 0.8], ["strings", 0.8]]
    panel.rows[1].set_weight(0.0)  # a zero weight steers nowhere: not sent
    assert panel.phrases() == [["piano", 0.8]]
    panel.new_phrase.setText("-vocals:0.5")
    qtbot.keyClick(panel.new_phrase, Qt.Key.Key_Return)
    assert panel.phrases()[-1] == ["vocals", -0.5] and panel.new_phrase.text() == ""


def test_shipped_presets_are_many_valid_and_signed() -> None:
    presets, errors = load_presets([SHIPPED_DIR])
    assert errors == [] and len(presets) >= MIN_SHIPPED_PRESETS
    names = {p.name for p in presets}
    assert {"Cinematic build", "Lo-fi under dialogue", "No vocals"} <= names
    for preset in presets:
        assert preset.phrases and all(-1.0 <= w <= 1.0 and w != 0 for _, w in preset.phrases), preset.name
    assert sum(any(w < 0 for _, w in p.phrases) for p in presets) >= MIN_SHIPPED_PRESETS  # most say what to avoid


def test_apply_and_save_as_preset_round_trip(qtbot, _user_presets: Path) -> None:
    panel = SteeringPanel()
    qtbot.addWidget(panel)
    panel.reload_presets()
    cinematic = next(p for p in panel.presets if p.name == "Cinematic build")
    panel.apply_preset(cinematic)
    assert panel.phrases() == [[t, w] for t, w in cinematic.phrases]
    assert panel.guidance.value() == pytest.approx(cinematic.guidance)
    panel.rows[0].set_weight(0.3)
    saved = panel.save_as_preset("My \"trailer\" mix")
    assert saved is not None and saved.path is not None and saved.path.parent == _user_presets
    again, errors = load_presets([SHIPPED_DIR, _user_presets])
    mine = next(p for p in again if p.name == "My \"trailer\" mix")
    assert errors == [] and mine.phrases[0] == (cinematic.phrases[0][0], 0.3)
    assert mine.seeds == panel.seeds.value()


def test_a_user_preset_shadows_a_shipped_one_and_bad_files_are_reported(_user_presets: Path) -> None:
    save_preset(Preset("No vocals", [("choir", -1.0)]), _user_presets)
    (_user_presets / "broken.toml").write_text("name = \n")
    (_user_presets / "loud.toml").write_text('name = "Loud"\n[[steer]]\ntext = "x"\nweight = 3\n')
    presets, errors = load_presets([SHIPPED_DIR, _user_presets])
    assert next(p for p in presets if p.name == "No vocals").phrases == [("choir", -1.0)]
    assert len(errors) == 2 and any("outside" in e for e in errors)
    with pytest.raises(PresetError):
        parse_preset("steer = 1")
    assert parse_preset(preset_toml(Preset("Q\\uote\"s", [("a \"b\"", -0.25)]))).phrases == [('a "b"', -0.25)]


def test_no_output_device_is_shown_and_nothing_else_breaks(qtbot) -> None:
    player = Player()
    panel = ResultsPanel(player)
    qtbot.addWidget(panel)
    if player.available:  # a machine with sound: the device picker lists it instead
        assert panel.device.count() == len(player.devices)
        return
    assert panel.device_note.text() == NO_DEVICE and not panel.device.isVisible()
    panel.set_reply({"results": [{"path": __file__, "score": 0.5, "in_point_s": 1.0, "seeds": [3]}], "seed": 3})
    assert not panel.play_button.isEnabled() and panel.more_button.isEnabled()
    errors: list[str] = []
    player.error.connect(errors.append)
    assert player.play(__file__, 0.0) is False and errors and NO_DEVICE in errors[0]


def test_result_and_summary_lines() -> None:
    assert seeds_text([1, 2, 3, 4, 5, 6, 7, 8]) == "found by 8 seeds"
    assert seeds_text([4]) == "found by seed 4" and seeds_text([]) == "query"
    reply = {"results": [{"seeds": [1, 2]}, {"seeds": [2]}], "seeds": [1, 2, 3, 4], "seed": 1,
             "diversity": {"miscs": 0.4123, "distinct_labels": 2}}
    text = diversity_text(reply)
    assert "2 results" in text and "similarity 0.41" in text and "2/4 seeds" in text and "2 sources" in text
    assert status_text({"device": "cuda", "encoder": {"id": "clap"}, "tracks": 1234, "errors": 2}) == \
        "CUDA · clap · 1,234 tracks · 2 unreadable"


def test_progress_lines_with_eta() -> None:
    assert format_eta(None) == "" and format_eta(42) == "about 42 s left" and format_eta(125) == "about 2 min 05 s left"
    assert format_eta(7300) == "about 2 h 01 min left"
    assert progress_text(Progress("embed", 0.5, "32/64 files", 30.0)) == "embed 50 % · 32/64 files · about 30 s left"


def test_export_options_become_the_workers_export_call(tmp_path: Path, qtbot) -> None:
    result = {"path": str(tmp_path / "Night Drive.flac"), "in_point_s": 4.5, "title": "Night Drive"}
    dialog = ExportDialog(result, str(tmp_path / "exports"), seed=11, fit_s=20.0)
    qtbot.addWidget(dialog)
    dialog.stems.setChecked(True)
    dialog.markers["fcpxml"].setChecked(True)
    dialog.timecode.setText("10:00:00:00")
    dialog.fps.setCurrentText("29.97")
    params = dialog.options().params()
    assert params["path"] == result["path"] and params["start_s"] == 4.5 and params["fit_s"] == 20.0
    assert params["stems"] and params["midi"] and params["markers"] == ["fcpxml", "csv"]
    assert (params["timecode"], params["fps"], params["seed"]) == ("10:00:00:00", "29.97", 11)
    assert Path(params["out_dir"]).parent == tmp_path / "exports" and "Night_Drive" in params["out_dir"]
    dialog.timecode.setText("1:2")  # not a timecode: the default is used, never sent malformed
    assert dialog.options().params()["timecode"] == "01:00:00:00"
    plain = ExportOptions(path="a.wav", out_dir="o", in_point_s=0.0).params()
    assert "start_s" not in plain and "fit_s" not in plain


def test_export_folders_never_collide(tmp_path: Path) -> None:
    first = Path(export_folder(tmp_path, "/x/My Song.flac"))
    first.mkdir()
    second = Path(export_folder(tmp_path, "/x/My Song.flac"))
    assert first != second and first.name.startswith("My_Song ")


def test_finished_files_drag_out_as_file_urls_and_can_be_revealed(tmp_path: Path, qtbot) -> None:
    files = [tmp_path / "cue.wav", tmp_path / "cue.mid"]
    for f in files:
        f.write_bytes(b"x" * 10)
    panel = ExportsPanel()
    qtbot.addWidget(panel)
    top = panel.add_export({"files": [str(f) for f in files], "out_dir": str(tmp_path), "tempo_bpm": 120,
                            "key": "C major", "duration_s": 6.0})
    top.setSelected(True)
    assert panel.tree.selected_paths() == [str(f) for f in files]
    mime = file_urls_mime(panel.tree.selected_paths())
    assert [u.toLocalFile() for u in mime.urls()] == [str(f.resolve()) for f in files]
    assert mime.hasUrls() and "text/uri-list" in mime.formats()
    assert reveal_command("/a/b.wav", "darwin") == ["open", "-R", "/a/b.wav"]
    assert reveal_command("C:\\a\\b.wav", "win32") == ["explorer", "/select,C:\\a\\b.wav"]
    assert reveal_command("/a/b.wav", "linux") is None


def test_keyboard_moves_through_results_and_triggers_actions(qtbot) -> None:
    panel = ResultsPanel(Player())
    qtbot.addWidget(panel)
    results = [{"path": f"/nowhere/{i}.wav", "score": 1 - i / 10, "in_point_s": float(i), "seeds": [i]}
               for i in range(3)]
    panel.set_reply({"results": results, "seed": 0, "seeds": [0, 1, 2]})
    assert panel.view.currentIndex().row() == 0
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    assert panel.selected()["path"] == "/nowhere/2.wav"
    qtbot.keyClick(panel.view, Qt.Key.Key_Up)
    with qtbot.waitSignal(panel.more_like_this) as more:
        qtbot.keyClick(panel.view, Qt.Key.Key_M)
    assert more.args[0]["path"] == "/nowhere/1.wav"
    with qtbot.waitSignal(panel.export_requested) as export:
        qtbot.keyClick(panel.view, Qt.Key.Key_E)
    assert export.args[0]["in_point_s"] == 1.0
    looping = panel.loop_box.isChecked()
    qtbot.keyClick(panel.view, Qt.Key.Key_L)
    assert panel.loop_box.isChecked() != looping and panel.player.loop == panel.loop_box.isChecked()


def test_audition_callback_applies_volume_loops_and_finishes() -> None:
    """What PortAudio's thread gets from the player (no device needed: the callback is called directly)."""
    import numpy as np

    player = Player()
    player._data = np.arange(1, 11, dtype=np.float32).reshape(-1, 1)  # 10 frames, mono
    player._pos, player.volume, player.loop = 0, 0.5, True
    out = np.zeros((8, 1), np.float32)
    player._callback(out, 8, None, None)
    player._callback(out, 8, None, None)  # wraps: frames 9, 10, then 1..6 again
    assert out[:, 0].tolist() == [4.5, 5.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0] and not player._finished.is_set()
    player.loop, player.volume = False, 1.0
    player._callback(out, 8, None, None)  # frames 7..10, then silence: finished
    assert out[:, 0].tolist() == [7.0, 8.0, 9.0, 10.0, 0.0, 0.0, 0.0, 0.0] and player._finished.is_set()


def test_adding_a_folder_while_indexing_keeps_the_first_folder_in_the_run() -> None:
    from desktop.library_panel import paths_for_run

    assert paths_for_run([], ["/music/a"], running=False) == ["/music/a"]
    assert paths_for_run(["/music/a"], ["/music/b"], running=False) == ["/music/b"]
    assert paths_for_run(["/music/a"], ["/music/b", "/music/a"], running=True) == ["/music/a", "/music/b"]


def test_the_window_remembers_folders_guidance_seeds_and_volume(qtbot, tmp_path: Path) -> None:
    from desktop.app_settings import open_settings
    from desktop.bridge import WorkerBridge
    from desktop.main_window import MainWindow
    from desktop.worker_manager import WorkerManager

    def window() -> MainWindow:
        bridge = WorkerBridge()
        w = MainWindow(bridge, WorkerManager(bridge, connect="tcp://127.0.0.1:9"), tmp_path / "out",
                       settings=open_settings(str(tmp_path / "app.ini")))
        qtbot.addWidget(w)
        return w

    first = window()
    first.library_panel.folders.append("/music/a")
    first.steering.guidance.setValue(2.5)
    first.steering.seeds.setValue(7)
    first.results.volume.setValue(30)
    first.close()
    second = window()
    assert second.library_panel.folders == ["/music/a"] and second.library_panel.folder_list.count() == 1
    assert second.steering.guidance.value() == 2.5 and second.steering.seeds.value() == 7
    assert second.player.volume == 0.3 and second.results.volume.value() == 30
    second.close()


def test_a_search_training_the_prior_is_not_cancelled_by_new_edits(qtbot, tmp_path: Path) -> None:
    """Training the library's prior is a one-off of minutes: edits meanwhile queue one search behind it instead
    of cancelling it (which would start the training over). Worker events are fed as the bridge delivers them."""
    from desktop.bridge import WorkerBridge
    from desktop.main_window import MainWindow
    from desktop.worker_manager import WorkerManager

    bridge = WorkerBridge()
    window = MainWindow(bridge, WorkerManager(bridge, connect="tcp://127.0.0.1:9"), tmp_path / "out")
    qtbot.addWidget(window)
    window.auto_search = False
    window.search({"text": "first", "seed": 1})
    assert window.last_params["text"] == "first"
    window._on_search_progress(Progress("train prior", 0.1, "step 10/1000, loss 0.9"))
    assert "Training" in window.results.summary.text()
    assert window.search({"text": "second", "seed": 1}) is None  # queued, not sent
    assert window.search({"text": "third", "seed": 1}) is None  # the latest edit wins
    assert window.last_params["text"] == "first"
    window._on_results({"results": [], "seed": 1})  # the training search finishes
    assert window.last_params["text"] == "third" and window._queued_search is None
    window._on_search_progress(Progress("seeds", 0.5, "sampling 16 seed embeddings"))
    window.search({"text": "fourth", "seed": 1})
    assert window.last_params["text"] == "fourth"  # not training: a new search replaces the old at once


def test_a_generated_cue_too_close_to_a_library_track_raises_a_notice(qtbot, tmp_path: Path) -> None:
    from desktop.bridge import WorkerBridge
    from desktop.main_window import MainWindow
    from desktop.worker_manager import WorkerManager

    bridge = WorkerBridge()
    window = MainWindow(bridge, WorkerManager(bridge, connect="tcp://127.0.0.1:9"), tmp_path / "out")
    qtbot.addWidget(window)
    cue = tmp_path / "out" / "cue-mix.wav"
    reply = {"files": [str(cue)], "seed": 3, "licence": "free", "novelty": {"warning": None, "similarity": 0.4}}
    window._on_generated(reply)
    assert window.notice_bar.isHidden()
    window._on_generated({**reply, "novelty": {"warning": "too close to song.wav at 12.0 s, 0.97"}})
    assert not window.notice_bar.isHidden() and "too close to song.wav" in window.notice.text()
