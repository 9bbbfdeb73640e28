"""The worker's life as the app sees it: a local worker started with QProcess, a second client attached with
`--connect`, and a `kill -9` mid-job — the job is reported failed (never silently lost), a notice says what
happened, and a new worker is running and answering shortly after."""

from __future__ import annotations

from pathlib import Path

from desktop.bridge import WorkerBridge
from desktop.main_window import MainWindow
from desktop.worker_manager import WorkerManager
from protocol.messages import Failed
from tests.desktop.conftest import make_music, wait_for
from tests.protocol.live_worker import REAL_SERVICE

START_TIMEOUT_S = 60.0


def test_attach_then_crash_restart_with_notice_and_failed_job(qtbot, tmp_path: Path) -> None:
    make_music(tmp_path / "music", count=24, seconds=3.0)
    bridge = WorkerBridge()
    manager = WorkerManager(bridge, library=tmp_path / "library",
                            extra_args=["--service", REAL_SERVICE, "--encoder", "descriptor"])
    window = MainWindow(bridge, manager, tmp_path / "out")
    qtbot.addWidget(window)
    attached: WorkerManager | None = None
    try:
        manager.start()
        wait_for(lambda: manager.state == "ready", START_TIMEOUT_S, "the local worker")
        assert "CPU" in window.status_indicator.text() and "0 tracks" in window.status_indicator.text()
        first_pid = manager.local.pid
        assert first_pid is not None

        attached = WorkerManager(WorkerBridge(), connect=manager.local.endpoint)
        attached.start()
        wait_for(lambda: attached.state == "ready", START_TIMEOUT_S, "the attached client")
        assert attached.status["library"] == str(tmp_path / "library") and attached.local is None

        failures: list[Failed] = []
        progress: list[object] = []
        bridge.request("index", "index", {"paths": [str(tmp_path / "music")]}, on_failed=failures.append,
                       on_progress=progress.append)
        wait_for(lambda: progress, 10, "the job to run")
        manager.local.kill()
        wait_for(lambda: failures, 10, "the lost job to be reported")
        assert failures[0].reason == "worker_lost" and "restarting" in failures[0].message
        assert window.notice_bar.isVisibleTo(window) and "was killed" in window.notice.text()
        assert any("index failed (worker_lost)" in e for e in window.activity.entries())
        assert window.tabs.tabText(window.tabs.indexOf(window.activity)) == "Activity (1)"

        wait_for(lambda: manager.state == "ready" and manager.local.pid not in (None, first_pid), START_TIMEOUT_S,
                 "the restarted worker")
        results: list[dict] = []
        bridge.request("index", "index", {"paths": [str(tmp_path / "music")]}, on_result=results.append)
        wait_for(lambda: results, START_TIMEOUT_S, "indexing on the new worker")
        assert results[0]["indexed"] + results[0]["skipped"] == 24  # what the killed run committed is kept
    finally:
        if attached is not None:
            attached.stop()
        window.close()
        manager.stop()
    assert manager.local.pid is None
