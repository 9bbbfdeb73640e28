"""Drum parts: per-style step patterns on a sixteenth grid (GM channel 10), busier in B sections, a fill at
the end of each section, a crash on each new section and one final hit on the last downbeat."""

from __future__ import annotations

import numpy as np

from worker.generate.symbolic.form import Bar
from worker.generate.symbolic.notes import Part, humanise, swung
from worker.generate.symbolic.plan import CuePlan

KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, MID_TOM, CRASH, RIDE, HIGH_TOM, MARACAS = 45, 47, 49, 51, 50, 70
STEPS_PER_BEAT = 4
HIT_LENGTH = 0.2  # beats; GM drums ignore note length, short notes keep the MIDI tidy
LEVELS = {"X": 112, "x": 92, "o": 62}  # accent, normal, ghost

# One bar per instrument, a character per sixteenth ("." rests). 3/4 patterns have 12 steps.
PATTERNS: dict[str, dict[int, str]] = {
    "pop": {KICK: "x.....x.x.......", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "rock": {KICK: "X.......x.x.....", SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "four_on_floor": {KICK: "X...X...X...X...", CLAP: "....x.......x...", OPEN_HAT: "..o...o...o...o.",
                      CLOSED_HAT: "o.o.o.o.o.o.o.o."},
    "jazz_ride": {RIDE: "x...x.o.x...x.o.", PEDAL_HAT: "....o.......o...", KICK: "o..............."},
    "boom_bap": {KICK: "x......x..x.....", SNARE: "....X.......X...", CLOSED_HAT: "x.o.x.o.x.o.x.o."},
    "folk": {KICK: "x.......x.......", SIDE_STICK: "....x.......x...", MARACAS: "o.o.o.o.o.o.o.o."},
    "cinematic": {KICK: "X.......x.......", LOW_TOM: "x..x..x.....x...", SNARE: "............o.o."},
    "waltz": {KICK: "x...........", CLOSED_HAT: "....o...o...", SIDE_STICK: "........x..."},
}
# Extra layers for the busier B sections.
B_LAYERS: dict[str, dict[int, str]] = {
    "pop": {OPEN_HAT: "..............o."}, "rock": {CRASH: "........x......."},
    "four_on_floor": {CLOSED_HAT: "oooooooooooooooo"}, "jazz_ride": {SNARE: "......o.......o."},
    "boom_bap": {KICK: "..........x...x."}, "folk": {KICK: "......o........."},
    "cinematic": {MID_TOM: "..x...x...x...x."}, "waltz": {CLOSED_HAT: "..o...o...o."},
}
FILL = (SNARE, SNARE, MID_TOM, LOW_TOM)  # the last beat of a section, in sixteenths


def drum_part(part: Part, form: list[Bar], plan: CuePlan, rng: np.random.Generator) -> None:
    assert plan.drums is not None
    bpb = plan.beats_per_bar
    for bar in form:
        start = bar.index * bpb
        if bar.section == "end":
            part.add(start, HIT_LENGTH, KICK, LEVELS["X"])
            part.add(start, HIT_LENGTH, CRASH, LEVELS["X"])
            continue
        if bar.section == "intro" and plan.density < 0.5:
            continue
        layers = dict(PATTERNS[plan.drums])
        if bar.section == "intro":
            layers = {k: v for k, v in layers.items() if k in (CLOSED_HAT, RIDE, MARACAS, PEDAL_HAT)} or {
                KICK: layers.get(KICK, "x")}
        hits = _hits(layers, bpb, plan.density)
        if bar.section == "B":
            hits += _hits(B_LAYERS.get(plan.drums, {}), bpb, 1.0)
        if bar.section_end:
            fill_from = (bpb - 1) * STEPS_PER_BEAT
            hits = [h for h in hits if h[0] < fill_from or h[1] == KICK]
            hits += [(fill_from + i, note, LEVELS["x"] + 4 * i) for i, note in enumerate(FILL)]
        if bar.section_start and bar.index > 0:
            hits.append((0, CRASH, LEVELS["x"]))
        for step, note, velocity in hits:
            position = swung(step / STEPS_PER_BEAT, plan.swing)
            part.add(start + position, HIT_LENGTH, note, humanise(velocity * (0.75 + 0.3 * bar.energy), rng))


def _hits(layers: dict[int, str], bpb: int, density: float) -> list[tuple[int, int, int]]:
    """(sixteenth step, note, velocity); sparse plans drop the off-beat hats."""
    hits = []
    steps = bpb * STEPS_PER_BEAT
    for note, row in layers.items():
        for step, mark in enumerate(row[:steps]):
            if mark == "." or (density < 0.35 and note in (CLOSED_HAT, MARACAS) and step % STEPS_PER_BEAT):
                continue
            hits.append((step, note, LEVELS[mark]))
    return hits
