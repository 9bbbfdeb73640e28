"""The form of a cue: which section each bar belongs to and which chord it carries.

A finished cue is intro (long cues only) → sections A/B of up to eight bars → IV–V7 cadence → a final bar on
the tonic. A loop has no intro and no ending: its last bar is the dominant, leading back into bar one. A
preview is section A alone: the texture the encoder judges a candidate by.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.generate.symbolic.plan import CuePlan
from worker.generate.symbolic.theory import Chord, cadence, diatonic_chord, dominant

SECTION_BARS = 8
INTRO_BARS = 2
MIN_BARS_FOR_INTRO = 10
CADENCE_BARS = 2  # IV, V7 before the final bar
ENERGY = {"intro": 0.4, "A": 0.7, "B": 0.9, "cadence": 0.8, "end": 0.5}


@dataclass(frozen=True)
class Bar:
    index: int
    section: str  # intro | A | B | cadence | end
    chord: Chord
    section_start: bool  # first bar of a section (drums crash, melody restarts its motif)
    section_end: bool  # last bar of a section before another one (drum fill)
    bar_in_section: int

    @property
    def energy(self) -> float:
        return ENERGY[self.section]


def build_form(plan: CuePlan, bars: int, *, loop: bool = False, preview: bool = False) -> list[Bar]:
    """One `Bar` per bar of the cue (see the module docstring for the shapes)."""
    if preview:
        labels = ["A"] * bars
    elif loop:
        labels = _body_labels(bars)
    else:
        ending = min(bars, 1 + CADENCE_BARS)
        intro = INTRO_BARS if bars >= MIN_BARS_FOR_INTRO else 0
        labels = ["intro"] * intro + _body_labels(bars - intro - ending) + ["cadence"] * (ending - 1) + ["end"]
    chords = _chords(plan, labels, loop=loop and not preview)
    form = []
    start = 0
    for i, label in enumerate(labels):
        if i > 0 and (label != labels[i - 1] or (i - start) >= SECTION_BARS):
            start = i
        first = i == start
        last = i + 1 < len(labels) and (labels[i + 1] != label or (i + 1 - start) >= SECTION_BARS)
        form.append(Bar(index=i, section=label, chord=chords[i], section_start=first, section_end=last,
                        bar_in_section=i - start))
    return form


def _body_labels(bars: int) -> list[str]:
    """A, B, A, B ... in sections of up to SECTION_BARS."""
    labels: list[str] = []
    section = 0
    while len(labels) < bars:
        length = min(SECTION_BARS, bars - len(labels))
        labels += ["AB"[section % 2]] * length
        section += 1
    return labels


def _chords(plan: CuePlan, labels: list[str], *, loop: bool) -> list[Chord]:
    progression = {"intro": plan.progressions[0], "A": plan.progressions[0], "B": plan.progressions[1]}
    chords: list[Chord] = []
    position = 0
    for i, label in enumerate(labels):
        if i > 0 and labels[i - 1] != label:
            position = 0
        if label in progression:
            degrees = progression[label]
            degree = degrees[(position // plan.bars_per_chord) % len(degrees)]
            chords.append(diatonic_chord(plan.tonic, plan.mode, degree, sevenths=plan.sevenths))
            position += 1
    subdominant, fifth, home = cadence(plan.tonic, plan.mode)
    chords += [subdominant, fifth][CADENCE_BARS - labels.count("cadence"):]
    if "end" in labels:
        chords.append(home)
    if loop and len(chords) > 1:
        chords[-1] = dominant(plan.tonic)
    return chords
