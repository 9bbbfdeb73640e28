"""Beat tracking by dynamic programming over (time, beat period), so the beat grid can follow tempo changes.

Ellis (2007) finds the best beat sequence for one fixed period; here every beat also chooses its own period
(in whole frames, within a band around the global tempo) and pays for changing it, in the spirit of the
bar-pointer state space of Krebs, Böck & Widmer (2015) but with additive scores instead of a trained model.
"""

from __future__ import annotations

import numpy as np

from worker.analysis.tempo import estimate_period

PERIOD_RANGE = 1.35  # periods searched: global period ÷ this .. × this (tempo changes up to ±35%)
CHANGE_PENALTY = 15.0  # cost per beat of |log(period ratio)|: tempo may drift, but not jitter
PRIOR_WEIGHT = 8.0  # cost of log2(period / global period)² per beat: keeps the metrical level
ACTIVE_THRESHOLD = 0.5  # onset strength (in std units) that counts as music having started / not ended
REFINE_FRAMES = 2  # a beat may snap to an onset peak this many frames away


def track_beats(onset: np.ndarray, fps: float, period: float | None = None) -> np.ndarray:
    """Beat times in seconds from a normalised onset envelope (frames at `fps`)."""
    onset = np.asarray(onset, np.float64)
    if period is None:
        period = estimate_period(onset, fps)
    periods = np.arange(max(int(np.floor(period / PERIOD_RANGE)), 2), int(np.ceil(period * PERIOD_RANGE)) + 1)
    frames = _best_path(onset, periods, period)
    return refine_to_peaks(onset, frames) / fps


def _best_path(onset: np.ndarray, periods: np.ndarray, period: float) -> np.ndarray:
    count = len(onset)
    if count == 0:
        return np.zeros(0)
    gain = onset - onset.mean()
    prior = -PRIOR_WEIGHT * np.log2(periods / period) ** 2
    log_p = np.log(periods)
    change = -CHANGE_PENALTY * np.abs(log_p[:, None] - log_p[None, :])  # [current, previous]
    active = np.flatnonzero(onset > ACTIVE_THRESHOLD)
    if len(active) < 2:  # silence or a single hit: no pulse to track
        return np.zeros(0)
    first, last = int(active[0]), int(active[-1])
    start_until = first + int(periods[-1])
    score = np.full((count, len(periods)), -np.inf)
    back = np.full((count, len(periods)), -1, dtype=np.int16)
    for t in range(count):
        prev_t = t - periods
        ok = prev_t >= 0
        base = np.full(len(periods), -np.inf)
        if ok.any():
            cand = score[prev_t[ok]] + change[ok]
            arg = np.argmax(cand, axis=1)
            base[ok] = cand[np.arange(len(arg)), arg]
            back[t, ok] = arg
        if t <= start_until:
            fresh = base < 0.0
            base = np.where(fresh, 0.0, base)
            back[t, fresh] = -1
        score[t] = gain[t] + prior + base
    end_from = max(min(last, count - 1) - int(periods[-1]), 0)
    tail = score[end_from:]
    t, k = np.unravel_index(int(np.argmax(tail)), tail.shape)
    t += end_from
    path = []
    while t >= 0 and np.isfinite(score[t, k]):
        path.append(t)
        prev = back[t, k]
        if prev < 0:
            break
        t, k = t - int(periods[k]), int(prev)
    return np.array(path[::-1], dtype=np.float64)


def refine_to_peaks(onset: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Move each beat to the strongest nearby peak of `onset` (an onset envelope or a beat activation), with
    sub-frame (parabolic) precision; a beat with no positive peak near it stays where it is."""
    out = frames.astype(np.float64)
    last = len(onset) - 1
    for i, f in enumerate(frames.astype(int)):
        lo, hi = max(f - REFINE_FRAMES, 1), min(f + REFINE_FRAMES, last - 1)
        if hi < lo:
            continue
        j = lo + int(np.argmax(onset[lo : hi + 1]))
        if onset[j] <= 0:
            continue
        a, b, c = onset[j - 1], onset[j], onset[j + 1]
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
        out[i] = j + float(np.clip(offset, -0.5, 0.5))
    return out
