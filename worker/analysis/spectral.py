"""Short-time spectra and log-frequency filterbanks shared by the onset, key and stem code.

Plain numpy/scipy on purpose: librosa's numba import alone costs ~20 s, more than analysing a whole song.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

ANALYSIS_RATE = 22050  # Hz: enough bandwidth for hi-hats, half the work of 44.1 kHz
HOP = 220  # samples: ~100 frames per second, finer than the 70 ms beat-evaluation window
FRAME = 2048  # samples: ~93 ms, resolves bass notes for the low band
A4_HZ = 440.0


def frame_rate(sample_rate: int = ANALYSIS_RATE, hop: int = HOP) -> float:
    return sample_rate / hop


def magnitude_spectrogram(wave: np.ndarray, frame: int = FRAME, hop: int = HOP) -> np.ndarray:
    """|STFT| as (frames, bins) float32; frame t is centred on sample t·hop (the signal is zero-padded)."""
    wave = np.asarray(wave, dtype=np.float32)
    padded = np.pad(wave, (frame // 2, frame // 2))
    count = max(1 + (len(padded) - frame) // hop, 1)
    if len(padded) < frame:
        padded = np.pad(padded, (0, frame - len(padded)))
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, frame), strides=(padded.strides[0] * hop, padded.strides[0]), writeable=False
    )
    window = np.hanning(frame).astype(np.float32)
    out = np.empty((count, frame // 2 + 1), np.float32)
    block = 2048  # frames per FFT call: bounds the complex temporary
    for i in range(0, count, block):
        out[i : i + block] = np.abs(scipy.fft.rfft(frames[i : i + block] * window, axis=1))  # float32 FFT
    return out


MEL_BANDS = 128
MEL_FMAX = 11025.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), the one librosa uses by default."""
    hz = np.asarray(hz, np.float64)
    linear = hz / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def mel_filterbank(
    sample_rate: int = ANALYSIS_RATE, frame: int = FRAME, bands: int = MEL_BANDS, fmax: float = MEL_FMAX
) -> np.ndarray:
    """(bins, bands) triangular mel filters with Slaney area normalisation."""
    freqs = np.fft.rfftfreq(frame, 1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(min(fmax, sample_rate / 2)), bands + 2))
    lower = (freqs[:, None] - edges[None, :-2]) / np.maximum(edges[1:-1] - edges[:-2], 1e-9)
    upper = (edges[None, 2:] - freqs[:, None]) / np.maximum(edges[2:] - edges[1:-1], 1e-9)
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= 2.0 / (edges[2:] - edges[:-2])
    return weights.astype(np.float32)


def mel_centres(sample_rate: int = ANALYSIS_RATE, bands: int = MEL_BANDS, fmax: float = MEL_FMAX) -> np.ndarray:
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(min(fmax, sample_rate / 2)), bands + 2))
    return edges[1:-1]


def log_filterbank(
    sample_rate: int, frame: int, bands_per_octave: int = 12, fmin: float = 30.0, fmax: float = 11000.0
) -> tuple[np.ndarray, np.ndarray]:
    """Triangular filters on a log-frequency axis: (bins, bands) weights and the bands' centre frequencies.

    Filters narrower than one FFT bin collapse onto that bin (duplicates removed), as in madmom's LogFiltSpec.
    """
    freqs = np.fft.rfftfreq(frame, 1.0 / sample_rate)
    fmax = min(fmax, sample_rate / 2)
    count = int(np.floor(np.log2(fmax / fmin) * bands_per_octave)) + 1
    centres = fmin * 2.0 ** (np.arange(count) / bands_per_octave)
    bins = np.unique(np.searchsorted(freqs, centres))
    bins = bins[bins < len(freqs) - 1]
    weights = np.zeros((len(freqs), max(len(bins) - 2, 0)), np.float32)
    for j in range(len(bins) - 2):
        lo, mid, hi = bins[j], bins[j + 1], bins[j + 2]
        weights[lo : mid + 1, j] = np.linspace(0.0, 1.0, mid - lo + 1)
        weights[mid : hi + 1, j] = np.linspace(1.0, 0.0, hi - mid + 1)
        weights[:, j] /= max(weights[:, j].sum(), 1e-9)
    return weights, freqs[bins[1:-1]]


def pitch_class_of(freqs: np.ndarray) -> np.ndarray:
    """Pitch class 0..11 (C = 0) of each frequency; non-positive frequencies map to -1."""
    out = np.full(len(freqs), -1, dtype=np.int64)
    ok = freqs > 0
    midi = 69.0 + 12.0 * np.log2(freqs[ok] / A4_HZ)
    out[ok] = np.mod(np.round(midi).astype(np.int64), 12)
    return out
