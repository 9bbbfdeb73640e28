"""Screenshots of the picture widgets with synthesised media (a four-scene video, a 120-BPM cue, a still):
`python -m desktop.picture.demo docs/screenshots [--scale 2]` writes picture-*.png (…@2x.png at scale 2).

The scale is Qt's device pixel ratio (QT_SCALE_FACTOR), so 2x shows what a high-DPI screen shows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEMO_FPS = 25
DEMO_SIZE = (320, 180)
MOTION_EVERY = 5  # frames
DEMO_SCENES = (("dawn", 4.0), ("forest", 5.0), ("city", 4.0), ("sea", 5.0))
CUE_BPM = 120.0
CUE_SECONDS = 16.0
CUE_RATE = 22050
WAIT_S = 60.0
TIMELINE_WIDTH = 760  # about the middle column of the main window at 1280×800


def scene_frame(kind: str, i: int) -> np.ndarray:
    """A recognisable picture per scene (so the strip reads as a film), moving a little with frame `i`."""
    w, h = DEMO_SIZE
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "dawn":
        sky = np.stack([200 + 50 * (y / h), 120 + 60 * (y / h), 90 + 0 * y], -1)
        sun = (x - 160) ** 2 + (y - 120 + i * 0.3) ** 2 < 30**2
        sky[sun] = (255, 220, 120)
        sky[y > 140] = (60, 40, 50)
    elif kind == "forest":
        sky = np.stack([40 + 0 * y, 90 + 60 * (y / h), 40 + 0 * y], -1)
        trunks = ((x + i) % 40) < 9
        sky[trunks] = (50, 35, 25)
    elif kind == "city":
        sky = np.stack([15 + 0 * y, 20 + 0 * y, 50 + 40 * (y / h)], -1)
        windows = (((x // 12) + (y // 14)) % 3 == 0) & (y > 60) & ((x % 12) < 6) & ((y % 14) < 7)
        sky[windows] = (240, 200, 90)
    else:
        sky = np.stack([30 + 0 * y, 90 + 60 * (y / h), 160 + 60 * (y / h)], -1)
        waves = np.sin(x / 14 + y / 5 + i / 4) > 0.85
        sky[waves & (y > 70)] = (220, 235, 245)
    return np.clip(sky, 0, 255).astype(np.uint8)


def make_demo_video(path: Path) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=DEMO_FPS)
        stream.width, stream.height = DEMO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        for kind, seconds in DEMO_SCENES:
            for i in range(round(seconds * DEMO_FPS)):
                if i % MOTION_EVERY == 0:  # the picture moves at 5 fps: drawing every frame is the slow part
                    frame = av.VideoFrame.from_ndarray(scene_frame(kind, i), format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_demo_cue(path: Path) -> tuple[Path, list[float], list[float]]:
    """A 4/4 groove that swells: kick on every beat, accent on the one, a pad under it; returns its beats."""
    import soundfile as sf

    n = int(CUE_SECONDS * CUE_RATE)
    t = np.arange(n) / CUE_RATE
    beats = list(np.arange(0.0, CUE_SECONDS, 60.0 / CUE_BPM))
    swell = 0.3 + 0.7 * t / CUE_SECONDS
    wave = 0.3 * swell * (np.sin(2 * np.pi * 110 * t) + 0.5 * np.sin(2 * np.pi * 164.8 * t))
    rng = np.random.default_rng(0)
    for b in np.arange(0.0, CUE_SECONDS, 30.0 / CUE_BPM):  # hats on the eighths
        s = int(b * CUE_RATE)
        hat = rng.standard_normal(min(1500, n - s)) * np.exp(-np.arange(min(1500, n - s)) / 300.0)
        wave[s:s + len(hat)] += 0.25 * swell[s] * hat
    for k, b in enumerate(beats):
        s = int(b * CUE_RATE)
        hit = np.exp(-np.arange(min(4000, n - s)) / 600.0) * (0.9 if k % 4 == 0 else 0.45)
        wave[s:s + len(hit)] += hit * np.sin(2 * np.pi * 60 * np.arange(len(hit)) / CUE_RATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.8 * wave / np.abs(wave).max()).astype(np.float32), CUE_RATE)
    return path, [round(b, 4) for b in beats], [round(b, 4) for b in beats[::4]]


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)


def render(out_dir: Path, work: Path, suffix: str) -> list[Path]:
    """Build each widget with the demo media, wait for its background work, grab it to PNG."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QImage, QMouseEvent

    from desktop.picture.drop_zone import PictureDropZone
    from desktop.picture.timeline import TimelineView

    video = make_demo_video(work / "harbour-cut.mp4")
    cue, beats, downs = make_demo_cue(work / "groove-120.wav")
    still = work / "poster.png"
    QImage(scene_frame("dawn", 0).data, *DEMO_SIZE, 3 * DEMO_SIZE[0], QImage.Format.Format_RGB888).save(str(still))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    zone = PictureDropZone()
    zone.resize(380, 330)
    zone.show()
    zone.set_paths([str(still), str(video)])
    wait_until(lambda: zone.picker.analysis is not None and not zone.thumbs.item(0).icon().isNull(),
               "the frame picks")
    zone.picker.seek(9.6)
    wait_until(lambda: zone.picker.preview.pixmap() is not None and not zone.picker.preview.pixmap().isNull(),
               "the scrub preview")
    written.append(_save(zone, out_dir / f"picture-drop-zone{suffix}.png"))

    timeline = TimelineView()
    timeline.resize(TIMELINE_WIDTH, timeline.sizeHint().height())
    timeline.show()
    timeline.set_picture(str(video))
    timeline.set_scenes(zone.picker.analysis.boundaries)
    timeline.set_cue(str(cue), start_s=1.0, title="Harbour Lights", tempo_bpm=CUE_BPM)
    timeline.set_analysis({"beats_s": beats, "downbeats_s": downs, "tempo_bpm": CUE_BPM})
    timeline.set_markers([(4.0, "cut 2"), (13.0, "hit"), (17.5, "logo")])
    timeline.setPosition(6.3)
    wait_until(lambda: timeline.waveform_loaded() and bool(timeline.strip), "the waveform and the strip")
    written.append(_save(timeline, out_dir / f"picture-timeline{suffix}.png"))

    clip = timeline.clip_rect()
    assert clip is not None
    y = clip.center().y()
    for kind, x in ((QMouseEvent.Type.MouseButtonPress, clip.right() - 2),
                    (QMouseEvent.Type.MouseMove, timeline.time_to_x(13.6))):
        event = QMouseEvent(kind, QPointF(x, y), QPointF(x, y), Qt.MouseButton.LeftButton,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        (timeline.mousePressEvent if kind == QMouseEvent.Type.MouseButtonPress else timeline.mouseMoveEvent)(event)
    written.append(_save(timeline, out_dir / f"picture-timeline-fit{suffix}.png"))

    empty = TimelineView()
    empty.resize(TIMELINE_WIDTH, empty.sizeHint().height())
    empty.show()
    empty.set_picture(str(still))
    wait_until(lambda: empty.still is not None, "the still")
    written.append(_save(empty, out_dir / f"picture-timeline-still{suffix}.png"))
    _dispose(zone, timeline, empty)
    return written


def _dispose(*widgets) -> None:
    """Finish background work and delete widgets before Qt shuts down (PySide crashes on teardown otherwise)."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    QThreadPool.globalInstance().waitForDone()
    QApplication.processEvents()
    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QApplication.processEvents()


def _save(widget, path: Path) -> Path:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    tmp = path.with_suffix(".part.png")
    if not widget.grab().save(str(tmp)):
        raise OSError(f"cannot write {path}")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("CUESTEER_CACHE", tempfile.mkdtemp(prefix="cuesteer-demo-cache-"))
    from PySide6.QtWidgets import QApplication

    from desktop.picture.pyside_guard import guard

    app = QApplication.instance() or QApplication(sys.argv[:1])
    guard()
    with tempfile.TemporaryDirectory(prefix="cuesteer-picture-demo-") as work:
        for path in render(args.out, Path(work), "" if args.scale == 1 else f"@{args.scale:g}x"):
            print(path)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
