"""One real worker process (the real Service with a tiny CLAP, see tiny_service.py) behind the real main window,
shared by the tests of a module: starting a worker and training its prior costs seconds on 2 busy cores."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from tests.media import clicks, tone, write

SERVICE_SPEC = "tests.desktop.tiny_service:TinyService"  # imported by the worker process only (torch, CLAP)
TRACKS = 8
TRACK_SECONDS = 6.0
START_TIMEOUT_S = 120.0  # a worker importing torch and building tiny CLAP on 2 overloaded cores
PROBE_INTERVAL_MS = 10


def make_music(folder: Path, count: int = TRACKS, seconds: float = TRACK_SECONDS, first: int = 0) -> list[Path]:
    """Distinct short tracks: tones at different pitches, every other one with drum-like clicks."""
    paths = []
    for i in range(first, first + count):
        wave = tone(seconds, 22050, 110.0 * (1 + i % 11), noise=0.01 * (i % 3), seed=i)
        if i % 2:
            wave = wave + clicks(seconds, 70 + 7 * (i % 13), seed=i)
        paths.append(write(folder / f"track{i:03d}.wav", wave.astype(np.float32)))
    return paths


def make_image(path: Path, colour: tuple[int, int, int] = (220, 120, 40)) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 64), colour)
    ImageDraw.Draw(image).rectangle((10, 10, 50, 40), fill=(30, 60, 160))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def drop_files(widget, paths: list[Path]) -> None:
    """What a file manager's drop delivers, handed to the widget's handlers as Qt would (enter, then drop):
    QApplication refuses a synthesised Drop event without a real drag session."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted(), "the drop zone accepts these files"
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def wait_for(predicate, timeout: float = START_TIMEOUT_S, what: str = "condition") -> None:
    """Process Qt events until `predicate()` holds (never sleeps the event loop away)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.005)


@dataclass
class StallProbe:
    """A 10-ms QTimer on the GUI thread. Per phase: the largest gap between its ticks (wall clock: how long the
    event loop did not run) and the most CPU the GUI thread itself used inside one gap (our own blocking work,
    as opposed to the OS running other processes on 2 busy cores)."""

    timer: QTimer
    clock: QElapsedTimer
    last_ms: int = 0
    last_cpu_s: float = 0.0
    max_gap_ms: dict[str, float] = field(default_factory=dict)
    max_busy_ms: dict[str, float] = field(default_factory=dict)
    phase: str = "idle"

    def tick(self) -> None:
        now, cpu = self.clock.elapsed(), time.thread_time()
        gap = now - self.last_ms - PROBE_INTERVAL_MS
        busy = (cpu - self.last_cpu_s) * 1000.0
        self.last_ms, self.last_cpu_s = now, cpu
        self.max_gap_ms[self.phase] = max(self.max_gap_ms.get(self.phase, 0.0), float(gap))
        self.max_busy_ms[self.phase] = max(self.max_busy_ms.get(self.phase, 0.0), busy)

    def start_phase(self, phase: str) -> None:
        self.phase = phase
        self.last_ms, self.last_cpu_s = self.clock.elapsed(), time.thread_time()
        self.max_gap_ms.setdefault(phase, 0.0)
        self.max_busy_ms.setdefault(phase, 0.0)

    def stop(self) -> None:
        self.timer.stop()
        gc.unfreeze()

    def report(self) -> str:
        return ", ".join(f"{k} {self.max_gap_ms[k]:.0f} ms (GUI thread busy {self.max_busy_ms[k]:.0f} ms)"
                         for k in sorted(self.max_gap_ms))


def stall_probe() -> StallProbe:
    """A started probe. The test process's own heap (every collected test module: torch, transformers …) is
    frozen out of the garbage collector first: a full collection of it takes ~0.5 s on the GUI thread, a stall
    of pytest's making that the app's own process, which imports none of it, never has."""
    gc.collect()
    gc.freeze()
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(PROBE_INTERVAL_MS)
    probe = StallProbe(timer, clock)
    timer.timeout.connect(probe.tick)
    probe.start_phase("idle")
    timer.start()
    return probe


@dataclass
class App:
    window: object
    bridge: object
    manager: object
    music: Path
    tracks: list[Path]
    image: Path
    out: Path
    probe: StallProbe


@pytest.fixture(scope="module")
def app(qapp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from desktop.bridge import WorkerBridge
    from desktop.main_window import MainWindow
    from desktop.worker_manager import WorkerManager

    root = tmp_path_factory.mktemp("desktop")
    tracks = make_music(root / "music")
    image = make_image(root / "pictures" / "sunset.png")
    bridge = WorkerBridge()
    manager = WorkerManager(bridge, library=root / "library",
                            extra_args=["--service", SERVICE_SPEC, "--progress-interval", "0"])
    window = MainWindow(bridge, manager, root / "out")
    window.show()
    probe = stall_probe()
    manager.start()
    try:
        wait_for(lambda: manager.state == "ready", what="the worker to start")
    except BaseException:
        manager.stop()
        raise
    yield App(window, bridge, manager, root / "music", tracks, image, root / "out", probe)
    probe.stop()
    window.close()
    manager.stop()
