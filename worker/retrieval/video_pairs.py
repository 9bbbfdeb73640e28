"""Real (picture, music) pairs cut from the user's video files, as the paper cut YouTube-8M music videos.

A frame every few seconds and the 10-s window of the soundtrack centred on it: the frame conditions the prior,
the window is embedded into the library's audio space. Video through PyAV; audio through the library decoder
(`decode_mono`, which reads the audio track of video files). Frames are decoded in order and only the chosen
ones converted to arrays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worker.library.decode import VIDEO_EXTENSIONS, DecodeError, decode_mono

FRAME_EVERY_S = 5.0  # one pair every this many seconds
WINDOW_S = 10.0  # the audio encoder's window (DESIGN §4), centred on the frame
MAX_VIDEO_S = 30 * 60.0  # longer files contribute their first half hour
FRAME_SIDE = 224  # frames are scaled so the short side is at most this (CLIP's input size)


@dataclass(frozen=True)
class VideoPair:
    path: str
    time_s: float  # the frame's time; the window is [time_s − WINDOW_S/2, time_s + WINDOW_S/2)
    frame: np.ndarray  # (H, W, 3) uint8 RGB
    wave: np.ndarray  # mono float32 at the requested rate, WINDOW_S long


def video_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Video files under `folder`, sorted (so pairs and their order are reproducible)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"no folder of videos at {root}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def frame_times(duration_s: float, every_s: float = FRAME_EVERY_S, window_s: float = WINDOW_S) -> list[float]:
    """Frame times whose whole audio window lies inside the file: window/2, window/2 + every, …"""
    times, t = [], window_s / 2.0
    while t + window_s / 2.0 <= duration_s + 1e-6:
        times.append(round(t, 6))
        t += every_s
    return times


def _frames_at(path: Path, times: list[float]) -> list[np.ndarray]:
    """The first decoded frame at or after each time, as RGB arrays (the last frame stands in past the end)."""
    import av

    out: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise DecodeError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        last = None
        for frame in container.decode(stream):
            last = frame
            while len(out) < len(times) and frame.time is not None and frame.time + 1e-6 >= times[len(out)]:
                out.append(_rgb(frame))
            if len(out) == len(times):
                break
        while len(out) < len(times) and last is not None:
            out.append(_rgb(last))
    return out


def _rgb(frame) -> np.ndarray:
    scale = min(1.0, FRAME_SIDE / max(1, min(frame.width, frame.height)))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.to_ndarray(format="rgb24", width=width, height=height)


def cut_pairs(path: str | os.PathLike[str], sample_rate: int, *, every_s: float = FRAME_EVERY_S,
              window_s: float = WINDOW_S) -> Iterator[VideoPair]:
    """(frame, audio window) pairs of one video file; raises DecodeError for a file without sound or picture."""
    path = Path(path)
    wave = decode_mono(path, sample_rate, max_seconds=MAX_VIDEO_S)
    times = frame_times(len(wave) / sample_rate, every_s, window_s)
    if not times:
        return
    frames = _frames_at(path, times)
    half = int(round(window_s / 2.0 * sample_rate))
    for t, frame in zip(times, frames, strict=True):
        centre = int(round(t * sample_rate))
        yield VideoPair(path=str(path), time_s=t, frame=frame,
                        wave=np.ascontiguousarray(wave[centre - half:centre + half], dtype=np.float32))
