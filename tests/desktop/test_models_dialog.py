"""The model offer against a real worker process and a local Hub: the first run shows the dialog once (with
every model the worker knows), a Download shows byte progress and finishes while the app keeps answering, a
Cancel stops it and keeps what came, a file damaged on the way shows the checksum failure, and a worker under
HF_HUB_OFFLINE shows its refusal with the command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMainWindow

from desktop.app_settings import offer_models_at_start, open_settings
from desktop.bridge import WorkerBridge
from desktop.main_window import MainWindow
from desktop.models_dialog import ModelsDialog, ModelsOffer
from desktop.worker_manager import WorkerManager
from tests.desktop.conftest import StallProbe, stall_probe, wait_for
from tests.worker.models.fake_hub import COMMIT, FakeHub, fake_model_files, serving
from worker.models import manifest

TIMEOUT_S = 60.0
WEIGHTS = 3 * (1 << 20) + 4321  # three 1-MiB chunks and a bit: several progress events
SLOW_PIECE_S = 0.03  # 64 KiB per 30 ms: a 3-MiB download takes about 1.5 s
GUI_BUSY_LIMIT_MS = 250.0  # the GUI thread's own work between two ticks of a 10-ms timer, during a download
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "models_dialog.png"
SAVE_SCREENSHOTS_ENV = "CUESTEER_SAVE_SCREENSHOTS"  # set: the cancel test also refreshes DOCS_SCREENSHOT


@dataclass
class Rig:
    window: MainWindow
    bridge: WorkerBridge
    manager: WorkerManager
    hub: FakeHub
    settings: QSettings
    probe: StallProbe


def _start(manager: WorkerManager) -> None:
    manager.start()
    try:
        wait_for(lambda: manager.state == "ready", TIMEOUT_S, "the worker to start")
    except BaseException:
        manager.stop()
        raise


@pytest.fixture(scope="module")
def rig(qapp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """A first run: no settings yet, an empty hub cache, a real worker allowed to download from a local Hub."""
    root = tmp_path_factory.mktemp("models-dialog")
    hub = FakeHub(manifest.get("clip").repo_id, fake_model_files(WEIGHTS))
    with serving(hub), pytest.MonkeyPatch.context() as env:
        env.setenv("HF_ENDPOINT", hub.endpoint)  # the worker process inherits these
        env.setenv("HF_HUB_CACHE", str(root / "hub"))
        env.setenv("TORCH_HOME", str(root / "torch"))
        env.delenv("HF_HUB_OFFLINE", raising=False)
        settings = open_settings(str(root / "settings.ini"))
        bridge = WorkerBridge()
        manager = WorkerManager(bridge, library=root / "library", extra_args=["--progress-interval", "0"])
        window = MainWindow(bridge, manager, root / "out", settings=settings)
        window.show()
        probe = stall_probe()
        _start(manager)
        yield Rig(window, bridge, manager, hub, settings, probe)
        probe.stop()
        window.close()
        manager.stop()


def _listed(dialog: ModelsDialog) -> None:
    wait_for(lambda: set(dialog.rows) == {m.name for m in manifest.MODELS}, TIMEOUT_S, "the models list")


def test_first_run_shows_the_offer_once_listing_every_model(rig: Rig, qtbot) -> None:
    dialog = rig.window.models_offer.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    _listed(dialog)
    clip, offline, musicldm = dialog.rows["clip"], dialog.rows["offline"], dialog.rows["musicldm"]
    assert clip.state.text() == "not downloaded" and clip.button.isEnabled()
    assert clip.size.text() == "≈ 610 MB" and clip.licence.text() == "MIT"
    assert "image queries" in clip.title.text()
    assert offline.state.text() == "built in" and not offline.button.isVisibleTo(dialog)
    assert musicldm.licence.text().startswith("CC-BY-NC-SA")
    assert "hub" in dialog.cache_label.text() and not dialog.offline_note.isVisibleTo(dialog)
    assert dialog.dont_ask.isChecked() and not offer_models_at_start(rig.settings)  # offered: once

    again = QMainWindow()  # the next start, same settings: no offer, the menu item still there
    qtbot.addWidget(again)
    offer = ModelsOffer(again, rig.bridge, rig.manager, rig.settings)
    rig.manager.refresh_status()
    wait_for(lambda: rig.bridge.current("status") is None, TIMEOUT_S, "a status reply")
    assert offer.dialog is None and offer.action.text() == "Models…"

    dialog.dont_ask.setChecked(False)  # "ask me again": the next start offers them again
    assert offer_models_at_start(rig.settings)
    dialog.dont_ask.setChecked(True)
    assert not offer_models_at_start(rig.settings)


def test_download_shows_progress_and_finishes_while_the_app_keeps_answering(rig: Rig) -> None:
    dialog = rig.window.models_offer.show_dialog()
    _listed(dialog)
    row = dialog.rows["clip"]
    rig.hub.piece_delay_s = SLOW_PIECE_S
    finished: list[dict] = []
    dialog.pull_finished.connect(lambda name, result: finished.append(result))
    bars: list[int] = []
    texts: list[str] = []
    row.bar.valueChanged.connect(bars.append)
    rig.probe.start_phase("download")
    row.button.click()
    assert row.button.text() == "Cancel" and row.bar.isVisibleTo(dialog)

    status: list[dict] = []  # the app stays usable: an interactive job answers during the download
    wait_for(lambda: bars and 0 < bars[-1] < 1000, TIMEOUT_S, "download progress")
    texts.append(row.detail.text())
    rig.bridge.request("test-status", "status", on_result=status.append)
    wait_for(lambda: status or finished, TIMEOUT_S, "status during the download")
    assert status and not finished, "status answered only after the download"
    wait_for(lambda: finished, TIMEOUT_S, "the download")
    rig.probe.start_phase("after")

    assert finished[0]["commit"] == COMMIT and finished[0]["bytes"] >= WEIGHTS
    assert bars == sorted(bars) and bars[-1] == 1000 and len(set(bars)) >= 4  # bytes, then "done"
    assert "%" in texts[0] and "MB" in texts[0] and "model.safetensors" in texts[0]
    assert row.detail.text().startswith("Downloaded 3.") and "offline" in row.detail.text()
    assert row.detail.toolTip().endswith(COMMIT) and not row.bar.isVisibleTo(dialog)
    wait_for(lambda: row.state.text() == "downloaded", TIMEOUT_S, "the refreshed state")
    assert not row.button.isEnabled() and row.button.text() == "Download"
    assert rig.probe.max_busy_ms["download"] < GUI_BUSY_LIMIT_MS, rig.probe.report()


def test_cancel_stops_a_download_and_keeps_what_came(rig: Rig) -> None:
    clap = manifest.get("clap")
    rig.hub.repo_id, rig.hub.files = clap.repo_id, fake_model_files(WEIGHTS, seed=1)
    rig.hub.piece_delay_s = SLOW_PIECE_S * 3
    dialog = rig.window.models_offer.show_dialog()
    _listed(dialog)
    row = dialog.rows["clap"]
    failed: list = []
    dialog.pull_failed.connect(lambda name, event: failed.append((name, event)))
    row.button.click()
    wait_for(lambda: 0 < row.bar.value() < 1000, TIMEOUT_S, "download progress")
    _screenshot(dialog, rig.window.output_dir / "models_dialog.png")  # one model downloaded, one on its way
    row.button.click()  # now "Cancel"
    assert failed and failed[0][1].reason == "cancelled"
    assert row.button.text() == "Download" and not row.bar.isVisibleTo(dialog)
    assert row.detail.text().startswith("Cancelled") and "resumes" in row.detail.text()
    wait_for(lambda: "so far; resumes" in row.state.text(), TIMEOUT_S, "the partial download in the list")
    assert row.state.text().startswith("not downloaded")


def test_a_file_damaged_on_the_way_shows_the_checksum_failure(rig: Rig) -> None:
    musicgen = manifest.get("musicgen")
    rig.hub.repo_id, rig.hub.files = musicgen.repo_id, fake_model_files(WEIGHTS, seed=2)
    rig.hub.piece_delay_s, rig.hub.damaged = 0.0, {"model.safetensors"}
    dialog = rig.window.models_offer.show_dialog()
    _listed(dialog)
    row = dialog.rows["musicgen"]
    row.button.click()
    wait_for(lambda: not row.running, TIMEOUT_S, "the checksum failure")
    assert "model.safetensors: sha256 is" in row.detail.text() and "damaged file was removed" in row.detail.text()
    assert "cuesteer models pull musicgen" in row.detail.text() and row.button.isEnabled()
    wait_for(lambda: row.state.text().startswith("not downloaded"), TIMEOUT_S, "the refreshed state")


def test_an_offline_worker_shows_the_refusal_with_the_command(qapp, qtbot, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    bridge = WorkerBridge()
    manager = WorkerManager(bridge, library=tmp_path / "library")
    _start(manager)
    try:
        dialog = ModelsDialog(bridge)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.refresh()
        _listed(dialog)
        assert dialog.offline_note.isVisibleTo(dialog) and "HF_HUB_OFFLINE" in dialog.offline_note.text()
        assert not dialog.dont_ask.isVisibleTo(dialog)  # no settings: nothing to remember
        row = dialog.rows["clip"]
        row.button.click()
        wait_for(lambda: not row.running, TIMEOUT_S, "the refusal")
        assert "HF_HUB_OFFLINE=0 cuesteer models pull clip" in row.detail.text()
        assert "color:" in row.detail.styleSheet() and row.button.text() == "Download" and row.button.isEnabled()
    finally:
        manager.stop()


def test_no_settings_means_no_offer(qapp, qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    bridge = WorkerBridge()
    settings = None
    offer = ModelsOffer(window, bridge, WorkerManager(bridge, connect="tcp://127.0.0.1:9"), settings)
    assert offer.dialog is None  # tests and screenshots (no settings) never pop it up
    dialog = offer.show_dialog()  # no worker: it says so instead of hanging
    assert "Cannot list the models" in dialog.status.text() and "no worker" in dialog.status.text()


def _screenshot(dialog: ModelsDialog, path: Path) -> None:
    """The dialog as users see it (layout settled first: a label's new text is laid out on the next loop)."""
    QApplication.processEvents()
    targets = [path, *([DOCS_SCREENSHOT] if os.environ.get(SAVE_SCREENSHOTS_ENV) else [])]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        assert dialog.grab().save(str(target))
    image = QImage(str(path))
    assert image.width() >= dialog.width() and len({image.pixel(x, y) for x in range(0, image.width(), 8)
                                                    for y in range(0, image.height(), 8)}) > 10
