"""Small, dependency-free DSP shared by the learning-free encoder and analysis: framing, STFT power, mel bank.

numpy only (no librosa: its numba start-up costs ~20 s per process, which a worker cannot afford)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def frames(wave: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_frames, n_fft) strided view of `wave`, padded so a short wave still gives one frame."""
    if len(wave) < n_fft:
        wave = np.pad(wave, (0, n_fft - len(wave)))
    return np.lib.stride_tricks.sliding_window_view(wave, n_fft)[::hop]


def power_spectrogram(wave: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_frames, n_fft // 2 + 1) power of the Hann-windowed STFT, float32."""
    window = _hann(n_fft)
    spec = np.fft.rfft(frames(wave.astype(np.float32, copy=False), n_fft, hop) * window, axis=1)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangular HTK-mel filters, each normalised to unit area."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (bins[None, :] - lower) / np.maximum(centre - lower, 1e-9)
    down = (upper - bins[None, :]) / np.maximum(upper - centre, 1e-9)
    bank = np.maximum(0.0, np.minimum(up, down))
    bank /= np.maximum(bank.sum(axis=1, keepdims=True), 1e-9)
    return bank.T.astype(np.float32)


@lru_cache(maxsize=16)
def chroma_map(sample_rate: int, n_fft: int, fmin: float = 55.0, fmax: float = 4000.0) -> np.ndarray:
    """(n_fft // 2 + 1, 12) one-hot map of STFT bins to pitch classes (C = 0) within [fmin, fmax]."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    out = np.zeros((len(freqs), 12), np.float32)
    ok = (freqs >= fmin) & (freqs <= fmax)
    midi = 69.0 + 12.0 * np.log2(freqs[ok] / 440.0)
    out[np.nonzero(ok)[0], np.round(midi).astype(int) % 12] = 1.0
    return out


@lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n + 1)[:-1].astype(np.float32)
