"""The worker's life as the app sees it: a local worker started with QProcess, a second client attached with
`--connect`, and a `kill -9` mid-job — the job is reported failed (never silently lost), a notice says what
happened, and a new worker is running and answering shortly after. The worker runs the protocol tests'
ToyService (the real server and library lock, no model imports) so each start takes a second, not ten."""

from __future__ import annotations

from pathlib import Path

from desktop.bridge import WorkerBridge
from desktop.main_window import MainWindow
from desktop.worker_manager import WorkerManager
from protocol.messages import Failed
from tests.desktop.conftest import wait_for
from tests.protocol.live_worker import TOY_SERVICE

START_TIMEOUT_S = 30.0


def _echo(bridge: WorkerBridge, value: str) -> dict:
    replies: list[dict] = []
    bridge.request(f"echo-{value}", "echo", {"value": value}, on_result=replies.append)
    wait_for(lambda: replies, START_TIMEOUT_S, f"echo {value}")
    return replies[0]


def test_attach_then_crash_restart_with_notice_and_failed_job(qtbot, tmp_path: Path) -> None:
    bridge = WorkerBridge()
    manager = WorkerManager(bridge, library=tmp_path / "library", extra_args=["--service", TOY_SERVICE])
    window = MainWindow(bridge, manager, tmp_path / "out")
    qtbot.addWidget(window)
    attached: WorkerManager | None = None
    try:
        manager.start()
        wait_for(lambda: manager.local.endpoint is not None, START_TIMEOUT_S, "the local worker")
        first_pid = manager.local.pid
        assert _echo(bridge, "local")["pid"] == first_pid

        attached = WorkerManager(WorkerBridge(), connect=manager.local.endpoint)  # what --connect does
        attached.start()
        assert attached.local is None and _echo(attached.bridge, "attached")["pid"] == first_pid

        failures: list[Failed] = []
        progress: list[object] = []
        bridge.request("count", "count", {"n": 2000, "step_s": 0.01}, on_failed=failures.append,
                       on_progress=progress.append)
        wait_for(lambda: progress, START_TIMEOUT_S, "the job to run")
        manager.local.kill()
        wait_for(lambda: failures, START_TIMEOUT_S, "the lost job to be reported")
        assert failures[0].reason == "worker_lost" and "restarting" in failures[0].message
        assert window.notice_bar.isVisibleTo(window) and "was killed" in window.notice.text()
        assert any("count failed (worker_lost)" in e for e in window.activity.entries())
        assert window.tabs.tabText(window.tabs.indexOf(window.activity)).startswith("Activity (")

        wait_for(lambda: manager.local.pid not in (None, first_pid) and manager.local.endpoint, START_TIMEOUT_S,
                 "the restarted worker")
        assert _echo(bridge, "again")["pid"] == manager.local.pid != first_pid
    finally:
        if attached is not None:
            attached.stop()
        window.close()
        manager.stop()
    assert manager.local.pid is None


def test_connect_over_curve_needs_the_keys(qtbot, tmp_path: Path) -> None:
    from protocol.curve import ClientKeys, create_key_pair
    from tests.protocol.live_worker import running_worker

    server_public, server_secret = create_key_pair(tmp_path / "server", "worker")
    client_public, client_secret = create_key_pair(tmp_path / "client", "editor")
    admitted = tmp_path / "admitted"
    admitted.mkdir()
    (admitted / client_public.name).write_bytes(client_public.read_bytes())
    args = ("--curve-secret-key", str(server_secret), "--curve-public-keys", str(admitted))
    with running_worker(tmp_path / "library", *args) as worker:
        keyed = WorkerBridge(curve=ClientKeys.load(client_secret, server_public))
        keyed.connect_to(worker.endpoint)
        bare = WorkerBridge(heartbeat_s=0.2)
        bare.connect_to(worker.endpoint)
        try:
            assert _echo(keyed, "curve")["value"] == "curve"
            failures: list[Failed] = []
            bare.request("echo", "echo", {"value": "no keys"}, on_failed=failures.append)
            wait_for(lambda: failures, START_TIMEOUT_S, "the refusal")
            assert failures[0].reason in ("unauthorized", "worker_lost")
        finally:
            keyed.close()
            bare.close()


def test_a_library_already_served_by_a_worker_is_attached_to(qtbot, tmp_path: Path) -> None:
    from tests.protocol.live_worker import running_worker

    with running_worker(tmp_path / "library") as other:
        bridge = WorkerBridge()
        manager = WorkerManager(bridge, library=tmp_path / "library", extra_args=["--service", TOY_SERVICE])
        notices: list[str] = []
        manager.notice.connect(notices.append)
        try:
            manager.start()  # our worker finds the library locked and exits; the app attaches to the other one
            wait_for(lambda: notices, START_TIMEOUT_S, "the notice")
            assert f"pid {other.process.pid}" in notices[0] and other.endpoint in notices[0]
            assert manager.local is None and bridge.endpoint == other.endpoint
            assert _echo(bridge, "shared")["pid"] == other.process.pid
        finally:
            manager.stop()
        assert other.process.poll() is None  # not ours to stop


def test_stopping_the_app_with_sigterm_stops_its_worker(tmp_path: Path) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    app = subprocess.Popen([sys.executable, "-m", "desktop.app", "--library", str(tmp_path / "library"),
                            "--output", str(tmp_path / "out"), "--encoder", "descriptor"], cwd=root, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info_file = tmp_path / "library" / "worker.json"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        while not info_file.exists():
            assert time.monotonic() < deadline and app.poll() is None, "the app's worker did not start"
            time.sleep(0.1)
        worker_pid = json.loads(info_file.read_text())["pid"]
        app.send_signal(signal.SIGTERM)
        assert app.wait(START_TIMEOUT_S) == 0
    finally:
        if app.poll() is None:
            app.kill()
    assert not info_file.exists()  # the worker shut down cleanly (it removes its endpoint file)
    try:
        os.kill(worker_pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
