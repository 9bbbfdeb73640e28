"""A training clip as symbolic parts (what gets rendered) plus the exact facts its captions are made from."""

from __future__ import annotations

from dataclasses import dataclass, field

Note = tuple[float, float, int, int]  # start_s, end_s, pitch, velocity


@dataclass
class Part:
    program: int
    is_drum: bool
    notes: list[Note]
    volume: int = 100  # MIDI CC7, the part's level in the mix
    pan: int = 64


@dataclass
class Clip:
    parts: list[Part]
    seconds: float
    bpm: float
    source: str  # the piece it came from: held-out splits are by source
    mode: str | None = None  # "major" / "minor" when known exactly (or confidently)
    style: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def melodic(self) -> list[Part]:
        return [p for p in self.parts if not p.is_drum and p.notes]

    def has_drums(self) -> bool:
        return any(p.is_drum and p.notes for p in self.parts)
