"""`descriptor`: a learning-free acoustic encoder for find-similar and as a last-resort offline default.

Each window becomes a handful of feature groups — spectral shape (log-mel mean, centred), its movement (log-mel
std), brightness statistics, rhythm (onset-envelope autocorrelation over a log-tempo axis), harmony (chroma) and
level — each centred, scaled to unit length and weighted, so cosine similarity compares like with like. No text
or image tower: text search needs `offline` or `clap`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.encoders import dsp
from worker.encoders.base import Encoder, unit

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 512
N_MELS = 48
FMIN, FMAX = 30.0, 8000.0
TEMPO_BINS = np.geomspace(50.0, 220.0, 16)  # BPM axis of the rhythm group
GROUP_WEIGHTS = {"shape": 1.0, "motion": 0.6, "bright": 0.5, "rhythm": 0.7, "chroma": 0.5, "level": 0.3}


class DescriptorEncoder(Encoder):
    id = "descriptor"
    version = "1"
    sample_rate = SAMPLE_RATE

    def __init__(self) -> None:
        self.dim = len(self.embed_audio([np.zeros(SAMPLE_RATE, np.float32)])[0])

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack([_describe(np.asarray(w, np.float32)) for w in waves]).astype(np.float32)


def _describe(wave: np.ndarray) -> np.ndarray:
    power = dsp.power_spectrogram(wave, N_FFT, HOP)  # (T, F)
    mel = power @ dsp.mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, FMIN, FMAX)
    logmel = np.log10(mel + 1e-8)  # (T, M), in bels
    frame_energy = power.sum(axis=1)
    loud = frame_energy > max(frame_energy.max() * 1e-4, 1e-10)  # ignore silent frames for shape statistics
    active = logmel[loud] if loud.any() else logmel

    shape = active.mean(axis=0)
    shape = shape - shape.mean()
    motion = active.std(axis=0)
    motion = motion - motion.mean()

    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    p = power[loud] if loud.any() else power
    total = p.sum(axis=1) + 1e-12
    centroid = (p @ freqs) / total
    spread = np.sqrt(np.maximum((p @ freqs**2) / total - centroid**2, 0.0))
    flatness = np.exp(np.log(p + 1e-12).mean(axis=1)) / (p.mean(axis=1) + 1e-12)
    bright = np.array(
        [
            np.log2(centroid.mean() / 1000.0 + 1e-3),
            np.log2(spread.mean() / 1000.0 + 1e-3),
            np.log10(flatness.mean() + 1e-6) / 3.0 + 1.0,
            centroid.std() / 1000.0,
        ]
    )

    rhythm = _rhythm(logmel)
    chroma = (power @ dsp.chroma_map(SAMPLE_RATE, N_FFT)).sum(axis=0)
    chroma = chroma / (chroma.sum() + 1e-12) - 1.0 / 12.0

    db = 10.0 * np.log10(frame_energy + 1e-10)
    level = np.array([(db.mean() + 30.0) / 30.0, db.std() / 10.0])

    groups = {"shape": shape, "motion": motion, "bright": bright, "rhythm": rhythm, "chroma": chroma,
              "level": level}
    parts = [GROUP_WEIGHTS[name] * unit(vec) for name, vec in groups.items()]
    return unit(np.concatenate(parts))


def _rhythm(logmel: np.ndarray) -> np.ndarray:
    """Onset-envelope autocorrelation sampled at TEMPO_BINS (periodicity strength per tempo), centred."""
    flux = np.maximum(np.diff(logmel, axis=0), 0.0).sum(axis=1)
    if len(flux) < 8:
        return np.zeros(len(TEMPO_BINS))
    flux = flux - flux.mean()
    n = len(flux)
    spec = np.fft.rfft(flux, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / (ac[0] + 1e-12)
    frame_rate = SAMPLE_RATE / HOP
    lags = 60.0 * frame_rate / TEMPO_BINS
    values = np.interp(lags, np.arange(n), ac, right=0.0)
    return values - values.mean()
