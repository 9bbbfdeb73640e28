"""Synthesised picture fixtures: videos with known cuts (solid colours, a slow ramp, noise) made with PyAV."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

FPS = 25
SIZE = (160, 90)


def scene_frames(kind: str, frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`frames` RGB frames of one scene: "noise", "ramp" (dark→light red: change inside a shot), or "#rrggbb"."""
    w, h = SIZE
    if kind == "noise":
        return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(frames)]
    if kind == "ramp":
        return [np.full((h, w, 3), (90 + 60 * i // max(1, frames - 1), 20, 20), np.uint8) for i in range(frames)]
    rgb = tuple(int(kind[i:i + 2], 16) for i in (1, 3, 5))
    return [np.full((h, w, 3), rgb, np.uint8) for _ in range(frames)]


def make_video(path: Path, scenes: Sequence[tuple[str, float]], fps: int = FPS, seed: int = 0,
               bframes: int = 0) -> Path:
    """An H.264 MP4 whose scenes are (kind, seconds); cuts fall at the cumulative scene lengths. With `bframes`,
    B-frames are used and cuts are not forced onto keyframes (as in a real edit's export)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps)}
        if bframes:
            params = f"bframes={bframes}:b-adapt=0:scenecut=0:keyint=250"
            stream.options = {"preset": "ultrafast", "x264-params": params}
        for kind, seconds in scenes:
            for rgb in scene_frames(kind, round(seconds * fps), rng):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path
