"""The installer's pieces that run without a bundle: the launcher's program choice, the ping helper against a
real worker, CI running the smoke test only when asked, and the scripts/spec parsing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from installer.launch import APP, CLI, WORKER, choose, program_name

ROOT = Path(__file__).resolve().parents[2]
TEST_COMMAND = "bash installer/setup.sh && python3 -m pytest -q"


@pytest.mark.parametrize(("executable", "program"), [
    ("/opt/cuesteer/cuesteer-worker", WORKER), (r"C:\cuesteer\cuesteer-worker.exe", WORKER),
    ("/Applications/cuesteer.app/Contents/MacOS/cuesteer-app", APP), ("/opt/cuesteer/cuesteer", CLI),
    ("/usr/bin/python3", CLI),
])
def test_program_follows_the_executable_name(executable: str, program: str) -> None:
    assert program_name(executable.replace("\\", "/")) == program


def test_dash_m_runs_the_named_module_as_from_source() -> None:
    """The app starts its worker as `sys.executable -m worker.server ...`; frozen, that is cuesteer-app."""
    assert choose("/b/cuesteer-app", ["-m", "worker.server", "--library", "L"]) == (WORKER, ["--library", "L"])
    assert choose("/b/cuesteer-app", ["--screenshot", "x.png"]) == (APP, ["--screenshot", "x.png"])
    assert choose("/b/cuesteer", ["-m", "os"]) == (CLI, ["-m", "os"])  # only our modules


def test_launcher_runs_the_cli_from_source(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "installer" / "launch.py"), "-m", "worker.cli.main",
                          "models", "list", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "HF_HUB_CACHE": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hub_cache"] == str(tmp_path)


def test_ping_helper_times_a_real_worker(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/w.sock"
    pid_file = tmp_path / "w.pid"
    out = subprocess.run([sys.executable, str(ROOT / "installer" / "ping_worker.py"), "--endpoint", endpoint,
                          "--pid-file", str(pid_file), "--log", str(tmp_path / "w.log"), "--deadline", "120", "--",
                          sys.executable, "-m", "worker.server", "--library", str(tmp_path / "lib"),
                          "--endpoint", endpoint, "--encoder", "descriptor"],
                         capture_output=True, text=True, timeout=180, cwd=ROOT)
    pid = int(pid_file.read_text())
    try:
        assert out.returncode == 0, out.stderr + (tmp_path / "w.log").read_text()
        assert 0 < float(out.stdout) < 120
        os.kill(pid, 0)  # left running for the smoke test's next steps
    finally:
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid)


def _wait_gone(pid: int, seconds: float = 20.0) -> None:
    """The worker is the helper's child, not ours: poll until it has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def test_ping_helper_reports_a_worker_that_dies(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "installer" / "ping_worker.py"), "--endpoint",
                          f"ipc://{tmp_path}/none.sock", "--pid-file", str(tmp_path / "p"), "--log",
                          str(tmp_path / "log"), "--", sys.executable, "-c", "raise SystemExit(3)"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 1 and "exited with code 3" in out.stderr


def _ci_tree(tmp_path: Path, setup_exit: int) -> Path:
    tree = tmp_path / "repo"
    (tree / ".ci").mkdir(parents=True)
    (tree / "installer").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tree / ".ci" / "run")
    (tree / "installer" / "setup.sh").write_text(f"exit {setup_exit}\n")
    (tree / "installer" / "smoke_test.sh").write_text("echo smoke-ran; exit 4\n")
    (tree / "test_one.py").write_text("def test_one():\n    assert True\n")
    return tree


@pytest.mark.parametrize(("setup_exit", "smoke", "code", "smoke_ran"), [
    (0, "", 0, False), (0, "1", 4, True), (3, "1", 3, False),
])
def test_ci_runs_the_smoke_test_only_when_asked(tmp_path: Path, setup_exit: int, smoke: str, code: int,
                                                smoke_ran: bool) -> None:
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text().splitlines()
    tree = _ci_tree(tmp_path, setup_exit)
    env = {k: v for k, v in os.environ.items() if k != "CUESTEER_SMOKE"}
    env |= {"CUESTEER_SMOKE": smoke, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # a bare pytest: no Qt plugin
    out = subprocess.run(["bash", ".ci/run"], cwd=tree, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == code, out.stdout + out.stderr
    assert ("smoke-ran" in out.stdout) == smoke_ran


def test_scripts_and_spec_parse() -> None:
    for script in ("setup.sh", "build_linux.sh", "smoke_test.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "installer" / script)], check=True, timeout=30)
    compile((ROOT / "installer" / "cuesteer.spec").read_text(), "cuesteer.spec", "exec")
