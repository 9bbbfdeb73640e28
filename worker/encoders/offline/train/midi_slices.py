"""Excerpts of real MIDI pieces (Freedoom, Planet Blupi, music21 scores): re-timed, transposed and often
re-instrumented, with attributes read from the notes (mode by Krumhansl–Kessler only when clear)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.encoders.offline.train.attributes import FAMILIES, PROGRAM_FAMILY, estimate_mode
from worker.encoders.offline.train.clip import Clip, Part

TEMPO_SCALE = (0.7, 1.45)
REINSTRUMENT_P = 0.6
MIN_NOTES = 4


def load_piece(path: Path):
    import warnings

    import pretty_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # game MIDI often has tempo events on non-zero tracks
        return pretty_midi.PrettyMIDI(str(path))


def slice_piece(pm, source: str, seconds: float, rng: np.random.Generator, style: str | None = "game",
                reinstrument_p: float = REINSTRUMENT_P) -> Clip | None:
    """A random `seconds` excerpt of a loaded PrettyMIDI, or None when it is (nearly) silent. `style` is the
    style word of the whole source (game MIDI: "game"; concert scores: none)."""
    end = pm.get_end_time()
    scale = float(rng.uniform(*TEMPO_SCALE))
    span = seconds * scale  # source seconds that fill the excerpt
    if end < span * 0.5:
        return None
    t0 = float(rng.uniform(0, max(end - span, 0.0)))
    times, tempi = pm.get_tempo_changes()
    bpm = float(tempi[max(np.searchsorted(times, t0, side="right") - 1, 0)]) * scale
    transpose = int(rng.integers(-5, 6))
    reinstrument = rng.random() < reinstrument_p
    fams = list(FAMILIES)
    parts = []
    for inst in pm.instruments:
        notes = [((n.start - t0) / scale, min((n.end - t0) / scale, seconds), n.pitch, n.velocity)
                 for n in inst.notes if t0 <= n.start < t0 + span]
        if not notes:
            continue
        if inst.is_drum:
            parts.append(Part(0, True, notes))
            continue
        program = inst.program
        if reinstrument:
            fam = PROGRAM_FAMILY.get(program)
            choices = FAMILIES["bass"] if fam == "bass" else FAMILIES[str(rng.choice(fams[:-1]))]
            program = int(rng.choice(choices))
        notes = [(a, b, int(np.clip(p + transpose, 12, 115)), v) for a, b, p, v in notes]
        parts.append(Part(program, False, notes))
    if sum(len(p.notes) for p in parts) < MIN_NOTES:
        return None
    for p in parts:
        p.volume = int(rng.integers(70, 128))
        p.pan = int(np.clip(64 + rng.normal(0, 25), 0, 127))
    clip = Clip(parts=parts, seconds=seconds, bpm=bpm, source=source, style=style)
    clip.mode = estimate_mode(clip)
    return clip
