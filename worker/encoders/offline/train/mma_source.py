"""Accompaniments from Debian's `mma` (Musical MIDI Accompaniment, training-only): hundreds of grooves — real
drum patterns, walking and picked basses, comping piano, guitar, organ, strings, brass — played over seeded
chord charts, so tempo and mode are exact and the style word comes from the groove's library file.

A piece is one (groove file, seed); a whole groove *file* is held out by a hash of its name, so evaluation
hears rhythms the model never trained on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from worker.encoders.offline.train.attributes import FAMILIES, PROGRAM_FAMILY
from worker.encoders.offline.train.clip import Clip, Part
from worker.encoders.offline.train.midi_slices import load_piece

STDLIB = Path("/usr/share/mma/lib/stdlib")
SKIP_FILES = ("metronome", "none")
SKIP_GROOVES = re.compile(r"intro|end|fill|metronome|break|count", re.IGNORECASE)
HELD_OUT_EVERY = 5
BARS = 12
TEMPO_RANGE = (56.0, 190.0)
REINSTRUMENT_P = 0.3
MIN_NOTES = 4
NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# chord suffix per scale degree (diatonic sevenths where mma names them; V is dominant in minor too)
QUALITY = {"major": ("maj7", "m7", "m7", "maj7", "7", "m7", "m7b5"),
           "minor": ("m7", "m7b5", "maj7", "m7", "7", "maj7", "7")}
PROGRESSIONS = {
    "major": ((0, 5, 1, 4), (0, 3, 4, 0), (1, 4, 0, 0), (0, 5, 3, 4), (0, 3, 0, 4), (0, 2, 5, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 4), (0, 3, 6, 2), (0, 1, 4, 0)),
}
# style token by groove-file name, first match wins (only names whose words are true of the groove)
STYLE_RULES = (("waltz", "waltz"), ("ballad", "ballad"), ("rock", "rock"), ("8beat", "rock"), ("twist", "rock"),
               ("swing", "swing"), ("bigband", "swing"), ("bebop", "swing"), ("jazzcombo", "swing"),
               ("trance", "dance"), ("boneym", "dance"), ("bossanova", "bossa"))


def available() -> bool:
    return shutil.which("mma") is not None and STDLIB.is_dir()


def style_of(file_stem: str) -> str | None:
    return next((style for key, style in STYLE_RULES if key in file_stem.lower()), None)


def is_held_out(file_stem: str) -> bool:
    return zlib.crc32(f"mma-{file_stem}".encode()) % HELD_OUT_EVERY == 0


@lru_cache(maxsize=1)
def grooves() -> tuple[tuple[str, str], ...]:
    """(library file stem, groove name) of every playable main groove in mma's standard library."""
    if not available():
        return ()
    out = []
    for path in sorted(STDLIB.glob("*.mma")):
        if path.stem.startswith(SKIP_FILES):
            continue
        for line in path.read_text(errors="replace").splitlines():
            m = re.match(r"\s*defgroove\s+(\S+)", line, re.IGNORECASE)
            if m and not SKIP_GROOVES.search(m.group(1)):
                out.append((path.stem, m.group(1)))
    return tuple(out)


def split_grooves(split: str) -> list[tuple[str, str]]:
    return [g for g in grooves() if is_held_out(g[0]) == (split == "eval")]


def chart(rng: np.random.Generator, mode: str, key: int, bars: int = BARS) -> list[str]:
    """One chord symbol per bar from a seeded diatonic progression."""
    scale = MAJOR if mode == "major" else MINOR
    prog = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    return [NOTE_NAMES[(key + scale[d]) % 12] + QUALITY[mode][d] for d in (prog[i % len(prog)] for i in range(bars))]


def mma_script(groove: str, bpm: float, chords: list[str]) -> str:
    """mma's input; its own random timing and velocity jitter is seeded too, so the same draws give the same MIDI."""
    header = ["RndSeed 1", f"Tempo {bpm:.1f}", f"Groove {groove}"]
    return "\n".join(header + [f"{i + 1} {c}" for i, c in enumerate(chords)]) + "\n"


def render_midi(script: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "piece.mma"
        src.write_text(script)
        subprocess.run(["mma", "-f", str(out), str(src)], check=True, capture_output=True, timeout=60)


def play(groove: str, bpm: float, chords: list[str]):
    """`groove` played over `chords` (one per bar) at `bpm`, as PrettyMIDI; None when mma cannot play it."""
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(tmp) / "piece.mid"
        try:
            render_midi(mma_script(groove, bpm, chords), mid)
            return load_piece(mid)
        except Exception:  # noqa: BLE001 — a groove mma cannot play is skipped
            return None


def make_clip(piece: tuple[str, str], seed: int, seconds: float, rng: np.random.Generator) -> Clip | None:
    """An excerpt of `groove` over a seeded chart; melodic parts sometimes re-instrumented (basses stay
    basses). None when mma fails or the excerpt is nearly empty."""
    file_stem, groove = piece
    mode = "major" if rng.random() < 0.5 else "minor"
    bpm = float(np.exp(rng.uniform(*np.log(TEMPO_RANGE))))
    key = int(rng.integers(12))
    pm = play(groove, bpm, chart(rng, mode, key))
    if pm is None:
        return None
    end = pm.get_end_time()
    if end < seconds:
        return None
    t0 = float(rng.uniform(0, end - seconds))
    fams = [f for f in FAMILIES if f != "bass"]
    parts = []
    for inst in pm.instruments:
        notes = [(n.start - t0, min(n.end - t0, seconds), n.pitch, n.velocity) for n in inst.notes
                 if t0 <= n.start < t0 + seconds]
        if not notes:
            continue
        program = int(inst.program)
        if not inst.is_drum and PROGRAM_FAMILY.get(program) != "bass" and rng.random() < REINSTRUMENT_P:
            program = int(rng.choice(FAMILIES[str(rng.choice(fams))]))
        part = Part(0 if inst.is_drum else program, bool(inst.is_drum), notes)
        part.volume = int(rng.integers(80, 128))
        part.pan = int(np.clip(64 + rng.normal(0, 25), 0, 127))
        parts.append(part)
    if sum(len(p.notes) for p in parts) < MIN_NOTES:
        return None
    clip = Clip(parts=parts, seconds=seconds, bpm=bpm, source=f"mma-{file_stem}-{seed}", mode=mode)
    clip.style = style_of(file_stem) if clip.has_drums() else None
    return clip
