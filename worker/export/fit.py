"""Fit a cue to a target length by cutting out or repeating whole bars, as Premiere's Remix does.

Edits happen only on downbeats, the intro and the ending (its cadence) are kept, joins get a short
crossfade, and beats and markers are mapped through the same edit. The plan is pure data; the
audio is rendered from it in a separate step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CROSSFADE_S = 0.02  # crossfade centred on each join: long enough to hide a click, short enough not to
# smear the downbeat
MAX_REPEATS = 8  # copies of a looped span when lengthening
MAX_EDITS = 3  # single edits composed to reach a far target
JOIN_WEIGHT = 0.25  # seconds of length error worth one unit of harmonic mismatch (1 - cosine) at a join
MIN_BARS = 2  # fewer downbeats than this: nothing to cut on
KEEP_HEAD_BARS = 1  # bars after the first downbeat that an edit leaves alone when it can
KEEP_TAIL_BARS = 2  # the last bars (the cadence) that an edit leaves alone when it can
REPEAT_WEIGHT = 0.05  # seconds of error worth one more copy of a loop: fewer, longer loops sound less mechanical
POSITION_WEIGHT = 0.01  # tie-break toward edits in the middle of the cue


@dataclass(frozen=True)
class FitPlan:
    segments: list[tuple[float, float]]  # source (start, end) seconds, played in order
    target_s: float
    duration_s: float  # of the result
    tolerance_s: float

    @property
    def error_s(self) -> float:
        return self.duration_s - self.target_s

    @property
    def within_tolerance(self) -> bool:
        return abs(self.error_s) <= self.tolerance_s + 1e-9

    @property
    def cuts(self) -> list[float]:
        """Source times where playback jumps (each segment's end and the next one's start)."""
        return [t for a, b in zip(self.segments, self.segments[1:], strict=False) for t in (a[1], b[0])]


def plan_fit(downbeats_s, duration_s: float, target_s: float, *, tolerance_s: float | None = None,
             bar_chroma: np.ndarray | None = None) -> FitPlan:
    """Cuts (to shorten) or looped spans (to lengthen) on downbeats that bring the cue to `target_s`.

    One edit is chosen at a time (the best single cut or loop), and up to MAX_EDITS are composed when one
    is not enough. `tolerance_s` defaults to half the median bar, the error one bar-quantised edit can
    always reach. `bar_chroma` (one row per downbeat) lets equally good lengths prefer joins between similar
    harmony.
    """
    downs = np.asarray(downbeats_s, np.float64)
    downs = downs[(downs > 0.0) & (downs < duration_s)]
    if tolerance_s is None:
        tolerance_s = 0.5 * float(np.median(np.diff(downs))) if len(downs) >= MIN_BARS else 0.0
    segments = [(0.0, float(duration_s))]
    length = float(duration_s)
    mismatch = _mismatch(bar_chroma, len(downs))
    for _ in range(MAX_EDITS):
        if abs(length - target_s) <= tolerance_s:
            break
        current = map_times(downs, FitPlan(segments, target_s, length, tolerance_s))
        current = current[(current > 0.0) & (current < length)]
        if len(current) < MIN_BARS:
            break
        edit = _single_edit(current, length, target_s, mismatch if len(segments) == 1 else None)
        new_length = sum(b - a for a, b in edit)
        if abs(new_length - target_s) >= abs(length - target_s):
            break
        segments, length = _compose(segments, edit), new_length
    return FitPlan(segments, target_s, length, tolerance_s)


def _single_edit(downs: np.ndarray, duration_s: float, target_s: float,
                 mismatch: np.ndarray | None) -> list[tuple[float, float]]:
    """Segments (in this timeline) of the best single cut or loop."""
    if mismatch is None or len(mismatch) != len(downs):
        mismatch = np.zeros((len(downs), len(downs)))
    i, j = _spans(len(downs))  # span [downs[i], downs[j])
    span = downs[j] - downs[i]
    middle = POSITION_WEIGHT * np.abs((downs[i] + downs[j]) / 2 - duration_s / 2)
    if target_s < duration_s:
        error = (duration_s - span) - target_s
        best = int(np.argmin(np.abs(error) + JOIN_WEIGHT * mismatch[i, j] + middle))
        a, b = float(downs[i[best]]), float(downs[j[best]])
        return [(0.0, a), (b, duration_s)]
    repeats = np.arange(1, MAX_REPEATS + 1)
    error = (duration_s + span[:, None] * repeats[None, :]) - target_s
    score = np.abs(error) + (JOIN_WEIGHT * mismatch[j, i] + middle)[:, None] + REPEAT_WEIGHT * repeats[None, :]
    pair, k = np.unravel_index(int(np.argmin(score)), score.shape)
    a, b, copies = float(downs[i[pair]]), float(downs[j[pair]]), int(repeats[k])
    return [(0.0, b)] + [(a, b)] * (copies - 1) + [(a, duration_s)]


def _compose(source: list[tuple[float, float]], edit: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Source segments of an edit made on the output of `source` (edit times are in that output)."""
    out: list[tuple[float, float]] = []
    for lo, hi in edit:
        offset = 0.0
        for a, b in source:
            seg_lo, seg_hi = max(lo, offset), min(hi, offset + (b - a))
            if seg_hi - seg_lo > 1e-9:
                piece = (a + seg_lo - offset, a + seg_hi - offset)
                if out and abs(out[-1][1] - piece[0]) < 1e-9:
                    out[-1] = (out[-1][0], piece[1])  # contiguous in the source: no join
                else:
                    out.append(piece)
            offset += b - a
    return out


