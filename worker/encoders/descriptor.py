"""`descriptor`: a learning-free acoustic encoder for find-similar and as a last-resort offline default.

Each window becomes a handful of feature groups — spectral shape (log-mel mean, centred), its movement (log-mel
std), brightness statistics, rhythm (onset-envelope autocorrelation over a log-tempo axis), harmony (chroma) and
level — each centred, scaled to unit length and weighted, so cosine similarity compares like with like. No text
or image tower: text search needs `offline` or `clap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

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


N_BINS = N_FFT // 2 + 1
# Columns of the per-frame feature matrix every window is pooled from (see `frame_features`).
LOGMEL = slice(0, N_MELS)
CHROMA = slice(N_MELS, N_MELS + 12)
ENERGY, CENTROID_SUM, SECOND_MOMENT_SUM, FLATNESS = range(N_MELS + 12, N_MELS + 16)
N_FEATURES = N_MELS + 16
LOG_FLOOR = 1e-8
LOUD_RELATIVE, LOUD_ABSOLUTE = 1e-4, 1e-10  # frames quieter than this (vs the window's loudest) are silence


class DescriptorEncoder(Encoder):
    id = "descriptor"
    version = "2"  # 2: windows pool frames on the file's STFT grid (DescriptorStream); 1 embedded each window alone
    sample_rate = SAMPLE_RATE
    parallel = "processes"  # numpy-bound and cheap to pickle: the indexer runs it in worker processes

    def __init__(self) -> None:
        self.dim = len(self.embed_audio([np.zeros(SAMPLE_RATE, np.float32)])[0])

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack([_describe(np.asarray(w, np.float32)) for w in waves]).astype(np.float32)

    def open_stream(self) -> DescriptorStream:
        """A per-file stream: each STFT frame is computed once although windows overlap (see DescriptorStream)."""
        return DescriptorStream()


class DescriptorStream:
    """Frame features of one file, fed block by block; a window's vector is pooled from the frames inside it.

    Windows overlap by half, so computing the STFT once per file halves the work of `embed_audio` on each window.
    A window starting at sample s uses the file's frames from s // HOP on, i.e. frames up to HOP - 1 samples
    (32 ms) earlier than its own STFT would. Where s is a multiple of HOP the vector equals `embed_audio` of the
    window; elsewhere every group but rhythm matches to cosine > 0.999, and rhythm moves as much as it does when
    a query starts 8-24 ms later (onset autocorrelation of quiet, weakly periodic music is noisy). Only the
    frames a later window can still need are kept.
    """

    def __init__(self) -> None:
        self._stft = dsp.FrameStream(N_FFT, HOP)
        self._feats = np.zeros((0, N_FEATURES), np.float32)
        self._first = 0  # file frame index of self._feats[0]

    def feed(self, block: np.ndarray) -> None:
        self._append(frame_features(self._stft.push(block)))

    def finish(self) -> None:
        self._append(frame_features(self._stft.finish()))

    def embed_range(self, start: int, end: int) -> np.ndarray:
        """The vector of samples [start, end) of the file; needs every frame that ends by `end` fed."""
        count = n_frames(end - start)
        first = max(min(start // HOP, self._first + len(self._feats) - count), self._first)
        rows = self._feats[first - self._first : first - self._first + count]
        return pool(rows)

    def release(self, before: int) -> None:
        """Forget frames that start before sample `before` (no window still to come starts earlier)."""
        drop = min(max(before // HOP - self._first, 0), len(self._feats))
        self._feats = self._feats[drop:]
        self._first += drop

    def _append(self, feats: np.ndarray) -> None:
        if len(feats):
            self._feats = np.concatenate([self._feats, feats]) if len(self._feats) else feats


def n_frames(samples: int) -> int:
    """How many frames `dsp.frames` cuts from `samples` samples (a short wave is padded to one)."""
    return 1 + (samples - N_FFT) // HOP if samples >= N_FFT else 1


def _describe(wave: np.ndarray) -> np.ndarray:
    return pool(frame_features(dsp.power_spectrogram(wave, N_FFT, HOP)))


def frame_features(power: np.ndarray) -> np.ndarray:
    """(T, N_FEATURES) per-frame sums every window statistic is pooled from: log-mel, chroma energy, energy,
    first and second spectral moments (kHz) and spectral flatness. One float32 matrix product does the linear
    ones, so a frame costs the same whichever window it ends up in."""
    out = power @ _projection()
    out[:, LOGMEL] = np.log10(out[:, LOGMEL] + np.float32(LOG_FLOOR))
    mean_power = out[:, ENERGY] / np.float32(N_BINS)
    geometric = np.exp(np.log(power + np.float32(1e-12)).mean(axis=1))
    out[:, FLATNESS] = geometric / (mean_power + np.float32(1e-12))
    return out


def pool(feats: np.ndarray) -> np.ndarray:
    """A window's unit descriptor from the feature rows of its frames."""
    logmel = feats[:, LOGMEL]
    energy = feats[:, ENERGY].astype(np.float64)
    loud = energy > max(energy.max() * LOUD_RELATIVE, LOUD_ABSOLUTE)  # silent frames don't shape the statistics
    active = feats[loud] if loud.any() else feats

    shape = active[:, LOGMEL].mean(axis=0)
    shape = shape - shape.mean()
    motion = active[:, LOGMEL].std(axis=0)
    motion = motion - motion.mean()

    total = active[:, ENERGY].astype(np.float64) + 1e-12
    centroid = active[:, CENTROID_SUM] / total  # kHz
    spread = np.sqrt(np.maximum(active[:, SECOND_MOMENT_SUM] / total - centroid**2, 0.0))
    bright = np.array(
        [
            np.log2(centroid.mean() + 1e-3),
            np.log2(spread.mean() + 1e-3),
            np.log10(active[:, FLATNESS].mean() + 1e-6) / 3.0 + 1.0,
            centroid.std(),
        ]
    )

    rhythm = _rhythm(logmel)
    chroma = feats[:, CHROMA].sum(axis=0, dtype=np.float64)
    chroma = chroma / (chroma.sum() + 1e-12) - 1.0 / 12.0

    db = 10.0 * np.log10(energy + 1e-10)
    level = np.array([(db.mean() + 30.0) / 30.0, db.std() / 10.0])

    groups = {"shape": shape, "motion": motion, "bright": bright, "rhythm": rhythm, "chroma": chroma,
              "level": level}
    parts = [GROUP_WEIGHTS[name] * unit(vec) for name, vec in groups.items()]
    return unit(np.concatenate(parts))


@lru_cache(maxsize=1)
def _projection() -> np.ndarray:
    """(N_BINS, N_FEATURES) linear maps from a power spectrum: mel bank, chroma map, 1, f and f² in kHz."""
    f_khz = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE) / 1000.0
    out = np.zeros((N_BINS, N_FEATURES), np.float32)
    out[:, LOGMEL] = dsp.mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, FMIN, FMAX)
    out[:, CHROMA] = dsp.chroma_map(SAMPLE_RATE, N_FFT)
    out[:, ENERGY] = 1.0
    out[:, CENTROID_SUM] = f_khz
    out[:, SECOND_MOMENT_SUM] = f_khz**2
    return out


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
