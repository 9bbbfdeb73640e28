"""Decode one file, cut it into windows and embed them: the unit of work the indexer runs in parallel.

An encoder with `open_stream()` (see `StreamingEncoder`) is fed the decoded blocks and asked for each window's
vector by sample range, so work shared by overlapping windows (the descriptor's STFT) is done once; any other
encoder gets the windows' samples in batches through `embed_audio`. Window times are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from worker.encoders.base import Encoder, unit
from worker.library.decode import DecodeError, stream_mono
from worker.library.windows import WindowPlan, windows
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


class WindowStream(Protocol):
    def feed(self, block: np.ndarray) -> None: ...
    def finish(self) -> None: ...
    def embed_range(self, start: int, end: int) -> np.ndarray: ...
    def release(self, before: int) -> None: ...


class StreamingEncoder(Protocol):
    """What an encoder offers to embed a whole file in one pass: a stream that takes decoded blocks in order and
    returns the unit vector of any sample range whose samples it has been fed (and not released)."""

    def open_stream(self) -> WindowStream: ...


def embed_file(path: str, encoder: Encoder, *, window_s: float = WINDOW_SECONDS,
               hop_s: float = HOP_SECONDS) -> Embedded:
    """Never raises for a bad file: the reason is returned in `error` so the batch goes on."""
    out = Embedded(path)
    sr = encoder.sample_rate
    try:
        blocks = stream_mono(path, sr)
        if hasattr(encoder, "open_stream"):
            parts = _embed_stream(blocks, encoder, sr, window_s, hop_s, out)
        else:
            parts = _embed_windows(blocks, encoder, sr, window_s, hop_s, out)
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


def _embed_windows(blocks: Iterable[np.ndarray], encoder: Encoder, sr: int, window_s: float, hop_s: float,
                   out: Embedded) -> list[np.ndarray]:
    batch: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    for win in windows(blocks, sr, window_s, hop_s):
        out.starts.append(win.start_s)
        out.ends.append(win.end_s)
        out.duration_s = win.end_s
        batch.append(win.samples)
        if len(batch) == EMBED_BATCH:
            parts.append(encoder.embed_audio(batch))
            batch = []
    if batch:
        parts.append(encoder.embed_audio(batch))
    return parts


def _embed_stream(blocks: Iterable[np.ndarray], encoder: StreamingEncoder, sr: int, window_s: float, hop_s: float,
                  out: Embedded) -> list[np.ndarray]:
    stream = encoder.open_stream()
    plan = WindowPlan(sr, window_s, hop_s)
    vectors: list[np.ndarray] = []

    def emit(ranges: list[tuple[int, int]]) -> None:
        for start, end in ranges:
            out.starts.append(start / sr)
            out.ends.append(end / sr)
            out.duration_s = end / sr
            vectors.append(stream.embed_range(start, end))

    total = 0
    for block in blocks:
        stream.feed(block)
        total += len(block)
        emit(plan.ready(total))
        stream.release(min(plan.next_start, total - plan.win))  # the end-aligned tail may reach back one window
    stream.finish()
    emit(plan.finish(total))
    return [np.stack(vectors)] if vectors else []