def _spans(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Downbeat index pairs (i < j) an edit may use, sparing the head and tail bars when there are enough."""
    i, j = np.triu_indices(count, k=1)
    keep = (i >= KEEP_HEAD_BARS) & (j <= count - 1 - KEEP_TAIL_BARS)
    return (i[keep], j[keep]) if keep.any() else (i, j)


def _mismatch(bar_chroma: np.ndarray | None, count: int) -> np.ndarray:
    """1 - cosine similarity between the bars that would meet at a join (zeros when unknown)."""
    if bar_chroma is None or len(bar_chroma) < count:
        return np.zeros((count, count))
    c = np.asarray(bar_chroma[:count], np.float64)
    unit = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    return 1.0 - unit @ unit.T


def map_times(times_s, plan: FitPlan) -> np.ndarray:
    """Where source times land in the fitted cue; times inside removed spans are dropped.

    A time exactly on a join belongs to the segment that starts there, so the downbeat after a cut is kept.
    """
    out, offset = [], 0.0
    times = np.asarray(times_s, np.float64)
    last = len(plan.segments) - 1
    for k, (a, b) in enumerate(plan.segments):
        inside = (times >= a - 1e-9) & ((times < b - 1e-9) | ((k == last) & (times <= b + 1e-9)))
        out.extend(offset + times[inside] - a)
        offset += b - a
    return np.array(out)


def render_fit(samples: np.ndarray, sample_rate: int, plan: FitPlan, crossfade_s: float = CROSSFADE_S) -> np.ndarray:
    """The fitted audio: segments overlap-added with crossfades centred on each join.

    Constant-gain (linear) fades: the two sides of a bar-line join are the same music a few bars apart,
    largely correlated, where an equal-power fade would bump the level by up to 3 dB.
    """
    data = np.asarray(samples, np.float32)
    two_d = data.ndim == 2
    data = data if two_d else data[:, None]
    bounds = [(round(a * sample_rate), round(b * sample_rate)) for a, b in plan.segments]
    total = sum(b - a for a, b in bounds)
    out = np.zeros((total, data.shape[1]), np.float32)
    half = max(int(crossfade_s * sample_rate / 2), 1)
    ramp = np.linspace(0.0, 1.0, 2 * half, dtype=np.float32)
    fade_in, fade_out = ramp[:, None], 1.0 - ramp[:, None]
    position = 0
    for k, (a, b) in enumerate(bounds):
        pre = half if k > 0 else 0
        post = half if k < len(bounds) - 1 else 0
        lo, hi = max(a - pre, 0), min(b + post, len(data))
        piece = data[lo:hi].copy()
        if k > 0:
            piece[: 2 * half] *= fade_in[: len(piece)]
        if k < len(bounds) - 1:
            piece[-2 * half :] *= fade_out[-min(2 * half, len(piece)) :]
        start = position - (a - lo)
        dst_lo, dst_hi = max(start, 0), min(start + len(piece), total)
        out[dst_lo:dst_hi] += piece[dst_lo - start : dst_hi - start]
        position += b - a
    return out if two_d else out[:, 0]
