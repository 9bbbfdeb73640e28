"""Training excerpts with exact beat truth: real MIDI files (not the benchmark's held-out ones) and our own
generated pieces, both time-warped by a random tempo curve so the truth includes tempo changes.

An excerpt is a `Clip` (symbolic parts in seconds, what FluidSynth renders) whose `extra` holds "beats" and
"downbeats" in the excerpt's own seconds. Warping notes and beats by the same monotone map keeps them exact.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from worker.encoders.offline.train.clip import Clip, Part
from worker.encoders.offline.train.compose import BEATS, DRUMS, compose

EXCERPT_S = 30.0
MIN_BEATS = 12  # an excerpt with fewer true beats (rests, intros) is drawn again
MUS_TEMPO = 95.0001  # Doom MUS conversions: no musical tempo, so no beat truth (as bench/beats_eval.py)
SCALE_RANGE = (0.72, 1.4)  # global tempo factor, log-uniform
CURVE_P = 0.45  # share of excerpts whose tempo also changes within the excerpt
CURVE_KNOTS = (2, 5)
CURVE_SPREAD = 0.22  # log-tempo deviation at each knot (about ±22 %)
STEP_P = 0.3  # share of tempo curves that jump (a new section) instead of gliding
REMAP_P = 0.3  # share of real excerpts whose melodic parts get other GM programs
SWING_P = 0.35  # share of generated pieces whose off-beat notes move to triplet positions
WARP_GRID_S = 0.01
MMA_TEMPO_RANGE = (70.0, 150.0)  # before the warp: 50–210 BPM after it
OPENMSX_DIR = Path("/usr/share/games/openttd/baseset/openmsx")  # Debian's openttd-openmsx (GPL-2)
OFFBEAT_SOUNDS = (42, 46, 37, 39, 40, 38, 54, 75)  # GM drums: hi-hats, side stick, clap, snares, tambourine, claves
BENCH_HELD_OUT_FILES = 20  # bench/beats_eval.py --files N picks a prefix of this list; N ≤ 20 stays unseen


def held_out_midi(root: Path, count: int = BENCH_HELD_OUT_FILES) -> set[Path]:
    """The MIDI files bench/beats_eval.py evaluates on (its own selection code, so the two never drift)."""
    bench = Path(__file__).resolve().parents[3] / "bench"
    sys.path.insert(0, str(bench))
    try:
        from beats_eval import select_midi
    finally:
        sys.path.remove(str(bench))
    return {p.resolve() for p in select_midi(root, count)}


def training_midi(root: Path) -> list[Path]:
    """Every MIDI file under `root` that is not held out by the benchmark, sorted."""
    held = held_out_midi(root)
    return sorted(p for p in root.glob("*/*.mid") if p.resolve() not in held)


def openmsx_midi(folder: Path = OPENMSX_DIR) -> list[Path]:
    """OpenTTD's free music set: 31 songs (blues, boogie, marabi, rock …), none of them in the benchmark."""
    return sorted(folder.glob("*.mid"))


def load_piece(path: Path):
    """(parts, beats, downbeats, end) of a real MIDI file, or None if it is unreadable or a MUS conversion."""
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception:  # real-world MIDI files are often malformed
        return None
    return piece_of(pm)


def piece_of(pm):
    """(parts, beats, downbeats, end) of a loaded PrettyMIDI, or None for a MUS conversion."""
    _, tempi = pm.get_tempo_changes()
    if len(tempi) and abs(tempi[0] - MUS_TEMPO) < 1e-3 and not pm.time_signature_changes:
        return None
    parts = [Part(int(i.program), bool(i.is_drum), [(n.start, n.end, n.pitch, n.velocity) for n in i.notes])
             for i in pm.instruments if i.notes]
    return parts, np.asarray(pm.get_beats()), np.asarray(pm.get_downbeats()), float(pm.get_end_time())


