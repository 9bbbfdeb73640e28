"""Downbeats and meter from beat-level cues: bass/kick onsets and harmonic change mark the start of bars.

For each candidate meter (beats per bar) and phase, the mean cue strength on the would-be downbeats is
compared; 4 wins ties because it is by far the most common meter in the music we hand to editors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METERS = (4, 3)  # beats per bar tried, in order of preference
METER_MARGIN = 0.15  # a later meter must beat an earlier one by this (cue std units) to win
LOW_WEIGHT = 0.5
HARMONIC_WEIGHT = 2.0  # chord changes are the most reliable bar-line cue on our renders
FLUX_WEIGHT = 0.0  # every beat has onsets: adds noise, not phase (kept for experiments)
PEAK_FRAMES = 2  # cue = max of the onset envelope within this many frames of the beat


@dataclass(frozen=True)
class Meter:
    beats_per_bar: int
    first_downbeat: int  # index into the beats

    @property
    def time_signature(self) -> str:
        return f"{self.beats_per_bar}/4"


def beat_cues(beat_frames: np.ndarray, flux: np.ndarray, low: np.ndarray, beat_chroma: np.ndarray) -> np.ndarray:
    """One downbeat-likelihood score per beat (weighted sum of z-scored cues)."""
    low_peak, flux_peak = peaks_near(low, beat_frames), peaks_near(flux, beat_frames)
    change = np.zeros(len(beat_frames))
    if len(beat_frames) > 1:
        a, b = beat_chroma[1:], beat_chroma[:-1]
        cos = (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-9)
        change[1:] = 1.0 - cos
    return LOW_WEIGHT * z_scores(low_peak) + HARMONIC_WEIGHT * z_scores(change) + FLUX_WEIGHT * z_scores(flux_peak)


def peaks_near(values: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The largest of `values` (an onset envelope or an activation) within PEAK_FRAMES of each frame."""
    idx = np.clip(np.round(frames).astype(int), 0, len(values) - 1)
    return np.array([values[max(i - PEAK_FRAMES, 0) : i + PEAK_FRAMES + 1].max() for i in idx])


def choose_meter(cues: np.ndarray) -> Meter:
    """The meter and phase whose downbeats carry the strongest cues."""
    best: tuple[float, Meter] | None = None
    for rank, beats_per_bar in enumerate(METERS):
        if len(cues) < 2 * beats_per_bar:
            continue
        for phase in range(beats_per_bar):
            score = float(cues[phase::beats_per_bar].mean()) - rank * METER_MARGIN
            if best is None or score > best[0]:
                best = (score, Meter(beats_per_bar, phase))
    return best[1] if best else Meter(METERS[0], 0)


def downbeat_times(beats_s: np.ndarray, meter: Meter) -> np.ndarray:
    return np.asarray(beats_s, np.float64)[meter.first_downbeat :: meter.beats_per_bar]


def z_scores(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    std = values.std()
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
