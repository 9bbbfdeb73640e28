"""Our own MIDI generator: chord progressions, melody, bass and drum patterns with exact tempo, mode, style
and instrumentation, so every caption fact is true by construction. Pieces are seeded; a piece's seed is
its `source` (held-out splits are by source)."""

from __future__ import annotations

import numpy as np

from worker.encoders.offline.train.attributes import FAMILIES
from worker.encoders.offline.train.clip import Clip, Note, Part

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
PROGRESSIONS = {  # scale degrees (0-based) per bar
    "major": ((0, 4, 5, 3), (0, 3, 4, 0), (1, 4, 0, 0), (0, 5, 3, 4), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 4), (0, 3, 6, 2), (0, 4, 0, 3)),
}
KICK, SNARE, HAT, OPEN_HAT, RIDE, RIM, CLAP, TOM = 36, 38, 42, 46, 51, 37, 39, 45
# drum patterns on a 16th grid of one 4/4 bar (12 steps of eighth-triplets for 3/4 and swing)
DRUMS: dict[str, dict[int, tuple[int, ...]]] = {
    "rock": {KICK: (0, 8, 10), SNARE: (4, 12), HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
    "dance": {KICK: (0, 4, 8, 12), CLAP: (4, 12), OPEN_HAT: (2, 6, 10, 14), HAT: (0, 4, 8, 12)},
    "bossa": {KICK: (0, 6, 8, 14), RIM: (0, 6, 10, 12), HAT: tuple(range(0, 16, 2))},
    "ballad": {KICK: (0, 10), SNARE: (8,), HAT: (0, 4, 8, 12)},
    "swing": {RIDE: (0, 4, 6, 8, 12, 14), KICK: (0, 8), SNARE: (4, 12)},
    "waltz": {KICK: (0,), SNARE: (4, 8), HAT: (0, 2, 4, 6, 8, 10)},
}
STEPS = {"waltz": 12}  # steps per bar when not 16
BEATS = {"waltz": 3}
MELODY_TOP = 86  # highest melody pitch: many GM samples go silent far above their range
ARRANGEMENTS = ("solo", "solo", "duo", "band", "band", "full", "drums")
# data recipe 2: every melodic family alone more often (timbre is easiest to learn from solos)
SOLO_HEAVY = ("solo", "solo", "solo", "solo", "duo", "band", "full", "drums")


def _programs(rng: np.random.Generator, families: list[str]) -> int:
    fam = str(rng.choice(families))
    return int(rng.choice(FAMILIES[fam]))


def compose(seed: int, seconds: float, arrangements: tuple[str, ...] = ARRANGEMENTS) -> Clip:
    """One random piece excerpt of `seconds` with exact attributes."""
    rng = np.random.default_rng(seed)
    mode = "major" if rng.random() < 0.5 else "minor"
    scale = MAJOR if mode == "major" else MINOR
    bpm = float(np.exp(rng.uniform(np.log(56), np.log(190))))
    arrangement = str(rng.choice(arrangements))
    style = str(rng.choice(list(DRUMS)))
    beats_per_bar = BEATS.get(style, 4)
    beat = 60.0 / bpm
    bar = beat * beats_per_bar
    root = 48 + int(rng.integers(0, 12))
    prog = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    chords_per_bar = 2 if rng.random() < 0.2 and bpm < 100 else 1
    n_chords = int(np.ceil(seconds / (bar / chords_per_bar))) + 1
    chord_len = bar / chords_per_bar
    degrees = [prog[i % len(prog)] for i in range(n_chords)]
    velocity = int(rng.integers(40, 121))
    octave = int(rng.choice((-12, 0, 0, 12)))

    def vel() -> int:
        return int(np.clip(velocity + rng.normal(0, 8), 20, 127))

    def chord_pitches(degree: int, base: int) -> list[int]:
        return [base + scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]

    def melody(base: int, rate: float) -> list[Note]:
        notes, t, idx = [], 0.0, 7 + int(rng.integers(0, 5))
        step_choices = (0.25, 0.5, 0.5, 1.0, 1.0, 2.0)
        while t < seconds:
            dur = beat * float(rng.choice(step_choices)) / rate
            if rng.random() < 0.15:
                t += dur
                continue
            idx = int(np.clip(idx + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3)), 0, 16))
            pitch = base + scale[idx % 7] + 12 * (idx // 7)
            pitch -= 12 * max(0, (pitch - MELODY_TOP + 11) // 12)
            notes.append((t, min(t + dur * 0.9, seconds), pitch, vel()))
            t += dur
        return notes

    def chords(base: int, pattern: str) -> list[Note]:
        notes = []
        for i, degree in enumerate(degrees):
            t0 = i * chord_len
            pitches = chord_pitches(degree, base)
            if pattern == "block":
                hits = np.arange(0, chord_len - 1e-6, beat * float(rng.choice((1, 2))))
                for h in hits:
                    notes += [(t0 + h, t0 + h + beat * 0.9, p, vel()) for p in pitches]
            elif pattern == "arp":
                sub = beat / 2 if bpm < 120 else beat
                for k, h in enumerate(np.arange(0, chord_len - 1e-6, sub)):
                    p = (pitches + [pitches[0] + 12])[k % 4]
                    notes.append((t0 + h, t0 + h + sub * 1.5, p, vel()))
            else:  # sustained
                notes += [(t0, t0 + chord_len * 0.98, p, vel()) for p in pitches]
        return [n for n in notes if n[0] < seconds]

    def bass() -> list[Note]:
        notes = []
        for i, degree in enumerate(degrees):
            t0 = i * chord_len
            p = root - 12 + scale[degree % 7]
            for k, h in enumerate(np.arange(0, chord_len - 1e-6, beat)):
                q = p + (7 if k % 2 and rng.random() < 0.4 else 0)
                notes.append((t0 + h, t0 + h + beat * 0.85, q, vel()))
        return [n for n in notes if n[0] < seconds]

    def drums() -> list[Note]:
        steps = STEPS.get(style, 16)
        step = bar / steps
        pattern = DRUMS[style]
        notes = []
        for b in range(int(np.ceil(seconds / bar))):
            for pitch, hits in pattern.items():
                for h in hits:
                    t = b * bar + h * step
                    if t < seconds and rng.random() > 0.05:
                        notes.append((t, t + 0.1, pitch, vel()))
            if b % 4 == 3 and rng.random() < 0.5:  # fill
                notes += [(b * bar + (steps - k) * step, b * bar + (steps - k) * step + 0.1, TOM, vel())
                          for k in (1, 2)]
        return notes

    melodic_fams = ["piano", "electric piano", "mallets", "organ", "guitar", "strings", "brass", "saxophone",
                    "woodwinds", "flute", "synth lead", "harp", "choir"]
    chord_fams = ["piano", "electric piano", "organ", "guitar", "strings", "synth pad", "harp", "choir"]
    rate = float(rng.choice((0.5, 1.0, 1.0, 2.0)))
    parts: list[Part] = []
    use_drums = arrangement in ("band", "full", "drums") or (arrangement == "duo" and rng.random() < 0.3)
    if arrangement == "solo":
        program = _programs(rng, melodic_fams)
        notes = melody(root + octave, rate)
        if program in FAMILIES["piano"] + FAMILIES["electric piano"] + FAMILIES["guitar"] + FAMILIES["harp"] \
                and rng.random() < 0.7:
            notes += chords(root + octave, str(rng.choice(("block", "arp"))))
        parts.append(Part(program, False, notes))
    elif arrangement != "drums":
        parts.append(Part(_programs(rng, melodic_fams), False, melody(root + octave, rate)))
        pattern = str(rng.choice(("block", "arp", "sustain")))
        parts.append(Part(_programs(rng, chord_fams), False, chords(root + octave, pattern)))
        if arrangement in ("band", "full"):
            parts.append(Part(int(rng.choice(FAMILIES["bass"])), False, bass()))
        if arrangement == "full":
            parts.append(Part(_programs(rng, ["synth pad", "strings", "choir", "organ"]), False,
                              chords(root + 12, "sustain")))
    if use_drums:
        parts.append(Part(0, True, drums()))
    for p in parts:
        p.volume = int(rng.integers(70, 128))
        p.pan = int(np.clip(64 + rng.normal(0, 25), 0, 127))
    # style words only where the drums play the pattern (waltz also shows in the metre of the chords)
    named_style = style if use_drums else ("waltz" if style == "waltz" and arrangement != "solo" else None)
    return Clip(parts=parts, seconds=seconds, bpm=bpm, source=f"gen-{seed}", mode=mode, style=named_style)