def tempo_curve(rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(times, tempo factor) knots over `seconds` of source time: a global factor, maybe glides or jumps."""
    scale = float(np.exp(rng.uniform(*np.log(SCALE_RANGE))))
    if rng.random() >= CURVE_P:
        return np.array([0.0, seconds]), np.array([scale, scale])
    knots = int(rng.integers(*CURVE_KNOTS))
    times = np.sort(rng.uniform(0.0, seconds, knots))
    factors = scale * np.exp(rng.normal(0.0, CURVE_SPREAD, knots))
    if rng.random() < STEP_P:  # piecewise constant: a tempo jump at each knot
        times = np.repeat(times, 2)[1:]
        factors = np.repeat(factors, 2)[:-1]
    return np.concatenate([[0.0], times, [seconds]]), np.concatenate([[factors[0]], factors, [factors[-1]]])


def warp_function(knot_times: np.ndarray, factors: np.ndarray, seconds: float):
    """Source time → played time when the tempo is multiplied by the interpolated factor (faster = shorter)."""
    grid = np.arange(0.0, seconds + 2 * WARP_GRID_S, WARP_GRID_S)
    rate = 1.0 / np.interp(grid, knot_times, factors)
    played = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * WARP_GRID_S)])

    def warp(t):
        t = np.asarray(t, np.float64)
        slope_end = rate[-1]
        inside = np.interp(t, grid, played)
        return np.where(t > grid[-1], played[-1] + (t - grid[-1]) * slope_end, inside)

    return warp


def cut(parts: list[Part], beats: np.ndarray, downbeats: np.ndarray, warp, start: float, seconds: float,
        source: str) -> Clip:
    """The warped excerpt [start, start + seconds) in played time, as a Clip with its beats in `extra`."""
    out = []
    for part in parts:
        notes = [(float(a) - start, float(min(b, start + seconds)) - start, p, v)
                 for (a, b, p, v) in zip(warp([n[0] for n in part.notes]), warp([n[1] for n in part.notes]),
                                         [n[2] for n in part.notes], [n[3] for n in part.notes], strict=True)
                 if start <= a < start + seconds]
        if notes:
            out.append(Part(part.program, part.is_drum, notes, part.volume, part.pan))
    b = warp(beats) - start
    d = warp(downbeats) - start
    clip = Clip(parts=out, seconds=seconds, bpm=0.0, source=source)
    clip.extra = {"beats": b[(b >= 0) & (b < seconds)].tolist(), "downbeats": d[(d >= 0) & (d < seconds)].tolist()}
    return clip


def real_excerpt(piece, rng: np.random.Generator, source: str, seconds: float = EXCERPT_S) -> Clip | None:
    parts, beats, downbeats, end = piece
    warp = warp_function(*tempo_curve(rng, end + 1.0), end + 1.0)
    played_end = float(warp(end))
    start = float(rng.uniform(0.0, max(played_end - seconds, 0.0)))
    clip = cut(parts, beats, downbeats, warp, start, seconds, source)
    if rng.random() < REMAP_P:
        for part in clip.parts:
            if not part.is_drum:
                part.program = int(rng.integers(0, 96))  # 96+ are sound effects and pads without attack
    for part in clip.parts:
        part.volume = int(rng.integers(70, 128))
        part.pan = int(np.clip(64 + rng.normal(0, 25), 0, 127))
    return clip if len(clip.extra["beats"]) >= MIN_BEATS and clip.parts else None


def mma_excerpt(rng: np.random.Generator, seconds: float = EXCERPT_S) -> Clip | None:
    """A groove from Debian's `mma` (real drum patterns and accompaniments, exact beats and time signature)
    at a seeded tempo over a seeded chord chart, then cut and tempo-warped like a real MIDI file."""
    from worker.encoders.offline.train import mma_source

    pool = mma_source.grooves()
    if not pool:
        raise RuntimeError("these shards need Debian's mma: install it (installer/setup.sh --train)")
    file_stem, groove = pool[int(rng.integers(len(pool)))]
    bpm = float(np.exp(rng.uniform(*np.log(MMA_TEMPO_RANGE))))
    bars = int(np.ceil((seconds * SCALE_RANGE[1] * 1.6 + 2.0) / (3 * 60.0 / bpm)))  # enough even in 3/4
    chords = mma_source.chart(rng, "major" if rng.random() < 0.5 else "minor", int(rng.integers(12)), bars)
    pm = mma_source.play(groove, bpm, chords)
    piece = piece_of(pm) if pm is not None else None
    return real_excerpt(piece, rng, f"mma-{file_stem}") if piece is not None else None  # None: drawn again


def composed_meter(seed: int) -> tuple[float, int]:
    """(tempo, beats per bar) of `compose(seed)`, replaying its first random draws (mode, tempo, arrangement,
    style); callers compare the tempo with the clip's to notice if the generator's draws ever change."""
    from worker.encoders.offline.train.compose import ARRANGEMENTS

    rng = np.random.default_rng(seed)
    rng.random()
    bpm = float(np.exp(rng.uniform(np.log(56), np.log(190))))
    rng.choice(ARRANGEMENTS)
    style = str(rng.choice(list(DRUMS)))
    return bpm, BEATS.get(style, 4)


def swung(parts: list[Part], beat: float) -> list[Part]:
    """Move notes on the off-beat eighth to the last triplet of the beat (and 16ths to triplet 16ths)."""
    def move(t: float) -> float:
        k, phase = divmod(t / beat, 1.0)
        for straight, triplet in ((0.5, 2 / 3), (0.25, 1 / 3), (0.75, 5 / 6)):
            if abs(phase - straight) < 0.02:
                return (k + triplet) * beat
        return t

    return [Part(p.program, p.is_drum, [(move(a), move(a) + (b - a), n, v) for a, b, n, v in p.notes], p.volume,
                 p.pan) for p in parts]


def generated_excerpt(seed: int, rng: np.random.Generator, seconds: float = EXCERPT_S) -> Clip | None:
    """A piece from the offline model's generator (exact tempo), maybe swung, then tempo-warped."""
    source_s = seconds * SCALE_RANGE[1] * 1.6 + 2.0  # enough source for the slowest warp
    clip = compose(seed, source_s)
    beat = 60.0 / clip.bpm
    replayed_bpm, per_bar = composed_meter(seed)
    if abs(replayed_bpm - clip.bpm) > 1e-9:  # the generator changed its draws: its meter is unknown here
        return None
    parts = swung(clip.parts, beat) if rng.random() < SWING_P else clip.parts
    beats = np.arange(0.0, source_s, beat)
    downbeats = beats[::per_bar]
    warp = warp_function(*tempo_curve(rng, source_s), source_s)
    start = float(rng.uniform(0.0, max(float(warp(source_s)) - seconds, 0.0) * 0.5))
    out = cut(parts, beats, downbeats, warp, start, seconds, f"gen-{seed}")
    return out if len(out.extra["beats"]) >= MIN_BEATS and out.parts else None


def with_offbeat_accents(clip: Clip, rng: np.random.Generator) -> Clip:
    """The clip plus loud drum hits half-way between beats: on every off-beat, or on a random few of each
    four (Planet Blupi's music001 accents the "and" of 1 and 3). The beats stay where they were, so the network
    learns that a loud off-beat is not a beat."""
    beats = np.asarray(clip.extra["beats"])
    if len(beats) < 2:
        return clip
    chosen = np.ones(4, bool) if rng.random() < 0.4 else rng.random(4) < 0.5
    chosen[int(rng.integers(4))] = True
    pitch = int(rng.choice(OFFBEAT_SOUNDS))
    halfway = (beats[:-1] + beats[1:]) / 2
    notes = [(float(t), float(t) + 0.08, pitch, int(rng.integers(95, 128)))
             for i, t in enumerate(halfway) if chosen[i % 4]]
    layer = Part(0, True, notes, int(rng.integers(90, 128)), int(rng.integers(24, 105)))
    return replace(clip, parts=[*clip.parts, layer], source=clip.source + "+offbeats")
