"""`cuesteer-app --screenshot FILE` end to end: a real worker indexes the synthesised demo library and the window
is saved at 1280×800 with results in it (what docs/screenshots are made with)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


def test_screenshot_renders_the_window_with_demo_results(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "desktop.app", "--screenshot", str(out), "--state", "results"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # not a blank window: the selected result row is drawn in the highlight colour, the rest in light greys
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20


def test_unknown_state_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "desktop.app", "--screenshot", str(tmp_path / "x.png"),
                           "--state", "nonsense"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown --state" in done.stderr
    done = subprocess.run([sys.executable, "-m", "desktop.app", "--connect", "ipc:///x", "--library", "/y"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "exclude each other" in done.stderr
