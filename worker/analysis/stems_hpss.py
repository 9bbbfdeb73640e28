"""Offline stem fallback: harmonic/percussive separation (Fitzgerald 2010) plus a low-band bass split.

Soft masks that sum to one in every time-frequency cell, applied to one linear STFT, so the stems add back
to the mix up to the STFT round trip (≈1e-6) — the property editors rely on when they mute one stem. This
is not Demucs: names and metadata say `hpss` so nobody mistakes it for a real source separation.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import istft, stft

BACKEND = "hpss"
STEM_NAMES = ("drums", "bass", "other")
WINDOW_S = 0.085  # STFT window (4096 samples at 48 kHz)
OVERLAP = 0.75
HARMONIC_KERNEL_S = 0.2  # median along time: sustained partials survive, hits do not
PERCUSSIVE_KERNEL_HZ = 500.0  # median along frequency: broadband hits survive, partials do not
BASS_CUTOFF_HZ = 150.0  # harmonic energy below this is "bass"; fades out over one more octave
MASK_POWER = 2.0  # Wiener-like soft masks
SUM_TOLERANCE = 1e-4  # stated bound on max |sum(stems) - mix| before quantisation


def separate_hpss(samples: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """{"drums", "bass", "other"} each shaped like `samples` ((n,) or (n, channels)), summing to it."""
    samples = np.asarray(samples, np.float32)
    two_d = samples.ndim == 2
    data = samples if two_d else samples[:, None]
    nperseg = _even(WINDOW_S * sample_rate)
    noverlap = int(nperseg * OVERLAP)
    freqs, _, spec = stft(data.T, fs=sample_rate, nperseg=nperseg, noverlap=noverlap, boundary="even")
    masks = _masks(np.abs(spec).mean(axis=0), freqs, sample_rate, nperseg - noverlap)
    out: dict[str, np.ndarray] = {}
    for name in STEM_NAMES:
        _, wave = istft(spec * masks[name][None], fs=sample_rate, nperseg=nperseg, noverlap=noverlap)
        wave = wave[:, : len(data)].T.astype(np.float32)
        if len(wave) < len(data):
            wave = np.pad(wave, ((0, len(data) - len(wave)), (0, 0)))
        out[name] = wave if two_d else wave[:, 0]
    # the tiny round-trip residual goes into "other", so the sum is exact to float32 rounding
    out["other"] += samples - sum(out[name] for name in STEM_NAMES)
    return out


def _masks(magnitude: np.ndarray, freqs: np.ndarray, sample_rate: int, hop: int) -> dict[str, np.ndarray]:
    time_kernel = max(int(HARMONIC_KERNEL_S * sample_rate / hop) | 1, 3)
    freq_kernel = max(int(PERCUSSIVE_KERNEL_HZ / (freqs[1] - freqs[0])) | 1, 3)
    harmonic = median_filter(magnitude, size=(1, time_kernel), mode="nearest") ** MASK_POWER
    percussive = median_filter(magnitude, size=(freq_kernel, 1), mode="nearest") ** MASK_POWER
    total = harmonic + percussive
    h_mask = np.where(total > 0, harmonic / np.maximum(total, 1e-20), 0.5)
    low = np.clip(np.log2(2 * BASS_CUTOFF_HZ / np.maximum(freqs, 1e-9)), 0.0, 1.0)[:, None]
    return {"drums": 1.0 - h_mask, "bass": h_mask * low, "other": h_mask * (1.0 - low)}


def _even(value: float) -> int:
    return max(int(value) // 2 * 2, 64)
