"""Broadcast-WAV metadata payloads: `bext` (EBU Tech 3285 v2), `acid` (tempo/beats) and `iXML`.

Builders return bytes for riff.chunk(); parsers read the same layouts back (tests and a user's check).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from xml.etree import ElementTree as ET

BEXT_FORMAT = "<256s32s32s10s8sIIH64s5h180s"  # fixed part, 602 bytes, then CodingHistory text
BEXT_VERSION = 2  # v2 adds the loudness fields
LOUDNESS_UNSET = 0x7FFF  # Tech 3285 v2: a loudness field that was not measured holds 0x7FFF
ACID_FORMAT = "<IHHfIHHf"  # 24 bytes, field order as libsndfile reads it
ACID_ROOT_VALID = 0x02
ACID_STRETCH = 0x04
ACID_UNKNOWN_FIELD = 0x8000  # the second uint16, as ACID itself writes it
MIDI_C3 = 48  # acid root notes count from C at 48 in ACID's numbering


@dataclass(frozen=True)
class Bext:
    description: str
    originator: str = "cuesteer"
    originator_reference: str = ""
    origination_date: str = "1970-01-01"  # yyyy-mm-dd
    origination_time: str = "00:00:00"  # hh:mm:ss (Tech 3285 allows ':' or '-' separators)
    time_reference: int = 0  # samples since midnight of the first sample
    loudness_lufs: float | None = None
    coding_history: str = ""


def _ascii(text: str, size: int) -> bytes:
    return text.encode("ascii", "replace")[:size].ljust(size, b"\x00")


def bext_payload(info: Bext) -> bytes:
    loudness = LOUDNESS_UNSET if info.loudness_lufs is None else round(info.loudness_lufs * 100)
    fixed = struct.pack(
        BEXT_FORMAT,
        _ascii(info.description, 256),
        _ascii(info.originator, 32),
        _ascii(info.originator_reference, 32),
        _ascii(info.origination_date, 10),
        _ascii(info.origination_time, 8),
        info.time_reference & 0xFFFFFFFF,
        info.time_reference >> 32,
        BEXT_VERSION,
        b"\x00" * 64,
        loudness,
        LOUDNESS_UNSET,
        LOUDNESS_UNSET,
        LOUDNESS_UNSET,
        LOUDNESS_UNSET,
        b"\x00" * 180,
    )
    return fixed + info.coding_history.encode("ascii", "replace")


def parse_bext(payload: bytes) -> Bext:
    size = struct.calcsize(BEXT_FORMAT)
    desc, orig, ref, date, time, low, high, _version, _umid, loud, *_rest = struct.unpack(
        BEXT_FORMAT, payload[:size]
    )

    def text(raw: bytes) -> str:
        return raw.split(b"\x00", 1)[0].decode("ascii", "replace")

    return Bext(
        description=text(desc),
        originator=text(orig),
        originator_reference=text(ref),
        origination_date=text(date),
        origination_time=text(time),
        time_reference=(high << 32) | low,
        loudness_lufs=None if loud == LOUDNESS_UNSET else loud / 100.0,
        coding_history=payload[size:].split(b"\x00", 1)[0].decode("ascii", "replace"),
    )


@dataclass(frozen=True)
class Acid:
    bpm: float
    beats: int
    numerator: int = 4
    denominator: int = 4
    root_note: int | None = None  # pitch class 0..11 (C = 0) when the key is known


def acid_payload(info: Acid) -> bytes:
    flags = ACID_STRETCH | (ACID_ROOT_VALID if info.root_note is not None else 0)
    root = MIDI_C3 + (info.root_note or 0)
    return struct.pack(
        ACID_FORMAT, flags, root, ACID_UNKNOWN_FIELD, 0.0, info.beats, info.denominator, info.numerator, info.bpm
    )


def parse_acid(payload: bytes) -> Acid:
    flags, root, _unknown, _zero, beats, den, num, bpm = struct.unpack(ACID_FORMAT, payload[:24])
    return Acid(bpm=bpm, beats=beats, numerator=num, denominator=den,
                root_note=(root - MIDI_C3) % 12 if flags & ACID_ROOT_VALID else None)


def ixml_payload(fields: dict[str, str], *, speed: dict[str, str] | None = None) -> bytes:
    """`<BWFXML>` with the iXML version, SPEED (timecode) and a USER block carrying our fields."""
    root = ET.Element("BWFXML")
    ET.SubElement(root, "IXML_VERSION").text = "1.61"
    for key in ("PROJECT", "SCENE", "NOTE"):
        if key in fields:
            ET.SubElement(root, key).text = fields[key]
    if speed:
        node = ET.SubElement(root, "SPEED")
        for key, value in speed.items():
            ET.SubElement(node, key).text = value
    user = ET.SubElement(root, "USER")
    for key, value in fields.items():
        if key not in ("PROJECT", "SCENE", "NOTE"):
            ET.SubElement(user, key.upper()).text = value
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def parse_ixml(payload: bytes) -> ET.Element:
    return ET.fromstring(payload.rstrip(b"\x00"))
