"""RIFF chunks: build them and read them back (what BWF, acid and iXML metadata live in).

Written by hand rather than through soundfile because libsndfile cannot write `acid` or `iXML`, and a
TimeReference that is off by one sample puts every stem in the wrong place.
"""

from __future__ import annotations

import struct
from pathlib import Path

RIFF_LIMIT = 0xFFFFFFFF  # RIFF sizes are uint32: larger files need RF64, which we do not write


def chunk(chunk_id: bytes, payload: bytes) -> bytes:
    """id (4 bytes) + little-endian uint32 size + payload + a pad byte when the size is odd."""
    if len(chunk_id) != 4:
        raise ValueError(f"chunk id must be 4 bytes, got {chunk_id!r}")
    pad = b"\x00" if len(payload) % 2 else b""
    return chunk_id + struct.pack("<I", len(payload)) + payload + pad


def riff_wave(chunks: list[bytes]) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    if len(body) > RIFF_LIMIT:
        raise ValueError("WAV over 4 GB: export a shorter region or fewer channels (RF64 is not written)")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read_chunks(source: bytes | str | Path) -> list[tuple[bytes, bytes]]:
    """[(id, payload)] of a RIFF/WAVE file in file order; ValueError when it is not one."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    end = min(8 + struct.unpack_from("<I", data, 4)[0], len(data))
    out: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= end:
        chunk_id = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if pos + 8 + size > len(data):
            raise ValueError(f"chunk {chunk_id!r} runs past the end of the file")
        out.append((chunk_id, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size % 2)
    return out
