"""Plan + length → arrangement: the form, then every role's notes, one `Part` per instrument (= stem)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.generate.symbolic.bass import bass_line
from worker.generate.symbolic.comp import comp_part
from worker.generate.symbolic.drums import drum_part
from worker.generate.symbolic.form import Bar, build_form
from worker.generate.symbolic.melody import melody_part
from worker.generate.symbolic.notes import Part
from worker.generate.symbolic.plan import CuePlan
from worker.generate.symbolic.styles import DRUM_STEM, INSTRUMENTS, ROLES

END_RELEASE_SECONDS = 0.35  # the final chord is let go this long before the cue ends, so its release fits
MIN_END_BEATS = 0.5
DRUM_PROGRAM = 0
ROLE_STREAMS = {role: i for i, role in enumerate((*ROLES, DRUM_STEM))}  # one random stream per role


@dataclass(frozen=True)
class Arrangement:
    plan: CuePlan
    bars: int
    loop: bool
    form: tuple[Bar, ...]
    parts: tuple[Part, ...]

    @property
    def beats(self) -> int:
        return self.bars * self.plan.beats_per_bar

    @property
    def seconds(self) -> float:
        return self.beats * self.plan.seconds_per_beat

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)


def arrange(plan: CuePlan, bars: int, *, loop: bool = False, preview: bool = False) -> Arrangement:
    """All notes of the cue. Each role draws from its own stream of `plan.seed`, so a preview (section A) and
    the full cue share their opening material."""
    form = build_form(plan, bars, loop=loop, preview=preview)
    end_length = max(plan.beats_per_bar - END_RELEASE_SECONDS / plan.seconds_per_beat, MIN_END_BEATS)
    parts: dict[str, Part] = {}
    for role, name in plan.instruments:
        instrument = INSTRUMENTS[name]
        part = parts.setdefault(name, Part(name=name, program=instrument.program))
        rng = _stream(plan, role)
        if role == "bass":
            bass_line(part, form, plan, rng, end_length)
        elif role == "comp":
            comp_part(part, form, plan, instrument, rng, end_length)
        elif role == "pad":
            comp_part(part, form, plan, instrument, rng, end_length, pattern="sustain")
        elif role == "melody":
            melody_part(part, form, plan, instrument, rng, end_length)
    if plan.drums is not None:
        drums = Part(name=DRUM_STEM, program=DRUM_PROGRAM, is_drum=True)
        drum_part(drums, form, plan, _stream(plan, DRUM_STEM))
        parts[DRUM_STEM] = drums
    kept = tuple(p for p in parts.values() if p.notes)
    for part in kept:
        part.notes.sort(key=lambda n: (n.start, n.pitch))
    return Arrangement(plan=plan, bars=bars, loop=loop, form=tuple(form), parts=kept)


def _stream(plan: CuePlan, role: str) -> np.random.Generator:
    return np.random.default_rng([plan.seed, ROLE_STREAMS[role]])
