"""A video (or a range of it) as the query (PixMus §4.1: CLIP embeddings of frames sampled at 1 fps).

One pass through the file with PyAV: every decoded frame gives a tiny colour histogram (for cut detection at
the frame rate), and one frame per second is kept at CLIP's input size. Hard cuts are where consecutive
histograms jump and the looks of the second before and the second after differ too (so a flash is not a cut);
cuts closer than `MIN_SCENE_S` keep only the stronger. Scenes are grouped into cues of at least `MIN_CUE_S`
(a 2-s shot is not worth its own music), each cue its own query; within a cue the frames are pooled —
`mean` (every sampled second counts the same) or `attention`: scene means weighted by
softmax(log length + ⟨scene, cue mean⟩ / τ), so long scenes carry the cue and a short odd-looking insert
(a title card, a flash of another place) does not.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_FPS = 1.0  # PixMus samples frames at 1 fps
FRAME_SIDE = 224  # kept frames: short side at most this (CLIP's input size)
MAX_SAMPLES = 360  # a longer range is sampled more sparsely (memory: ~100 MB of frames)
THUMB = (32, 18)  # per-frame histogram thumbnail (width, height)
HIST_LEVELS = 4  # joint RGB histogram of 4×4×4 bins
CUT_DISTANCE = 0.4  # total-variation distance between histograms that counts as a change of look
CONFIRM_WINDOW_S = 1.0  # the looks compared on either side of a candidate cut
MIN_SCENE_S = 2.0  # cuts closer together than this keep only the stronger one
MIN_CUE_S = 8.0  # scenes are grouped into cues at least this long (the last short group joins the one before)
ATTENTION_TEMPERATURE = 0.1  # τ of the attention pooling (cosines are in [−1, 1])
POOLS = ("attention", "mean")
REPEAT_BUDGET = 64  # frames in the multiset that carries attention weights into a picture query


@dataclass
class Scene:
    start_s: float
    end_s: float
    frame_times: list[float] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)  # (H, W, 3) uint8 RGB, about one per second

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class Cue:
    """A stretch of the video that gets its own music: one or more scenes, queried together."""

    scenes: list[Scene]

    @property
    def start_s(self) -> float:
        return self.scenes[0].start_s

    @property
    def end_s(self) -> float:
        return self.scenes[-1].end_s


@dataclass
class Sampled:
    """What one pass over the video gives: all frame times and histograms, and the kept frames."""

    times: np.ndarray  # (F,) every decoded frame in the range
    histograms: np.ndarray  # (F, HIST_LEVELS³)
    sample_times: list[float]
    samples: list[np.ndarray]
    start_s: float
    end_s: float
    cut_frames: dict[float, np.ndarray] = field(default_factory=dict)  # full frames where the look jumped


# -- parsing ------------------------------------------------------------------------------------------------------
def parse_time(text: str) -> float:
    """Seconds from "75", "75.5", "1:15" or "0:01:15.5"."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.strip() for p in parts):
        raise ValueError(f"cannot read the time {text!r}; write seconds or [h:]mm:ss")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60.0 + float(part)
    if seconds < 0:
        raise ValueError(f"times cannot be negative: {text!r}")
    return seconds


def parse_range(text: str) -> tuple[float | None, float | None]:
    """"A-B", "A-" or "-B" (each as in parse_time) → (start, end); the end must come after the start."""
    if "-" not in text:
        raise ValueError(f"cannot read the range {text!r}; write START-END, e.g. 12-40 or 1:05-2:30")
    a, _, b = text.partition("-")
    start = parse_time(a) if a.strip() else None
    end = parse_time(b) if b.strip() else None
    if start is not None and end is not None and end <= start:
        raise ValueError(f"the range {text!r} ends before it starts")
    return start, end


