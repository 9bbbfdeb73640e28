"""WAV/BWF files: PCM 16/24-bit or 32-bit float, with `bext`, `acid` and optional `iXML` chunks.

`build_wav` returns the bytes (pure); `files.write_atomic` puts them on disk.
"""

from __future__ import annotations

import struct

import numpy as np

from worker.export.riff import chunk, riff_wave

BIT_DEPTHS = (16, 24, 32)  # 32 = IEEE float
FORMAT_PCM = 1
FORMAT_FLOAT = 3


def encode_samples(samples: np.ndarray, bit_depth: int) -> bytes:
    """Interleaved little-endian sample bytes; PCM is clipped to full scale and rounded, never wrapped."""
    data = np.asarray(samples, np.float64)
    data = data[:, None] if data.ndim == 1 else data
    if bit_depth == 32:
        return data.astype("<f4").tobytes()
    if bit_depth not in BIT_DEPTHS:
        raise ValueError(f"bit depth must be one of {BIT_DEPTHS}, got {bit_depth}")
    full = 2 ** (bit_depth - 1)
    ints = np.clip(np.round(data * full), -full, full - 1).astype("<i4")
    if bit_depth == 16:
        return ints.astype("<i2").tobytes()
    raw = ints.reshape(-1).view(np.uint8).reshape(-1, 4)[:, :3]  # little-endian: drop the top byte
    return raw.tobytes()


def fmt_payload(channels: int, sample_rate: int, bit_depth: int) -> bytes:
    tag = FORMAT_FLOAT if bit_depth == 32 else FORMAT_PCM
    block = channels * bit_depth // 8
    return struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block, block, bit_depth)


def build_wav(samples: np.ndarray, sample_rate: int, bit_depth: int = 24, metadata: list[bytes] = ()) -> bytes:
    """A complete RIFF/WAVE file: fmt, (fact for float), the metadata chunks, then data last."""
    frames = len(samples)
    channels = 1 if np.ndim(samples) == 1 else int(np.shape(samples)[1])
    chunks = [chunk(b"fmt ", fmt_payload(channels, sample_rate, bit_depth))]
    if bit_depth == 32:
        chunks.append(chunk(b"fact", struct.pack("<I", frames)))
    chunks.extend(metadata)
    chunks.append(chunk(b"data", encode_samples(samples, bit_depth)))
    return riff_wave(chunks)
