"""Streamed decoding to mono float32 at a target rate, so a multi-hour file never sits whole in memory.

soundfile (libsndfile) reads wav/flac/ogg/mp3 fastest; PyAV (ffmpeg) takes everything else, including the
audio track of video files. Both paths downmix and resample block by block.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

BLOCK_SECONDS = 20.0
MIN_SECONDS = 0.5  # shorter than this is not music we can index

AUDIO_EXTENSIONS = frozenset(
    ".wav .wave .flac .ogg .oga .opus .mp3 .m4a .aac .aif .aiff .aifc .wma .mka .caf .w64".split()  # noqa: SIM905
)
VIDEO_EXTENSIONS = frozenset(".mp4 .m4v .mov .mkv .webm .avi .mpg .mpeg .mts .m2ts .mxf".split())  # noqa: SIM905
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS


class DecodeError(Exception):
    """A file that cannot be decoded; the message says why in words a user understands."""


def stream_mono(path: str | Path, sample_rate: int, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Yield consecutive mono float32 blocks of `path` resampled to `sample_rate`.

    Raises DecodeError (before the first block) when neither decoder can open the file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise DecodeError("empty file (0 bytes)")
    first_error = ""
    try:
        blocks = _soundfile_blocks(path, sample_rate, block_seconds)
        first = next(blocks, None)
    except Exception as exc:  # libsndfile refuses: try ffmpeg before giving up
        first_error = _short(exc)
    else:
        yield from _checked(first, blocks, sample_rate)
        return
    try:
        blocks = _pyav_blocks(path, sample_rate, block_seconds)
        first = next(blocks, None)
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(f"not a readable audio file (soundfile: {first_error}; ffmpeg: {_short(exc)})") from exc
    yield from _checked(first, blocks, sample_rate)


def decode_mono(path: str | Path, sample_rate: int, max_seconds: float | None = None) -> np.ndarray:
    """Whole (or the first `max_seconds` of) a file in memory: for queries and short clips, not indexing."""
    out: list[np.ndarray] = []
    total = 0
    limit = None if max_seconds is None else int(max_seconds * sample_rate)
    for block in stream_mono(path, sample_rate):
        out.append(block)
        total += len(block)
        if limit is not None and total >= limit:
            break
    wave = np.concatenate(out) if out else np.zeros(0, np.float32)
    return wave[:limit] if limit is not None else wave


def _checked(first: np.ndarray | None, rest: Iterator[np.ndarray], sample_rate: int) -> Iterator[np.ndarray]:
    if first is None or len(first) < MIN_SECONDS * sample_rate:
        # both decoders emit full blocks except at the end, so a short first block means a short file
        raise DecodeError(f"no audio (shorter than {MIN_SECONDS:g} s)")
    yield first
    try:
        yield from rest
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(f"corrupt or truncated audio: {_short(exc)}") from exc


def _soundfile_blocks(path: Path, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    import soundfile as sf

    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator; libsndfile cannot open non-UTF-8 str names
    try:
        handle = sf.SoundFile(raw)
    except Exception:
        raw.close()
        raise
    return _sf_iter(raw, handle, sample_rate, block_seconds)


def _sf_iter(raw, handle, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    import soxr

    with raw, handle:
        rate = handle.samplerate
        frames = max(int(block_seconds * rate), 1)
        stream = None if rate == sample_rate else soxr.ResampleStream(rate, sample_rate, 1, dtype="float32")
        while True:
            data = handle.read(frames, dtype="float32", always_2d=True)
            last = len(data) < frames
            mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
            out = mono if stream is None else stream.resample_chunk(mono, last=last)
            if len(out):
                yield out
            if last:
                return


def _pyav_blocks(path: Path, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    import av

    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator that reads it
    try:
        container = av.open(raw, metadata_errors="ignore")
    except Exception:
        raw.close()
        raise
    if not container.streams.audio:
        container.close()
        raw.close()
        raise DecodeError("no audio track")
    return _av_iter(raw, container, sample_rate, block_seconds)


def _av_iter(raw, container, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    import av

    target = int(block_seconds * sample_rate)
    with raw, container:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        pending: list[np.ndarray] = []
        count = 0
        for frame in _frames(container, stream):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                pending.append(chunk)
                count += len(chunk)
                if count >= target:
                    yield np.concatenate(pending)
                    pending, count = [], 0
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        if pending:
            block = np.concatenate(pending)
            if len(block):
                yield block


def _frames(container, stream):
    """Decoded frames; a corrupt packet mid-file is skipped like players do, a broken stream ends decoding."""
    import av

    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            continue


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
