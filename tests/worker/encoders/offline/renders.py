"""Hand-made clips with known facts (solo piano, drums alone, one band at two tempi), rendered with FluidSynth
in one run: the fixtures the offline model's behaviour is checked on."""

from __future__ import annotations

import numpy as np

from worker.encoders.offline.train.clip import Clip, Note, Part
from worker.encoders.offline.train.compose import DRUMS
from worker.encoders.offline.train.render import FLUIDR3, render_clips

SECONDS = 6.0
C_MAJOR = (60, 62, 64, 65, 67, 69, 71, 72)
CHORDS = ((48, 52, 55), (53, 57, 60), (55, 59, 62), (48, 52, 55))  # C F G C
PIANO, BASS = 0, 33


def melody(bpm: float, per_beat: int, velocity: int = 80) -> list[Note]:
    step = 60.0 / bpm / per_beat
    n = int(SECONDS / step)
    return [(i * step, i * step + step * 0.9, C_MAJOR[(i * 3) % len(C_MAJOR)], velocity) for i in range(n)]


def chords(bpm: float, velocity: int = 70) -> list[Note]:
    bar = 4 * 60.0 / bpm
    return [(b * bar, (b + 1) * bar * 0.98, p, velocity)
            for b in range(int(np.ceil(SECONDS / bar))) for p in CHORDS[b % len(CHORDS)] if b * bar < SECONDS]


def drums(bpm: float, style: str = "rock", velocity: int = 100) -> list[Note]:
    step = 4 * 60.0 / bpm / 16
    out = []
    for bar in range(int(np.ceil(SECONDS / (16 * step)))):
        for pitch, hits in DRUMS[style].items():
            out += [(t, t + 0.1, pitch, velocity) for h in hits if (t := (bar * 16 + h) * step) < SECONDS]
    return out


def piano_solo(bpm: float = 96.0) -> Clip:
    return Clip([Part(PIANO, False, melody(bpm, 1) + chords(bpm))], SECONDS, bpm, "test-piano", mode="major")


def drums_alone(bpm: float = 96.0) -> Clip:
    return Clip([Part(0, True, drums(bpm))], SECONDS, bpm, "test-drums", style="rock")


def band(bpm: float) -> Clip:
    """Piano melody in eighths, bass on the beat, rock drums: the same music at any tempo."""
    beat = 60.0 / bpm
    bass = [(i * beat, (i + 0.9) * beat, 36 + (i // 4) % 2 * 5, 90) for i in range(int(SECONDS / beat))]
    return Clip([Part(PIANO, False, melody(bpm, 2)), Part(BASS, False, bass), Part(0, True, drums(bpm))],
                SECONDS, bpm, f"test-band-{bpm:g}", mode="major", style="rock")


def render_named(clips: dict[str, Clip], seed: int = 0) -> dict[str, np.ndarray]:
    """{name: mono float32 wave at 16 kHz} from one FluidSynth run with FluidR3_GM."""
    waves = render_clips(list(clips.values()), FLUIDR3, np.random.default_rng(seed))
    return {name: w / (np.abs(w).max() + 1e-9) * 0.5 for name, w in zip(clips, waves, strict=True)}