# -- the math -----------------------------------------------------------------------------------------------------
def histogram(rgb: np.ndarray) -> np.ndarray:
    """Joint RGB histogram (HIST_LEVELS³ bins) of a uint8 image, summing to 1."""
    q = (np.asarray(rgb, np.uint16) * HIST_LEVELS) // 256
    codes = (q[..., 0] * HIST_LEVELS + q[..., 1]) * HIST_LEVELS + q[..., 2]
    counts = np.bincount(codes.ravel(), minlength=HIST_LEVELS**3).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two histograms: 0 same colours, 1 no colour in common."""
    return 0.5 * float(np.abs(np.asarray(a) - np.asarray(b)).sum())


def detect_cuts(times: np.ndarray, histograms: np.ndarray, *, threshold: float = CUT_DISTANCE,
                window_s: float = CONFIRM_WINDOW_S, min_scene_s: float = MIN_SCENE_S) -> list[float]:
    """Times of the first frame after each hard cut (see the module docstring for the rules)."""
    times = np.asarray(times, np.float64)
    hists = np.asarray(histograms, np.float64)
    if len(times) < 2:
        return []
    jumps = 0.5 * np.abs(np.diff(hists, axis=0)).sum(axis=1)
    candidates = []
    for i in np.flatnonzero(jumps > threshold) + 1:
        before = hists[(times >= times[i] - window_s) & (times < times[i])].mean(axis=0)
        after = hists[(times >= times[i]) & (times < times[i] + window_s)].mean(axis=0)
        strength = distance(before, after)
        if strength > threshold:
            candidates.append((strength, float(times[i])))
    kept: list[float] = []
    start, end = float(times[0]), float(times[-1])
    for _strength, t in sorted(candidates, reverse=True):  # strongest first: non-maximum suppression
        if t - start >= min_scene_s / 2 and end - t >= min_scene_s / 2 and all(
                abs(t - k) >= min_scene_s for k in kept):
            kept.append(t)
    return sorted(kept)


def scenes_from(sampled: Sampled, cuts: Sequence[float]) -> list[Scene]:
    """Scenes between the cuts, each with its sampled frames (a scene no sample fell in gets its cut frame)."""
    bounds = [sampled.start_s, *cuts, sampled.end_s]
    scenes = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        scene = Scene(a, b)
        for t, frame in zip(sampled.sample_times, sampled.samples, strict=True):
            if a <= t < b:
                scene.frame_times.append(t)
                scene.frames.append(frame)
        if not scene.frames and a in sampled.cut_frames:
            scene.frame_times.append(a)
            scene.frames.append(sampled.cut_frames[a])
        if scene.frames:
            scenes.append(scene)
    return scenes


def group_cues(scenes: Sequence[Scene], min_cue_s: float = MIN_CUE_S) -> list[Cue]:
    """Consecutive scenes gathered until each cue lasts at least `min_cue_s`; a short tail joins the last cue."""
    cues: list[Cue] = []
    current: list[Scene] = []
    for scene in scenes:
        current.append(scene)
        if current[-1].end_s - current[0].start_s >= min_cue_s:
            cues.append(Cue(current))
            current = []
    if current:
        if cues:
            cues[-1].scenes.extend(current)
        else:
            cues.append(Cue(current))
    return cues


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def mean_pool(frame_vectors: np.ndarray) -> np.ndarray:
    """The unit mean of the frames' unit embeddings: every sampled second counts the same."""
    return _unit(_unit(frame_vectors).mean(axis=0))


def attention_weights(scene_vectors: np.ndarray, durations: Sequence[float],
                      temperature: float = ATTENTION_TEMPERATURE) -> np.ndarray:
    """softmax_s(log duration_s + ⟨scene_s, c⟩ / τ) with c the length-weighted mean of the unit scene vectors."""
    scenes = _unit(scene_vectors)
    lengths = np.asarray(durations, np.float64)
    if np.any(lengths <= 0):
        raise ValueError("scene durations must be positive")
    centre = _unit((lengths[:, None] * scenes).sum(axis=0))
    logits = np.log(lengths) + scenes @ centre / temperature
    w = np.exp(logits - logits.max())
    return w / w.sum()


def attention_pool(scene_vectors: np.ndarray, durations: Sequence[float],
                   temperature: float = ATTENTION_TEMPERATURE) -> tuple[np.ndarray, np.ndarray]:
    """(pooled unit vector, per-scene weights) — see attention_weights."""
    weights = attention_weights(scene_vectors, durations, temperature)
    return _unit(weights @ _unit(scene_vectors)), weights


def frame_counts(weights: Sequence[float], budget: int) -> list[int]:
    """Integers summing to `budget` in proportion to `weights` (largest remainder), so a plain mean over the
    repeated frames reproduces the weighting to within 1/budget — how a weighted pooling travels through a
    query that takes "several frames" (`Service.search(images=…)`)."""
    w = np.asarray(weights, np.float64)
    share = w / w.sum() * budget
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts), kind="stable")[: budget - int(counts.sum())]:
        counts[i] += 1
    return [int(c) for c in counts]


