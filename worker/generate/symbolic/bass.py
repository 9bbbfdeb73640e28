"""Bass lines: the chord's root (and its neighbours) in one of a few idiomatic patterns per style."""

from __future__ import annotations

import numpy as np

from worker.generate.symbolic.form import Bar
from worker.generate.symbolic.notes import Part, humanise, swung
from worker.generate.symbolic.plan import CuePlan
from worker.generate.symbolic.theory import nearest_pitch, scale_pitch_classes

CENTRE, LOW, HIGH = 38, 31, 50  # MIDI pitches: around D2, within G1..D3
VELOCITY = 92
GAP = 0.05  # beats of silence before the next note, so repeated notes re-articulate
WALK_APPROACH = (-1, 1)  # chromatic approach from below or above into the next root


def bass_line(part: Part, form: list[Bar], plan: CuePlan, rng: np.random.Generator, end_length: float) -> None:
    bpb = plan.beats_per_bar
    for bar in form:
        start = bar.index * bpb
        root = nearest_pitch(bar.chord.root, CENTRE, LOW, HIGH)
        fifth = nearest_pitch(bar.chord.fifth, root + 7, LOW, HIGH + 5)
        if bar.section == "end":
            part.add(start, end_length, root, VELOCITY)
            continue
        pattern = "whole" if bar.section == "intro" else plan.bass_pattern
        next_chord = form[bar.index + 1].chord if bar.index + 1 < len(form) else form[0].chord
        hits = _pattern(pattern, bar, bpb, plan, root, fifth, next_chord.root, rng)
        for offset, length, pitch, accent in hits:
            position = swung(offset, plan.swing)
            part.add(start + position, length - GAP, pitch, humanise(VELOCITY * accent, rng))


def _pattern(pattern: str, bar: Bar, bpb: int, plan: CuePlan, root: int, fifth: int, next_root: int,
             rng: np.random.Generator) -> list[tuple[float, float, int, float]]:
    """(offset in the bar, length, pitch, accent) for one bar."""
    if pattern == "whole":
        return [(0.0, float(bpb), root, 1.0)]
    if pattern == "root_fifth":
        half = bpb / 2
        return [(0.0, half, root, 1.0), (half, half, fifth, 0.85)]
    if pattern == "eighths":
        step = 0.5 if plan.density > 0.45 else 1.0
        return [(i * step, step, root, 1.0 if (i * step) % 1 == 0 else 0.8) for i in range(int(bpb / step))]
    if pattern == "walking":
        return _walk(bar, bpb, plan, root, next_root, rng)
    if pattern == "offbeat":
        return [(beat + 0.5, 0.45, root + 12 * (beat % 2 == 1), 0.9) for beat in range(bpb)]
    if pattern == "syncopated":
        return [(0.0, 0.75, root, 1.0), (1.5, 0.5, root, 0.8), (2.5, 1.0, fifth, 0.85),
                (3.5, 0.5, root, 0.75)][: 2 + bpb // 2]
    if pattern == "oompah":
        return [(0.0, 1.0, root if bar.index % 2 == 0 else fifth, 1.0)]
    raise ValueError(f"unknown bass pattern {pattern!r}")


def _walk(bar: Bar, bpb: int, plan: CuePlan, root: int, next_root: int, rng: np.random.Generator
          ) -> list[tuple[float, float, int, float]]:
    """Quarter notes: root, chord tones and scale steps, then a chromatic approach into the next root."""
    scale = scale_pitch_classes(plan.tonic, plan.mode)
    tones = [root]
    for _ in range(bpb - 2):
        choices = [nearest_pitch(pc, tones[-1] + int(rng.choice((-3, 2, 4))), LOW, HIGH + 5)
                   for pc in bar.chord.pitch_classes + scale[:2]]
        tones.append(choices[int(rng.integers(len(choices)))])
    target = nearest_pitch(next_root, tones[-1], LOW, HIGH)
    tones.append(target + int(rng.choice(WALK_APPROACH)))
    return [(float(i), 1.0, pitch, 1.0 if i == 0 else 0.85) for i, pitch in enumerate(tones)]
