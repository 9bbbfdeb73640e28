"""Small, dependency-free DSP shared by the learning-free encoder and analysis: framing, STFT power, mel bank.

numpy and scipy.fft only (no librosa: its numba start-up costs ~20 s per process, which a worker cannot afford).
scipy's FFT keeps float32 in float32 (numpy's computes in float64): ~7x faster on 1024-point frames."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft


def frames(wave: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_frames, n_fft) strided view of `wave`, padded so a short wave still gives one frame."""
    if len(wave) < n_fft:
        wave = np.pad(wave, (0, n_fft - len(wave)))
    return np.lib.stride_tricks.sliding_window_view(wave, n_fft)[::hop]


def power_spectrogram(wave: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_frames, n_fft // 2 + 1) power of the Hann-windowed STFT, float32."""
    return frame_power(frames(wave.astype(np.float32, copy=False), n_fft, hop))


def frame_power(framed: np.ndarray) -> np.ndarray:
    """(n_frames, n_fft // 2 + 1) float32 power of already framed samples (n_frames, n_fft), Hann-windowed."""
    spec = scipy.fft.rfft(framed * _hann(framed.shape[1]), axis=1)
    return (spec.real**2 + spec.imag**2).astype(np.float32, copy=False)


class FrameStream:
    """The frames of `frames(wave, n_fft, hop)` computed block by block, for a wave that arrives in blocks.

    `push` returns the power of every frame completed by the new samples, `finish` those of a wave too short
    for one frame (zero-padded, as `frames` does); concatenated they equal `power_spectrogram(whole wave)`.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        self.n_fft, self.hop = n_fft, hop
        self._buf = np.zeros(0, np.float32)  # starts at the next frame's first sample
        self.frames_out = 0
        self.samples_in = 0

    def push(self, block: np.ndarray) -> np.ndarray:
        block = np.asarray(block, np.float32)
        self.samples_in += len(block)
        self._buf = np.concatenate([self._buf, block]) if len(self._buf) else block
        if len(self._buf) < self.n_fft:
            return np.zeros((0, self.n_fft // 2 + 1), np.float32)
        n = 1 + (len(self._buf) - self.n_fft) // self.hop
        power = frame_power(np.lib.stride_tricks.sliding_window_view(self._buf, self.n_fft)[: n * self.hop : self.hop])
        self._buf = self._buf[n * self.hop :]
        self.frames_out += n
        return power

    def finish(self) -> np.ndarray:
        if self.frames_out or not self.samples_in:
            return np.zeros((0, self.n_fft // 2 + 1), np.float32)
        self.frames_out = 1
        return power_spectrogram(self._buf, self.n_fft, self.hop)


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
