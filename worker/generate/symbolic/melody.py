"""Melody: a seeded two-bar rhythmic motif, repeated and varied per section, whose pitches land on chord
tones on strong beats and move by scale steps between them; the cadence walks to the tonic."""

from __future__ import annotations

import numpy as np

from worker.generate.symbolic.form import Bar
from worker.generate.symbolic.notes import Part, humanise, swung
from worker.generate.symbolic.plan import CuePlan
from worker.generate.symbolic.styles import Instrument
from worker.generate.symbolic.theory import nearest_pitch, scale_pitch_classes

VELOCITY = 88
GAP = 0.08
STEP = 0.5  # the motif's grid: eighth notes
MOTIF_BARS = 2
MAX_LEAP = 5  # semitones a strong-beat chord tone may lie from the previous note
MAX_NOTE = 2.0  # beats a note may be held before the next onset
VARIATION = 0.2  # chance a motif repetition drops or adds one onset
B_SECTION_LIFT = 3  # semitones the B section's melody is centred higher


def melody_part(part: Part, form: list[Bar], plan: CuePlan, instrument: Instrument, rng: np.random.Generator,
                end_length: float) -> None:
    bpb = plan.beats_per_bar
    scale = sorted(p for p in range(instrument.low, instrument.high + 1)
                   if p % 12 in scale_pitch_classes(plan.tonic, plan.mode))
    motif = _motif(bpb, plan.density, rng)
    pitch = nearest_pitch(plan.tonic, instrument.centre, instrument.low, instrument.high)
    direction = 1
    for bar in form:
        start = bar.index * bpb
        if bar.section == "intro":
            continue
        if bar.section == "end":
            part.add(start, end_length, nearest_pitch(plan.tonic, pitch, instrument.low, instrument.high), VELOCITY)
            continue
        centre = instrument.centre + (B_SECTION_LIFT if bar.section == "B" else 0)
        onsets = _bar_onsets(motif, bar, bpb, rng)
        if bar.section == "cadence":
            onsets = [o for o in onsets if o < bpb / 2] or [0.0]
        for k, onset in enumerate(onsets):
            following = onsets[k + 1] if k + 1 < len(onsets) else float(bpb)
            strong = onset % 1 == 0 and (onset % 2 == 0 or bpb == 3)
            if strong:
                pitch = _chord_tone(bar, pitch, direction, instrument, rng)
            else:
                pitch, direction = _step(scale, pitch, direction, rng)
            if abs(pitch - centre) > 9:  # drifted out of the comfortable middle: turn around
                direction = -1 if pitch > centre else 1
            length = min(following - onset, MAX_NOTE)
            position = swung(onset, plan.swing)
            part.add(start + position, length - GAP, pitch, humanise(VELOCITY * (0.8 + 0.3 * bar.energy), rng))


def _motif(bpb: int, density: float, rng: np.random.Generator) -> list[float]:
    """Onsets (beats) over MOTIF_BARS bars: downbeat always, strong beats likelier, phrase end left open."""
    slots = int(MOTIF_BARS * bpb / STEP)
    onsets = []
    for i in range(slots):
        position = i * STEP
        if position == 0:
            onsets.append(position)
            continue
        if position >= MOTIF_BARS * bpb - 1:  # breathe before the next phrase
            continue
        on_beat = position % 1 == 0
        chance = (0.3 + 0.5 * density) if on_beat else (0.1 + 0.45 * density)
        if rng.random() < chance:
            onsets.append(position)
    return onsets


def _bar_onsets(motif: list[float], bar: Bar, bpb: int, rng: np.random.Generator) -> list[float]:
    half = (bar.bar_in_section % MOTIF_BARS) * bpb
    onsets = [o - half for o in motif if half <= o < half + bpb]
    if rng.random() < VARIATION and len(onsets) > 1:
        onsets.pop(int(rng.integers(1, len(onsets))))
    return onsets or [0.0]


def _chord_tone(bar: Bar, previous: int, direction: int, instrument: Instrument, rng: np.random.Generator) -> int:
    target = previous + direction * int(rng.integers(0, MAX_LEAP))
    candidates = [nearest_pitch(pc, target, instrument.low, instrument.high) for pc in bar.chord.pitch_classes]
    return min(candidates, key=lambda p: (abs(p - target), p))


def _step(scale: list[int], previous: int, direction: int, rng: np.random.Generator) -> tuple[int, int]:
    if rng.random() < 0.25:
        direction = -direction
    index = int(np.searchsorted(scale, previous))
    index = min(max(index + direction * int(rng.choice((1, 1, 2))), 0), len(scale) - 1)
    if index in (0, len(scale) - 1):
        direction = -direction
    return scale[index], direction
