"""Pitch-class profiles (chroma) from a magnitude spectrogram, for key finding and harmonic-change cues."""

from __future__ import annotations

import numpy as np

from worker.analysis.spectral import ANALYSIS_RATE, magnitude_spectrogram, pitch_class_of

CHROMA_FMIN = 80.0  # Hz: below this one FFT bin spans several semitones
CHROMA_FMAX = 5000.0  # Hz: above this partials mostly blur the pitch classes
SILENT = 1e-8
CHROMA_FRAME = 8192  # 2.7 Hz bins at 22.05 kHz: semitones resolved down to CHROMA_FMIN
CHROMA_HOP = 2048  # ~93 ms: harmony changes more slowly than onsets


def chroma_matrix(sample_rate: int = ANALYSIS_RATE, frame: int = CHROMA_FRAME) -> np.ndarray:
    """(bins, 12) 0/1 map from FFT bins to the pitch class of their centre frequency."""
    freqs = np.fft.rfftfreq(frame, 1.0 / sample_rate)
    classes = pitch_class_of(freqs)
    keep = (freqs >= CHROMA_FMIN) & (freqs <= CHROMA_FMAX)
    out = np.zeros((len(freqs), 12), np.float32)
    out[np.flatnonzero(keep), classes[keep]] = 1.0
    return out


def chromagram(wave: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """(frames, 12) chroma of magnitudes at CHROMA_HOP, each frame scaled to unit maximum (silence stays 0).

    Magnitude rather than power, so that a loud bass partial does not outvote the rest of the chord.
    """
    spectrogram = magnitude_spectrogram(wave, CHROMA_FRAME, CHROMA_HOP)
    chroma = spectrogram @ chroma_matrix(sample_rate, CHROMA_FRAME)
    peak = chroma.max(axis=1, keepdims=True)
    return np.where(peak > SILENT, chroma / np.maximum(peak, SILENT), 0.0).astype(np.float32)


def chroma_rate(sample_rate: int = ANALYSIS_RATE) -> float:
    return sample_rate / CHROMA_HOP


def beat_chroma(chroma: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """Mean chroma between consecutive beats: (len(beat_frames), 12); the last beat runs to the end."""
    bounds = np.clip(np.append(beat_frames, len(chroma)).astype(int), 0, len(chroma))
    out = np.zeros((len(beat_frames), 12), np.float32)
    for i in range(len(beat_frames)):
        lo, hi = bounds[i], max(bounds[i + 1], bounds[i] + 1)
        if lo < len(chroma):
            out[i] = chroma[lo:hi].mean(axis=0)
    return out
