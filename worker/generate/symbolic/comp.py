"""Accompaniment: the chord voiced around the instrument's register and played in a style's pattern
(held pads, block chords, arpeggios, strums, power chords, jazz stabs, off-beats, oom-pah)."""

from __future__ import annotations

import numpy as np

from worker.generate.symbolic.form import Bar
from worker.generate.symbolic.notes import Part, humanise, swung
from worker.generate.symbolic.plan import CuePlan
from worker.generate.symbolic.styles import Instrument
from worker.generate.symbolic.theory import nearest_pitch, voice_chord

VELOCITY = 72
PAD_VELOCITY = 58
GAP = 0.05
STRUM_DELAY = 0.03  # beats between strings of a strum
STRUM_HITS = ((0.0, 1.0), (1.0, 0.8), (1.5, 0.6), (2.5, 0.6), (3.0, 0.8), (3.5, 0.6))  # D . D U . U D U
STAB_SLOTS = (0.0, 1.5, 2.0, 2.5, 3.5)
COMP_OCTAVE_BELOW_CENTRE = 5  # comping sits a little under the instrument's middle, leaving room for a melody


def comp_part(part: Part, form: list[Bar], plan: CuePlan, instrument: Instrument, rng: np.random.Generator,
              end_length: float, *, pattern: str | None = None) -> None:
    """Write the accompaniment of every bar into `part`; `pattern` overrides the plan's (pads hold)."""
    bpb = plan.beats_per_bar
    size = 4 if plan.sevenths else 3
    centre = instrument.centre - COMP_OCTAVE_BELOW_CENTRE
    for bar in form:
        start = bar.index * bpb
        voicing = [p for p in voice_chord(bar.chord, centre, size) if instrument.low <= p <= instrument.high + 12]
        if bar.section == "end":
            for pitch in voicing:
                part.add(start, end_length, pitch, VELOCITY)
            continue
        chosen = pattern or ("sustain" if bar.section == "intro" else plan.comp_pattern)
        velocity = PAD_VELOCITY if chosen == "sustain" else VELOCITY
        for offset, length, pitches, accent in _pattern(chosen, bar, bpb, plan, voicing, instrument, rng):
            position = swung(offset, plan.swing)
            for k, pitch in enumerate(pitches):
                delay = STRUM_DELAY * k if chosen == "strum" else 0.0
                part.add(start + position + delay, length - GAP - delay, pitch,
                         humanise(velocity * accent * (0.7 + 0.4 * bar.energy), rng))


def _pattern(pattern: str, bar: Bar, bpb: int, plan: CuePlan, voicing: list[int], instrument: Instrument,
             rng: np.random.Generator) -> list[tuple[float, float, list[int], float]]:
    """(offset in the bar, length, pitches, accent) for one bar."""
    if pattern == "sustain":
        return [(0.0, float(bpb), voicing, 1.0)]
    if pattern == "block":
        step = 1.0 if plan.density > 0.5 else 2.0
        return [(i * step, step, voicing, 1.0 if i == 0 else 0.85) for i in range(int(bpb / step))]
    if pattern == "arpeggio":
        return _arpeggio(bpb, plan, voicing)
    if pattern == "strum":
        return [(offset, 0.5 if offset % 1 else 1.0, voicing, accent) for offset, accent in STRUM_HITS
                if offset < bpb]
    if pattern == "power":
        root = nearest_pitch(bar.chord.root, instrument.low + 7, instrument.low, instrument.high)
        shape = [root, root + 7, root + 12]
        return [(i * 0.5, 0.5, shape, 1.0 if i % 2 == 0 else 0.75) for i in range(bpb * 2)]
    if pattern == "ostinato":
        root = nearest_pitch(bar.chord.root, instrument.low + 10, instrument.low, instrument.high)
        cells = (root, root + 7, root + 12, root + 7)
        return [(i * 0.5, 0.5, [cells[i % 4]], 1.0 if i % 2 == 0 else 0.8) for i in range(bpb * 2)]
    if pattern == "stabs":
        count = 2 + int(plan.density * 2)
        slots = sorted(rng.choice(len(STAB_SLOTS), size=min(count, len(STAB_SLOTS)), replace=False))
        return [(STAB_SLOTS[i], 0.4, voicing, 0.9) for i in slots if STAB_SLOTS[i] < bpb]
    if pattern == "offbeat":
        return [(beat + 0.5, 0.35, voicing, 0.9) for beat in range(bpb)]
    if pattern == "oompah":
        return [(float(beat), 0.6, voicing, 0.8) for beat in range(1, bpb)]
    raise ValueError(f"unknown comp pattern {pattern!r}")


def _arpeggio(bpb: int, plan: CuePlan, voicing: list[int]) -> list[tuple[float, float, list[int], float]]:
    """Broken chord up and back down over two octaves, in eighths (sixteenths when dense)."""
    step = 0.25 if plan.density > 0.7 else 0.5
    rising = voicing + [p + 12 for p in voicing]
    cycle = rising + rising[-2:0:-1]
    return [(i * step, step * 1.5, [cycle[i % len(cycle)]], 1.0 if (i * step) % 1 == 0 else 0.8)
            for i in range(int(bpb / step))]
