"""Scene-change picks: where a video cuts, and one representative frame per scene to query with.

Frames are sampled at a few fps and compared by colour histogram (robust to motion inside a shot, unlike pixel
differences); a jump above a threshold is a cut unless it comes sooner than a minimum scene length after the
previous one (flashes, strobes). The math (`colour_histogram`, `histogram_distance`, `find_cuts`,
`scenes_from_cuts`) is pure; `detect_scenes` adds decoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop.picture.video import Cancelled, Progress, probe, sample_frames

SAMPLE_FPS = 4.0  # cuts are placed within 1/SAMPLE_FPS s; a 2-hour film is ~29k small histograms
SAMPLE_SIZE = (64, 36)  # enough pixels for a stable histogram, cheap to convert
HISTOGRAM_BINS = 16  # per channel
CUT_THRESHOLD = 0.35  # half-L1 histogram distance (0 identical … 1 disjoint) that counts as a cut
MIN_SCENE_S = 1.0  # a "scene" shorter than this is a flash or a dissolve step, not a shot to pick from
MAX_AUTO_PICKS = 12  # a feature film has ~1500 shots; a query wants a handful of stills, not all of them


@dataclass(frozen=True)
class Scene:
    start_s: float
    end_s: float

    @property
    def pick_s(self) -> float:
        """The middle of the scene: away from the cuts, where dissolves and motion blur live."""
        return 0.5 * (self.start_s + self.end_s)


@dataclass(frozen=True)
class SceneAnalysis:
    duration_s: float
    scenes: list[Scene]
    sample_fps: float

    @property
    def cuts_s(self) -> list[float]:
        return [s.start_s for s in self.scenes[1:]]

    @property
    def boundaries(self) -> list[tuple[float, float]]:
        """(start, end) seconds per scene: what the timeline draws."""
        return [(s.start_s, s.end_s) for s in self.scenes]


def colour_histogram(rgb: np.ndarray, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """(3·bins,) per-channel histograms of an RGB uint8 frame, each summing to 1."""
    levels = (rgb.reshape(-1, 3).astype(np.int32) * bins) // 256
    counts = np.stack([np.bincount(levels[:, c], minlength=bins) for c in range(3)]).astype(np.float64)
    return (counts / max(1, levels.shape[0])).ravel()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance averaged over the three channels: 0 for identical, 1 for disjoint colours."""
    return float(np.abs(a - b).sum() / 6.0)


def find_cuts(times: Sequence[float], histograms: Sequence[np.ndarray], threshold: float = CUT_THRESHOLD,
              min_scene_s: float = MIN_SCENE_S, keyframes: Sequence[tuple[float, np.ndarray]] | None = None,
              ) -> list[float]:
    """Times that start a new scene: distance to the previous sample above `threshold`, and at least
    `min_scene_s` after the previous cut (or the start).

    A cut goes on the later sample, or — exact to the frame — on a keyframe between the two samples that already
    looks like the new shot (`keyframes[i]`: the latest keyframe at or before sample i, with its histogram).
    Encoders usually put a keyframe on a cut, but not always on its first frame.
    """
    cuts: list[float] = []
    last = times[0] if len(times) else 0.0
    for i in range(1, len(times)):
        if histogram_distance(histograms[i - 1], histograms[i]) > threshold and times[i] - last >= min_scene_s:
            cut = float(times[i])
            if keyframes is not None:
                key_t, key_hist = keyframes[i]
                if times[i - 1] < key_t <= times[i] and histogram_distance(key_hist, histograms[i]) <= threshold \
                        < histogram_distance(key_hist, histograms[i - 1]):
                    cut = float(key_t)
            cuts.append(cut)
            last = times[i]
    return cuts


def scenes_from_cuts(cuts: Sequence[float], duration_s: float, min_scene_s: float = MIN_SCENE_S) -> list[Scene]:
    """Scenes between consecutive cuts; a last scene shorter than `min_scene_s` joins the one before."""
    edges = [0.0, *[c for c in cuts if 0.0 < c < duration_s], duration_s]
    if len(edges) > 2 and edges[-1] - edges[-2] < min_scene_s:
        del edges[-2]
    return [Scene(a, b) for a, b in zip(edges, edges[1:], strict=False)]


def representative_scenes(scenes: Sequence[Scene], limit: int = MAX_AUTO_PICKS) -> list[Scene]:
    """At most `limit` scenes to pick stills from: the longest ones (what the picture dwells on), in time order."""
    if len(scenes) <= limit:
        return list(scenes)
    longest = sorted(range(len(scenes)), key=lambda i: (-(scenes[i].end_s - scenes[i].start_s), i))[:limit]
    return [scenes[i] for i in sorted(longest)]


def detect_scenes(path: str | os.PathLike[str], *, sample_fps: float = SAMPLE_FPS, threshold: float = CUT_THRESHOLD,
                  min_scene_s: float = MIN_SCENE_S, progress: Progress | None = None,
                  cancelled: Cancelled | None = None) -> SceneAnalysis:
    """Scenes of a video file; raises VideoError when it cannot be decoded."""
    times: list[float] = []
    keyframes: list[tuple[float, np.ndarray]] = []
    histograms: list[np.ndarray] = []
    key_cache: dict[float, np.ndarray] = {}
    for sample in sample_frames(path, sample_fps, SAMPLE_SIZE, progress=progress, cancelled=cancelled):
        times.append(sample.time_s)
        histograms.append(colour_histogram(sample.rgb))
        if sample.keyframe_s not in key_cache:
            key_cache = {sample.keyframe_s: colour_histogram(sample.keyframe_rgb)}
        keyframes.append((sample.keyframe_s, key_cache[sample.keyframe_s]))
    duration = probe(path).duration_s
    if times:
        duration = max(duration, times[-1])
    cuts = find_cuts(times, histograms, threshold, min_scene_s, keyframes)
    return SceneAnalysis(duration, scenes_from_cuts(cuts, duration, min_scene_s), sample_fps)
