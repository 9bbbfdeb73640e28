"""Global tempo from the onset envelope's autocorrelation, and the per-beat tempo map from beat times.

Each candidate beat period L is scored by comb evidence — autocorrelation mass at L, plus some at L/2 (the
subdivision a real beat usually has) and at 3L (bars of three, and 3/2 relations) — times a log-normal tempo
prior. The prior (centre 135 BPM, 0.85 octave) and comb weights were chosen on the tuning renders only:
metrical level right (within 0.87-1.15 of the notated beat) on 88 % of them, against 79 % for the previous
ACF + 2L with a 120 BPM, one-octave prior (Ellis 2007, librosa).
"""

from __future__ import annotations

import numpy as np

MIN_BPM = 40.0
MAX_BPM = 240.0
PRIOR_BPM = 135.0  # notated beats of game and film cues sit higher than the 120 BPM of pop tapping studies
PRIOR_OCTAVES = 0.85  # standard deviation of the tempo prior, in octaves
SECONDS_PER_MINUTE = 60.0
ACF_WINDOW_S = 8.0  # local autocorrelations are averaged: a changing tempo still gives sharp peaks
ACF_HOP_S = 2.0
LAG_SPREAD = 0.06  # relative lag window over which autocorrelation mass is summed
COMB_WEIGHTS = {0.5: 0.25, 1.0: 1.0, 3.0: 0.25}  # lag multiple -> weight of its autocorrelation mass
COMB_REACH = 4  # autocorrelation is computed up to this many slowest periods


def autocorrelation(envelope: np.ndarray, max_lag: int) -> np.ndarray:
    """Unbiased autocorrelation for lags 0..max_lag by FFT (normalised so lag 0 is 1); lags the envelope is too
    short to have are 0 (a clip of a few seconds still gets a full-length answer)."""
    x = np.asarray(envelope, np.float64) - float(np.mean(envelope))
    n = len(x)
    size = 1 << int(np.ceil(np.log2(2 * max(n, 1))))
    spectrum = np.fft.rfft(x, size)
    acf = np.zeros(max_lag + 1)
    lags = min(max_lag + 1, n)
    acf[:lags] = np.fft.irfft(spectrum * np.conj(spectrum), size)[:lags] / (n - np.arange(lags))
    return acf / acf[0] if acf[0] > 0 else acf


def local_autocorrelation(envelope: np.ndarray, max_lag: int, fps: float) -> np.ndarray:
    """Mean of windowed autocorrelations (a tempogram averaged over time)."""
    window = max(int(ACF_WINDOW_S * fps), 2 * max_lag + 2)
    hop = max(int(ACF_HOP_S * fps), 1)
    if len(envelope) <= window:
        return autocorrelation(envelope, max_lag)
    starts = range(0, len(envelope) - window + 1, hop)
    return np.mean([autocorrelation(envelope[s : s + window], max_lag) for s in starts], axis=0)


def tempo_prior(bpm: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)


def estimate_period(envelope: np.ndarray, fps: float) -> float:
    """Dominant beat period in frames (fractional), chosen within MIN_BPM..MAX_BPM."""
    lo = int(np.floor(SECONDS_PER_MINUTE * fps / MAX_BPM))
    hi = int(np.ceil(SECONDS_PER_MINUTE * fps / MIN_BPM))
    if len(envelope) <= hi + 2:
        return SECONDS_PER_MINUTE * fps / PRIOR_BPM
    acf = local_autocorrelation(envelope, COMB_REACH * (hi + 1), fps)
    lags = np.arange(lo, hi + 1)
    score = comb_evidence(_peak_mass(np.maximum(acf, 0.0)), lags) * tempo_prior(SECONDS_PER_MINUTE * fps / lags)
    best = int(np.argmax(score))
    return float(lags[best]) + _parabolic_offset(score, best)


def comb_evidence(mass: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Weighted autocorrelation mass at the multiples of each lag in COMB_WEIGHTS (linear interpolation)."""
    grid = np.arange(len(mass))
    return sum(w * np.interp(m * lags, grid, mass, right=0.0) for m, w in COMB_WEIGHTS.items())


def _peak_mass(acf: np.ndarray) -> np.ndarray:
    """Autocorrelation summed over ±LAG_SPREAD (relative) around each lag.

    A changing tempo smears a peak in proportion to its lag, so slow metrical levels lose height but not
    mass; comparing masses keeps a ritardando or accelerando from pushing the estimate to double tempo.
    """
    cumulative = np.concatenate([[0.0], np.cumsum(acf)])
    lags = np.arange(len(acf))
    lo = np.clip(np.floor(lags / (1 + LAG_SPREAD)).astype(int), 0, len(acf))
    hi = np.clip(np.ceil(lags * (1 + LAG_SPREAD)).astype(int) + 1, 0, len(acf))
    return cumulative[hi] - cumulative[lo]


def _parabolic_offset(values: np.ndarray, i: int) -> float:
    if i <= 0 or i >= len(values) - 1:
        return 0.0
    a, b, c = values[i - 1], values[i], values[i + 1]
    denom = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0


def tempo_map(beats_s: np.ndarray) -> list[tuple[float, float]]:
    """(beat time, BPM until the next beat) for every beat; the last beat keeps the previous tempo."""
    beats_s = np.asarray(beats_s, np.float64)
    if len(beats_s) < 2:
        return []
    bpm = SECONDS_PER_MINUTE / np.diff(beats_s)
    bpm = np.append(bpm, bpm[-1])
    return [(float(t), float(b)) for t, b in zip(beats_s, bpm, strict=True)]


def summary_tempo(beats_s: np.ndarray) -> float:
    """The tempo an editor expects to read: 60 / median inter-beat interval (robust to a few odd beats)."""
    beats_s = np.asarray(beats_s, np.float64)
    if len(beats_s) < 2:
        return 0.0
    return float(SECONDS_PER_MINUTE / np.median(np.diff(beats_s)))
