"""Decode one file, cut it into windows and embed them: the unit of work the indexer runs in parallel."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worker.encoders.base import Encoder, unit
from worker.library.decode import DecodeError, stream_mono
from worker.library.windows import windows
from worker.settings import HOP_SECONDS, WINDOW_SECONDS

EMBED_BATCH = 32


@dataclass
class Embedded:
    path: str
    duration_s: float = 0.0
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    vectors: np.ndarray | None = None  # (n_windows, d)
    error: str | None = None

    @property
    def track_vector(self) -> np.ndarray:
        """The whole track as one vector: the normalised mean of its windows."""
        assert self.vectors is not None
        return unit(self.vectors.mean(axis=0))


def embed_file(path: str, encoder: Encoder, *, window_s: float = WINDOW_SECONDS,
               hop_s: float = HOP_SECONDS) -> Embedded:
    """Never raises for a bad file: the reason is returned in `error` so the batch goes on."""
    out = Embedded(path)
    sr = encoder.sample_rate
    batch: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    try:
        for win in windows(stream_mono(path, sr), sr, window_s, hop_s):
            out.starts.append(win.start_s)
            out.ends.append(win.end_s)
            out.duration_s = win.end_s
            batch.append(win.samples)
            if len(batch) == EMBED_BATCH:
                parts.append(encoder.embed_audio(batch))
                batch = []
        if batch:
            parts.append(encoder.embed_audio(batch))
    except DecodeError as exc:
        out.error = str(exc)
        return out
    except MemoryError:
        out.error = "out of memory while decoding"
        return out
    if not parts:
        out.error = "no audio"
        return out
    vectors = np.concatenate(parts)
    if not np.isfinite(vectors).all():
        out.error = "the encoder produced invalid values for this file"
        return out
    out.vectors = vectors
    return out
