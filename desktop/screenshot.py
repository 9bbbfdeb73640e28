"""`cuesteer-app --screenshot FILE [--state S]`: the main window at 1280×800 with a demo library, saved as PNG.

A temporary library is synthesised (see demo_media), a real local worker indexes it with the `descriptor`
encoder (present in every build), and the window is driven into the asked state before it is grabbed:
  results   — index done (Library tab: counts and the unreadable file), "more like this" results, a preset loaded
  video     — a film dropped on the picture zone: scene picks in the frame picker, the strip cut at scenes
  library   — the Library tab while a second, larger folder is being indexed (progress, ETA, Cancel)
  generate  — a short symbolic cue generated (Generate tab)
  export    — the top result exported with MIDI and markers (Exports tab, files ready to drag out)
  dialog    — the Export dialog itself
  crash     — the worker killed: the restart notice and the failed job in the Activity tab
Set QT_SCALE_FACTOR=2 for the 2× rendering.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from desktop.audition import Player
from desktop.bridge import WorkerBridge
from desktop.demo_media import write_demo_music, write_demo_picture
from desktop.export_dialog import ExportDialog, ExportOptions, export_folder
from desktop.main_window import MainWindow
from desktop.results import PeaksRole
from desktop.worker_manager import WorkerManager

STATES = ("results", "video", "library", "generate", "export", "dialog", "crash")
DEMO_ENCODER = "descriptor"
DEMO_PRESET = "Cinematic build"
STEP_TIMEOUT_S = 120.0
SETTLE_S = 0.3
LIBRARY_DISCS = 6
EXIT_FAILED = 1


def wait_until(predicate: Callable[[], object], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float = SETTLE_S) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")


def render_screenshot(path: Path, state: str = "results") -> int:
    if state not in STATES:
        print(f"cuesteer-app: unknown --state {state!r}; choose one of {', '.join(STATES)}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cuesteer-demo-"))
    bridge = WorkerBridge()
    manager = WorkerManager(bridge, library=work / "library", encoder=DEMO_ENCODER)
    window = MainWindow(bridge, manager, work / "out", player=Player())
    try:
        drive(window, manager, work, path, state)
    except (TimeoutError, OSError) as exc:
        print(f"cuesteer-app: screenshot failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        window.player.stop()
        manager.stop()
        window.deleteLater()
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {path}")
    return 0


def drive(window: MainWindow, manager: WorkerManager, work: Path, path: Path, state: str) -> None:
    music = write_demo_music(work / "Music" / "demo")
    picture = write_demo_picture(work / "Pictures" / "harbour.png")
    window.auto_search = False
    window.show()
    manager.start()
    wait_until(lambda: manager.state == "ready", "the worker to start")
    window.set_images([str(picture)])

    reports: list[dict] = []
    window.library_panel.indexed.connect(reports.append)
    window.library_panel.add_folders([str(music[0].parent)])
    wait_until(lambda: reports, "indexing the demo library")
    manager.refresh_status()

    replies: list[dict] = []
    window.results_arrived.connect(replies.append)
    window.more_like_this({"path": str(music[1]), "in_point_s": 4.0})
    wait_until(lambda: replies, "results")
    model = window.results.model
    wait_until(lambda: all(model.index(i).data(PeaksRole) is not None for i in range(model.rowCount())),
               "waveform thumbnails", 30)
    timeline = window.timeline_view
    if timeline is not None:  # the chosen result on the timeline, with its beats and waveform
        wait_until(lambda: timeline.cue is not None and timeline.cue.beats_s and timeline.waveform_loaded(),
                   "the cue on the timeline", 60)
    window.steering.reload_presets()
    preset = next((p for p in window.steering.presets if p.name == DEMO_PRESET), None)
    if preset is not None:
        window.steering.apply_preset(preset)
    window.query.setText("harbour at dawn, slow and hopeful")
    top = window.results.selected() or model.results[0]

    if state == "video" and timeline is not None:
        from desktop.picture.demo import make_demo_video

        film = make_demo_video(work / "Pictures" / "four scenes.mp4")
        window.set_images([str(film)])
        wait_until(lambda: len(window.images) > 1 and timeline.strip and timeline.scenes,
                   "scene picks and the frame strip", 60)
    elif state == "library":
        more = work / "Music" / "more"
        for i in range(LIBRARY_DISCS):
            write_demo_music(more / f"disc {i + 1}", variant=i + 1)
        window.tabs.setCurrentWidget(window.library_panel)
        window.library_panel.add_folders([str(more)])
        wait_until(lambda: "embed" in window.library_panel.state.text(), "indexing progress")
        save(window, path)  # at once: the demo indexes in seconds
        return
    elif state == "generate":
        done: list[dict] = []
        window.generate_finished.connect(done.append)
        window.tabs.setCurrentWidget(window.generate_panel)
        window.set_images([])  # the demo's descriptor encoder cannot embed pictures; the phrases still choose
        window.generate_panel.seconds.setValue(8.0)
        window.generate({"backend": "symbolic", "seconds": 8.0, "seed": 7, "loop": False})
        wait_until(lambda: done or "failed" in window.generate_panel.state.text(), "generating a cue")
        window.tabs.setCurrentWidget(window.generate_panel)
    elif state in ("export", "dialog"):
        if state == "dialog":
            dialog = ExportDialog(top, str(work / "out" / "exports"), window, seed=window.last_reply.get("seed"))
            dialog.resize(dialog.sizeHint())
            dialog.show()
            settle()
            save(dialog, path)
            dialog.close()
            return
        done = []
        window.export_finished.connect(done.append)
        window.export(ExportOptions(path=top["path"], out_dir=export_folder(work / "out" / "exports", top["path"]),
                                    in_point_s=float(top.get("in_point_s", 0.0)), midi=True,
                                    markers=["resolve", "csv"], seed=window.last_reply.get("seed")))
        wait_until(lambda: done, "the export")
    elif state == "crash":
        pid = manager.local.pid if manager.local else None
        window.export(ExportOptions(path=top["path"], out_dir=str(work / "out" / "exports" / "lost"), stems=True,
                                    midi=True))
        settle(0.2)
        if manager.local is not None:
            manager.local.kill()
        wait_until(lambda: window.notice_bar.isVisible(), "the crash notice")
        wait_until(lambda: manager.state == "ready" and manager.local is not None and manager.local.pid != pid,
                   "the restarted worker")
        window.tabs.setCurrentWidget(window.activity)
    settle()
    save(window, path)
