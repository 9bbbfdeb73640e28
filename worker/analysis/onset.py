"""Onset-strength envelopes (spectral flux on a log-mel spectrogram) that the beat and downbeat trackers read.

Positive frame-to-frame differences of mel power in dB, averaged over bands, with the local mean removed:
the envelope of Ellis (2007) and librosa, which on our renders tracks beats better than a SuperFlux-style
log-frequency flux (0.67 vs 0.57 beat F on the tuning set). A separate low band (kick, bass) helps to find
downbeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from worker.analysis.spectral import ANALYSIS_RATE, FRAME, HOP, frame_rate, mel_centres, mel_filterbank

DB_FLOOR = 80.0  # dB below the loudest band-frame that still counts
POWER_FLOOR = 1e-10
DIFF_LAG = 1  # frames between compared spectra
LOW_BAND_HZ = 150.0  # below this: kick drum and bass for downbeats
MEAN_WINDOW_S = 1.0  # local mean removed from the envelope so loud passages do not dominate


@dataclass(frozen=True)
class Onsets:
    """Per-frame envelopes at `fps` frames per second; frame t is centred at t / fps seconds."""

    flux: np.ndarray
    low: np.ndarray
    fps: float


def onset_envelopes(spectrogram: np.ndarray, sample_rate: int = ANALYSIS_RATE, hop: int = HOP) -> Onsets:
    """Full-band and low-band onset strength from a (frames, bins) magnitude spectrogram."""
    mel = (spectrogram.astype(np.float32) ** 2) @ mel_filterbank(sample_rate, FRAME)
    db = 10.0 * np.log10(np.maximum(mel, POWER_FLOOR))
    db = np.maximum(db, db.max() - DB_FLOOR)
    diff = np.zeros_like(db)
    diff[DIFF_LAG:] = np.maximum(db[DIFF_LAG:] - db[:-DIFF_LAG], 0.0)
    low_mask = mel_centres(sample_rate) < LOW_BAND_HZ
    fps = frame_rate(sample_rate, hop)
    return Onsets(flux=_normalise(diff.mean(axis=1), fps), low=_normalise(diff[:, low_mask].mean(axis=1), fps), fps=fps)


def _normalise(envelope: np.ndarray, fps: float) -> np.ndarray:
    """Remove the local mean (half-wave rectified) and scale to unit standard deviation."""
    width = max(int(MEAN_WINDOW_S * fps), 1)
    detrended = np.maximum(envelope - uniform_filter1d(envelope, width, mode="nearest"), 0.0)
    scale = detrended.std()
    return (detrended / scale if scale > 0 else detrended).astype(np.float32)
