"""Notes and parts in beats (quarter notes): the arranger's output before it becomes MIDI ticks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_VELOCITY, MAX_VELOCITY = 1, 127
OFFBEAT = 0.5  # the eighth between two beats, the one swing delays
EPSILON = 1e-9


@dataclass(frozen=True)
class Note:
    start: float  # beats from the start of the cue
    length: float  # beats
    pitch: int
    velocity: int


@dataclass
class Part:
    """One stem: every note one instrument plays (a solo instrument merges its roles into one part)."""

    name: str
    program: int
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)

    def add(self, start: float, length: float, pitch: int, velocity: float) -> None:
        if length <= EPSILON:
            return
        self.notes.append(Note(start=start, length=length, pitch=int(pitch), velocity=clamp_velocity(velocity)))


def clamp_velocity(velocity: float) -> int:
    return int(min(max(round(velocity), MIN_VELOCITY), MAX_VELOCITY))


def swung(position: float, swing: float) -> float:
    """Delay off-beat eighths by `swing` beats (1/6 turns straight eighths into a triplet shuffle)."""
    if swing and abs(position % 1.0 - OFFBEAT) < EPSILON:
        return position + swing
    return position


def humanise(velocity: float, rng: np.random.Generator, spread: float = 6.0) -> float:
    """A seeded nudge so repeated hits do not sound machine-identical (still reproducible from the seed)."""
    return velocity + float(rng.uniform(-spread, spread))
