"""A cue's waveform for the timeline: min/max per short bin, read in blocks so a long file never sits in memory.

Pure functions of a path: run them off the GUI thread. soundfile reads WAV/FLAC/OGG/MP3; anything else
(m4a, aac, a video's soundtrack) goes through PyAV.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

BINS_PER_SECOND = 200  # 5 ms per bin: finer than a pixel at any zoom the timeline offers for a cue
BLOCK_SECONDS = 4.0

Cancelled = Callable[[], bool]


class AudioError(RuntimeError):
    """The file cannot be decoded; the message names it."""


@dataclass(frozen=True)
class Envelope:
    mins: np.ndarray  # (bins,) float32, -1…0
    maxs: np.ndarray  # (bins,) float32, 0…1
    duration_s: float
    bins_per_second: float

    @property
    def peak(self) -> float:
        return float(max(self.maxs.max(initial=0.0), -self.mins.min(initial=0.0)))

    def columns(self, start_s: float, end_s: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(mins, maxs) for `count` equal columns covering [start_s, end_s) (zeros outside the audio)."""
        lo, hi = np.zeros(count, np.float32), np.zeros(count, np.float32)
        starts = np.floor(np.linspace(start_s, end_s, count + 1)[:-1] * self.bins_per_second).astype(np.int64)
        stop = min(len(self.maxs), int(np.ceil(end_s * self.bins_per_second)))
        inside = (starts >= 0) & (starts < stop)
        if inside.any():
            # reduceat over non-decreasing starts: each column spans its bins up to the next column's start
            idx = starts[inside]
            lo[inside] = np.minimum.reduceat(self.mins[:stop], idx)
            hi[inside] = np.maximum.reduceat(self.maxs[:stop], idx)
        return lo, hi


def load_envelope(path: str | os.PathLike[str], bins_per_second: float = BINS_PER_SECOND,
                  cancelled: Cancelled | None = None) -> Envelope:
    """Min/max of the mono mix per 1/bins_per_second; raises AudioError if unreadable."""
    mins: list[np.ndarray] = []
    maxs: list[np.ndarray] = []
    frames = 0
    rate = 0
    for block, rate in _mono_blocks(path, bins_per_second):
        if cancelled is not None and cancelled():
            raise AudioError(f"{path}: cancelled")
        bin_frames = max(1, round(rate / bins_per_second))
        usable = len(block) - len(block) % bin_frames
        if usable:
            shaped = block[:usable].reshape(-1, bin_frames)
            mins.append(shaped.min(axis=1))
            maxs.append(shaped.max(axis=1))
        if usable < len(block):
            mins.append(block[usable:].min(keepdims=True))
            maxs.append(block[usable:].max(keepdims=True))
        frames += len(block)
    if not rate:
        raise AudioError(f"{path}: no audio")
    lo = np.concatenate(mins) if mins else np.zeros(0, np.float32)
    hi = np.concatenate(maxs) if maxs else np.zeros(0, np.float32)
    return Envelope(np.minimum(lo, 0).astype(np.float32), np.maximum(hi, 0).astype(np.float32), frames / rate,
                    rate / max(1, round(rate / bins_per_second)))


def _block_frames(rate: int, bins_per_second: float) -> int:
    bin_frames = max(1, round(rate / bins_per_second))
    return bin_frames * max(1, round(BLOCK_SECONDS * rate / bin_frames))


def _mono_blocks(path: str | os.PathLike[str], bins_per_second: float) -> Iterator[tuple[np.ndarray, int]]:
    """Mono float32 blocks whose length is a multiple of any sensible bin size (so bins never straddle)."""
    import soundfile as sf

    try:
        f = sf.SoundFile(str(path))
    except (RuntimeError, sf.LibsndfileError, OSError):
        yield from _av_mono_blocks(path, bins_per_second)
        return
    with f:
        block = _block_frames(f.samplerate, bins_per_second)
        for data in f.blocks(blocksize=block, always_2d=True, dtype="float32"):
            yield data.mean(axis=1), f.samplerate


def _av_mono_blocks(path: str | os.PathLike[str], bins_per_second: float) -> Iterator[tuple[np.ndarray, int]]:
    """Everything libsndfile does not read; blocks are regrouped so bins stay aligned across decoder frames."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise AudioError(f"{path}: cannot decode audio ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: has no audio stream")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        block = _block_frames(rate, bins_per_second)
        pending: list[np.ndarray] = []
        size = 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray().reshape(-1))
                size += out.samples
            if size >= block:
                joined = np.concatenate(pending)
                yield joined[:block], rate
                pending, size = [joined[block:]], len(joined) - block
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1))
        if pending and sum(len(p) for p in pending):
            yield np.concatenate(pending), rate