# -- reading the file -----------------------------------------------------------------------------------------------
def sample_video(path: str | os.PathLike[str], *, start_s: float | None = None, end_s: float | None = None,
                 fps: float = SAMPLE_FPS) -> Sampled:
    """Decode [start, end) of the first video stream once: histograms of every frame, frames at ~`fps`."""
    import av

    from worker.library.decode import DecodeError

    path = Path(path)
    start = max(start_s or 0.0, 0.0)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise DecodeError(f"{path} cannot be opened as a video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise DecodeError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = _duration(container, stream)
        end = min(end_s, duration) if end_s is not None and duration else (end_s or duration or math.inf)
        step = 1.0 / fps
        if math.isfinite(end) and (end - start) * fps > MAX_SAMPLES:
            step = (end - start) / MAX_SAMPLES
        if start > 0:
            container.seek(int(start / stream.time_base), stream=stream, backward=True, any_frame=False)
        times, hists, sample_times, samples, cut_frames = [], [], [], [], {}
        next_sample = start
        last_time = start
        for frame in container.decode(stream):
            t = frame.time
            if t is None or t < start - 1e-6:
                continue
            if t >= end - 1e-6:
                break
            h = histogram(frame.to_ndarray(format="rgb24", width=THUMB[0], height=THUMB[1]))
            big = None
            if t + 1e-6 >= next_sample:
                big = _rgb(frame)
                sample_times.append(round(t, 6))
                samples.append(big)
                while next_sample <= t + 1e-6:
                    next_sample += step
            if hists and distance(h, hists[-1]) > CUT_DISTANCE:
                cut_frames[round(t, 6)] = big if big is not None else _rgb(frame)
            times.append(round(t, 6))
            hists.append(h)
            last_time = t
    if not samples:
        raise DecodeError(f"{path} has no frames between {start:g} s and {end:g} s")
    frame_step = float(np.median(np.diff(times))) if len(times) > 1 else step
    end = end if math.isfinite(end) else last_time + frame_step
    return Sampled(np.asarray(times), np.asarray(hists), sample_times, samples, start, float(end), cut_frames)


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _rgb(frame) -> np.ndarray:
    scale = min(1.0, FRAME_SIDE / max(1, min(frame.width, frame.height)))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.to_ndarray(format="rgb24", width=width, height=height)


def video_cues(path: str | os.PathLike[str], *, start_s: float | None = None, end_s: float | None = None,
               split: bool = True, min_cue_s: float | None = None) -> list[Cue]:
    """The cues of a video range: split at scene changes (or one cue for the whole range when not `split`)."""
    sampled = sample_video(path, start_s=start_s, end_s=end_s)
    scenes = scenes_from(sampled, detect_cuts(sampled.times, sampled.histograms))
    return group_cues(scenes, MIN_CUE_S if min_cue_s is None else min_cue_s) if split else [Cue(scenes)]


def cue_frames(cue: Cue, *, pool: str = "attention", embed_image=None, budget: int | None = None
               ) -> tuple[list[np.ndarray], list[float]]:
    """The frames that stand for `cue` in a picture query, and the per-scene weights used.

    `mean`: every sampled frame once. `attention`: scene weights from the scenes' mean embeddings
    (`embed_image(frames) -> (n, d)`), realised as a frame multiset — each frame of scene s repeated in
    proportion to w_s / n_s within `budget` frames (default REPEAT_BUDGET) — whose plain mean is Σ_s w_s·mean_s
    to within rounding: how a weighted pooling travels through a query of "several frames"."""
    if pool not in POOLS:
        raise ValueError(f"unknown pooling {pool!r}; choose one of {', '.join(POOLS)}")
    scenes = cue.scenes
    everything = [f for s in scenes for f in s.frames]
    sizes = [len(s.frames) for s in scenes]
    if pool == "mean" or len(scenes) == 1 or embed_image is None:
        return everything, [n / len(everything) for n in sizes]
    vectors = _unit(np.asarray(embed_image(everything), np.float64))
    bounds = np.cumsum([0, *sizes])
    scene_vectors = np.stack([mean_pool(vectors[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    weights = attention_weights(scene_vectors, [s.duration_s for s in scenes])
    per_frame = np.concatenate([np.full(n, w / n) for w, n in zip(weights, sizes, strict=True)])
    counts = frame_counts(per_frame, max(budget or REPEAT_BUDGET, len(everything)))
    frames = [frame for frame, count in zip(everything, counts, strict=True) for _ in range(count)]
    return frames, [float(w) for w in weights]
