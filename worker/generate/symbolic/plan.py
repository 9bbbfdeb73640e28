"""A cue plan: every musical decision (style, tempo, key, mode, instruments per role, drums, density,
progressions, patterns) drawn from a style under the phrases' constraints with one seeded generator."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from worker.generate.symbolic.directives import Constraints
from worker.generate.symbolic.styles import FALLBACK_DRUMS, INSTRUMENTS, ROLES, STYLES, Style
from worker.generate.symbolic.theory import MINOR_MODES, PROGRESSIONS, key_name

SEED_BOUND = 2**31
DEFAULT_DRUMS = "pop"
# The role an instrument a phrase asks for takes over, by family.
ROLE_FOR_FAMILY = {"bass": "bass", "piano": "comp", "guitar": "comp", "organ": "comp", "pad": "pad",
                   "strings": "pad", "choir": "pad", "synth": "melody", "brass": "melody", "wind": "melody",
                   "bells": "melody"}
POLYPHONIC_FAMILIES = frozenset({"piano", "guitar", "organ", "bells", "pad", "strings"})
SOLO_COMP_PATTERN = {"piano": "arpeggio", "guitar": "arpeggio"}


@dataclass(frozen=True)
class CuePlan:
    style: str
    tempo_bpm: float
    tonic: int
    mode: str
    beats_per_bar: int
    instruments: tuple[tuple[str, str], ...]  # (role, instrument) for every pitched role that plays
    drums: str | None  # drum pattern name, None: no drums
    density: float
    progressions: tuple[tuple[int, ...], tuple[int, ...]]  # sections A and B
    bass_pattern: str
    comp_pattern: str
    swing: float
    sevenths: bool
    bars_per_chord: int
    seed: int  # seeds the notes

    @property
    def key(self) -> str:
        return key_name(self.tonic, self.mode)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def seconds_per_bar(self) -> float:
        return self.beats_per_bar * self.seconds_per_beat

    def instrument(self, role: str) -> str | None:
        return dict(self.instruments).get(role)

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key
        out["instruments"] = dict(self.instruments)
        return out


def sample_plan(constraints: Constraints, rng: np.random.Generator) -> CuePlan:
    """One plan honouring `constraints` (drawn from every style they allow)."""
    allowed = sorted(constraints.styles or set(STYLES) - constraints.excluded_styles) or sorted(STYLES)
    style = STYLES[allowed[int(rng.integers(len(allowed)))]]
    low, high = constraints.tempo or style.tempo
    tempo = float(round(rng.uniform(low, high)))
    mode = _choose_mode(style, constraints.minor, rng)
    tonic = int(rng.integers(12))
    instruments = _choose_instruments(style, constraints, rng)
    drums = _choose_drums(style, constraints)
    density = float(rng.uniform(*(constraints.density or style.density)))
    progressions = _choose_progressions(mode, rng)
    comp_pattern = _pick(style.comp_patterns, rng)
    if constraints.solo:
        family = INSTRUMENTS[dict(instruments)["melody"]].family
        comp_pattern = SOLO_COMP_PATTERN.get(family, comp_pattern)
    return CuePlan(style=style.name, tempo_bpm=tempo, tonic=tonic, mode=mode, beats_per_bar=style.beats_per_bar,
                   instruments=instruments, drums=drums, density=density, progressions=progressions,
                   bass_pattern=_pick(style.bass_patterns, rng), comp_pattern=comp_pattern, swing=style.swing,
                   sevenths=style.sevenths, bars_per_chord=style.bars_per_chord,
                   seed=int(rng.integers(SEED_BOUND)))


def fit_length(plan: CuePlan, *, seconds: float | None = None, bars: int | None = None) -> tuple[CuePlan, int]:
    """Whole bars filling `seconds` exactly (the tempo bends to the nearest bar count), or `bars` as given."""
    if bars is not None:
        return plan, bars
    assert seconds is not None
    ideal = seconds / plan.seconds_per_bar
    options = {max(1, math.floor(ideal)), max(1, math.ceil(ideal))}
    best = min(options, key=lambda n: abs(math.log(n * plan.beats_per_bar * 60.0 / seconds / plan.tempo_bpm)))
    return replace(plan, tempo_bpm=best * plan.beats_per_bar * 60.0 / seconds), best


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _choose_mode(style: Style, minor: bool | None, rng: np.random.Generator) -> str:
    modes = style.modes if minor is None else tuple(m for m in style.modes if (m in MINOR_MODES) == minor)
    if not modes:
        modes = ("minor",) if minor else ("major",)
    return _pick(modes, rng)


def _choose_instruments(style: Style, constraints: Constraints, rng: np.random.Generator
                        ) -> tuple[tuple[str, str], ...]:
    if constraints.solo:
        return _solo(constraints, rng)
    chosen: dict[str, str] = {}
    for role in ROLES:
        options = tuple(o for o in getattr(style, role) if o not in constraints.exclude)
        if options:
            name = _pick(options, rng)
            if name:
                chosen[role] = name
    for group in constraints.include:
        if any(name in group for name in chosen.values()):
            continue
        options = tuple(name for name in group if name not in constraints.exclude)
        if options:
            name = _pick(options, rng)
            chosen[ROLE_FOR_FAMILY[INSTRUMENTS[name].family]] = name
    return tuple((role, chosen[role]) for role in ROLES if role in chosen)


def _solo(constraints: Constraints, rng: np.random.Generator) -> tuple[tuple[str, str], ...]:
    """One instrument plays everything it can: bass, comping and melody if polyphonic, else the melody."""
    options = tuple(n for n in constraints.solo if n not in constraints.exclude) or constraints.solo
    name = _pick(options, rng)
    if INSTRUMENTS[name].family in POLYPHONIC_FAMILIES:
        return (("bass", name), ("comp", name), ("melody", name))
    return (("melody", name),)


def _choose_drums(style: Style, constraints: Constraints) -> str | None:
    if constraints.drums is False or constraints.solo:
        return None
    if constraints.drums and style.drums is None:
        return FALLBACK_DRUMS.get(style.name, DEFAULT_DRUMS)
    return style.drums


def _choose_progressions(mode: str, rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[int, ...]]:
    options = PROGRESSIONS[mode]
    first = int(rng.integers(len(options)))
    second = (first + 1 + int(rng.integers(len(options) - 1))) % len(options) if len(options) > 1 else first
    return options[first], options[second]
