"""Streamed decoding to mono float32 at a target rate, so a multi-hour file never sits whole in memory.

soundfile (libsndfile) reads wav/flac/mp3 fastest; PyAV (ffmpeg) takes everything else, including the audio
track of video files, and Ogg Vorbis and Opus, which ffmpeg's own decoders read 1.25x and 3x faster. Both paths
decode at the file's native rate, downmix by summing channels (numpy's strided mean over the channel axis costs as
much as decoding) and resample block by block with soxr, which is ~20x cheaper per second of audio than PyAV's
per-frame resampler.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

BLOCK_SECONDS = 20.0
MIN_SECONDS = 0.5  # shorter than this is not music we can index
RESAMPLE_QUALITY = "HQ"  # soxr preset; resampling is < 5 % of decoding time, so there is no reason to go lower
FFMPEG_FIRST_SUBTYPES = frozenset({"OPUS", "VORBIS"})  # libsndfile decodes these, but slower than ffmpeg (3x, 1.25x)

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
    except _PreferFfmpeg:
        blocks = None
    except Exception as exc:  # libsndfile refuses: try ffmpeg before giving up
        first_error = _short(exc)
        blocks = None
    if blocks is not None:
        yield from _checked(first, blocks, sample_rate)
        return
    try:
        blocks = _pyav_blocks(path, sample_rate, block_seconds)
        first = next(blocks, None)
    except DecodeError:
        raise
    except Exception as exc:
        if first_error:
            raise DecodeError(f"not a readable audio file (soundfile: {first_error}; ffmpeg: {_short(exc)})") from exc
        try:  # ffmpeg was only preferred for speed: some Vorbis headers it rejects, libsndfile reads
            blocks = _soundfile_blocks(path, sample_rate, block_seconds, prefer_ffmpeg=False)
            first = next(blocks, None)
        except Exception as again:
            raise DecodeError(f"not a readable audio file (ffmpeg: {_short(exc)}; "
                              f"soundfile: {_short(again)})") from again
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


class _PreferFfmpeg(Exception):
    """libsndfile can read the file, but ffmpeg reads it much faster."""


def _soundfile_blocks(path: Path, sample_rate: int, block_seconds: float,
                      prefer_ffmpeg: bool = True) -> Iterator[np.ndarray]:
    import soundfile as sf

    raw = open(path, "rb")  # noqa: SIM115 - closed by the generator; libsndfile cannot open non-UTF-8 str names
    try:
        handle = sf.SoundFile(raw)
    except Exception:
        raw.close()
        raise
    if prefer_ffmpeg and handle.subtype in FFMPEG_FIRST_SUBTYPES:
        handle.close()
        raw.close()
        raise _PreferFfmpeg(handle.subtype)
    return _sf_iter(raw, handle, sample_rate, block_seconds)


def _sf_iter(raw, handle, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
    with raw, handle:
        rate = handle.samplerate
        frames = max(int(block_seconds * rate), 1)
        stream = _resampler(rate, sample_rate)
        while True:
            data = handle.read(frames, dtype="float32", always_2d=True)
            last = len(data) < frames
            mono = downmix(data.T)
            out = mono if stream is None else stream.resample_chunk(mono, last=last)
            if len(out):
                yield out
            if last:
                return


def downmix(channels: np.ndarray) -> np.ndarray:
    """(C, N) (any strides) → contiguous float32 mono: the channel mean, summed row by row (fast for any layout)."""
    if len(channels) == 1:
        return np.ascontiguousarray(channels[0], dtype=np.float32)
    out = np.array(channels[0], dtype=np.float32)
    for row in channels[1:]:
        out += row
    out *= np.float32(1.0 / len(channels))
    return out


def _resampler(rate: int, sample_rate: int):
    import soxr

    if rate == sample_rate:
        return None
    return soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)


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
    """Frames go into an AudioFifo (one C call each: a decoded frame holds only ~20 ms) and leave it in blocks,
    which are downmixed and resampled at once; a stream that changes format, layout or rate starts a new fifo."""
    import av

    with raw, container:
        stream = container.streams.audio[0]
        fifo = resampler = None
        target = 0
        for frame in _frames(container, stream):
            frame.pts = None  # gaps from skipped corrupt packets are not the fifo's business
            try:
                if fifo is None:
                    raise ValueError("first frame")
                fifo.write(frame)
            except ValueError:
                if fifo is not None:
                    yield from _drain(fifo, resampler, last=True)
                fifo = av.AudioFifo()
                fifo.write(frame)
                resampler = _resampler(frame.sample_rate, sample_rate)
                target = int(block_seconds * frame.sample_rate)
            if fifo.samples >= target:
                yield from _drain(fifo, resampler, last=False)
        if fifo is not None:
            yield from _drain(fifo, resampler, last=True)


def _drain(fifo, resampler, *, last: bool) -> Iterator[np.ndarray]:
    frame = fifo.read()
    block = _frame_mono(frame) if frame is not None else np.zeros(0, np.float32)
    out = block if resampler is None else resampler.resample_chunk(block, last=last)
    if len(out):
        yield out


def _frame_mono(frame) -> np.ndarray:
    """A decoded frame (or a fifo's block of them) as float32 mono at its own rate; float frames (what ffmpeg's
    audio decoders give) straight from the plane buffers."""
    name = frame.format.name
    if name in ("fltp", "flt"):
        n, channels = frame.samples, len(frame.layout.channels)
        planes = frame.planes
        if name == "flt":
            data = np.frombuffer(planes[0], np.float32, n * channels)
            return data if channels == 1 else downmix(data.reshape(n, channels).T)
        out = np.frombuffer(planes[0], np.float32, n)
        if channels == 1:
            return out
        out = out + np.frombuffer(planes[1], np.float32, n)
        for plane in planes[2:channels]:
            out += np.frombuffer(plane, np.float32, n)
        out *= np.float32(1.0 / channels)
        return out
    return _any_frame_mono(frame)


def _any_frame_mono(frame) -> np.ndarray:
    """Integer and double sample formats, planar or packed."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    if data.dtype.kind in "iu":
        info = np.iinfo(data.dtype)
        offset = (info.max + 1) / 2 if data.dtype.kind == "u" else 0.0
        data = (data.astype(np.float32) - offset) / float(info.max - offset + 1)
    return downmix(data)


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
