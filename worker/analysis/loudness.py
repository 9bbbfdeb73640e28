"""EBU R128 / ITU-R BS.1770 integrated loudness with pyloudnorm, on the file's own channels when possible."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.library.decode import decode_mono

MIN_LOUDNESS_SECONDS = 0.4  # one BS.1770 gating block
FALLBACK_RATE = 48000


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness in LUFS of (n,) or (n, channels) samples; None for silence or too-short audio."""
    import pyloudnorm

    samples = np.asarray(samples, np.float64)
    if len(samples) < MIN_LOUDNESS_SECONDS * sample_rate:
        return None
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(samples))
    return value if np.isfinite(value) else None


def read_channels(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples (n, channels) float32, rate): soundfile keeps the channels; other formats fall back to mono."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return data, int(rate)
    except Exception:  # not a libsndfile format (m4a, video...): the decoder's mono mix is what we have
        return decode_mono(path, FALLBACK_RATE)[:, None], FALLBACK_RATE
