"""Render training excerpts with FluidSynth (both GM soundfonts), augment some, and store their log-mel
features and beat frames in shards (npz) that the trainer reads into memory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from worker.analysis.beat_model import log_mel, model_fps
from worker.analysis.beat_train.excerpts import (
    generated_excerpt,
    load_piece,
    mma_excerpt,
    openmsx_midi,
    real_excerpt,
    training_midi,
    with_offbeat_accents,
)
from worker.analysis.spectral import ANALYSIS_RATE
from worker.encoders.offline.train.augment import augment
from worker.encoders.offline.train.clip import Clip
from worker.encoders.offline.train.render import render_clips, soundfonts

BATCH = 24  # excerpts per FluidSynth run (loading a soundfont costs ~1 s)
AUGMENT_P = 0.5  # the rest stay clean renders, like the benchmark's
FLUID_GAIN = "0.5"
# source shares by shard, (first shard, (real MIDI files, mma grooves, OpenMSX songs)), the rest generated
# pieces: each group was a later model's addition (mma's drum patterns and accompaniments, then OpenTTD's
# songs), and earlier groups stay as they were so that earlier shards are reproduced exactly
SHARES = ((0, (0.6, 0.0, 0.0)), (40, (0.4, 0.4, 0.0)), (80, (0.3, 0.25, 0.3)))
# (first shard, share of excerpts given a loud off-beat drum layer, `excerpts.with_offbeat_accents`): run 6's
# addition, after run 5 put the beats of syncopated held-out pieces on their accented off-beats
OFFBEAT_ACCENTS = ((0, 0.0), (120, 0.35))
# the offline model's augmentations assume 16 kHz: at our rate their EQ knots and room sizes shift, which
# only changes which random EQs and rooms are drawn


def render(clips: list[Clip], soundfont: Path, rng: np.random.Generator) -> list[np.ndarray]:
    """Mono float32 waves at ANALYSIS_RATE, one per clip, each clip.seconds long (one FluidSynth run)."""
    return render_clips(clips, soundfont, rng, rate=ANALYSIS_RATE, gain=FLUID_GAIN)


def shares(shard: int) -> tuple[float, float, float]:
    """(real MIDI, mma, OpenMSX) shares of shard number `shard`'s excerpts."""
    return [mix for first, mix in SHARES if shard >= first][-1]


def offbeat_share(shard: int) -> float:
    """Share of shard number `shard`'s excerpts that get a loud off-beat layer."""
    return [share for first, share in OFFBEAT_ACCENTS if shard >= first][-1]


def draw_excerpts(count: int, pieces: list, rng: np.random.Generator, seed_base: int,
                  mix: tuple[float, float, float], openmsx: list | None = None, offbeat: float = 0.0) -> list[Clip]:
    """`count` excerpts: a `mix[0]` share from `pieces` (loaded real MIDI), `mix[1]` mma grooves, `mix[2]` from
    `openmsx` (loaded OpenMSX songs), the rest generated; an `offbeat` share of them with loud off-beats."""
    clips: list[Clip] = []
    while len(clips) < count:
        draw = rng.random()
        if pieces and draw < mix[0]:
            name, piece = pieces[int(rng.integers(len(pieces)))]
            clip = real_excerpt(piece, rng, name)
        elif draw < mix[0] + mix[1]:
            clip = mma_excerpt(rng)
        elif draw < sum(mix):
            if not openmsx:
                raise RuntimeError("these shards need Debian's openttd-openmsx (installer/setup.sh --train)")
            name, piece = openmsx[int(rng.integers(len(openmsx)))]
            clip = real_excerpt(piece, rng, f"openmsx-{name}")
        else:
            clip = generated_excerpt(seed_base + int(rng.integers(1 << 30)), rng)
        if clip is not None:
            clips.append(with_offbeat_accents(clip, rng) if offbeat and rng.random() < offbeat else clip)
    return clips


def make_shard(clips: list[Clip], soundfont: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Features and beat/downbeat frame indices of rendered clips, as arrays for one npz shard."""
    waves = render(clips, soundfont, rng)
    feats, beats, downs, lengths, nb, nd = [], [], [], [], [], []
    fps = model_fps()
    for clip, wave in zip(clips, waves, strict=True):
        if rng.random() < AUGMENT_P:
            wave = augment(wave, rng)
        f = log_mel(wave).astype(np.float16)
        feats.append(f)
        lengths.append(len(f))
        b = np.asarray(clip.extra["beats"]) * fps
        d = np.asarray(clip.extra["downbeats"]) * fps
        beats.append(b)
        downs.append(d)
        nb.append(len(b))
        nd.append(len(d))
    return {"features": np.concatenate(feats), "lengths": np.array(lengths), "beats": np.concatenate(beats),
            "beat_counts": np.array(nb), "downbeats": np.concatenate(downs), "downbeat_counts": np.array(nd)}


def write_shard(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


_PIECES: list = []
_OPENMSX: list = []


def _load_pieces(midi_root: Path) -> None:
    """Pool initialiser: every worker parses the training MIDI once."""
    _PIECES[:] = _loaded(training_midi(midi_root))
    _OPENMSX[:] = _loaded(openmsx_midi())


def _loaded(paths: list[Path]) -> list:
    return [(p.stem, piece) for p in paths if (piece := load_piece(p)) is not None]


def _write_one(job: tuple[Path, int, int]) -> Path:
    path, seed, k = job
    if not path.exists():
        rng = np.random.default_rng([seed, k])
        clips = draw_excerpts(BATCH, _PIECES, rng, seed_base=(seed * 1_000_003 + k * 7919) % (1 << 30),
                              mix=shares(k), openmsx=_OPENMSX, offbeat=offbeat_share(k))
        fonts = soundfonts()
        write_shard(path, make_shard(clips, fonts[k % len(fonts)], rng))
    return path


def build_dataset(out: Path, midi_root: Path, excerpts: int, seed: int, workers: int = 1, log=print) -> list[Path]:
    """Shards of `excerpts` rendered excerpts under `out` (existing shards are kept: re-runs resume). Each
    shard depends only on (seed, its index), so the result is the same for any number of workers."""
    import multiprocessing

    out.mkdir(parents=True, exist_ok=True)
    count = int(np.ceil(excerpts / BATCH))
    jobs = [(out / f"shard-{seed}-{k:04d}.npz", seed, k) for k in range(count)]
    log(f"{len(training_midi(midi_root))} training MIDI files (benchmark's held-out ones excluded), "
        f"{len(openmsx_midi())} OpenMSX songs, "
        f"soundfonts {[f.name for f in soundfonts()]}, {count} shards of {BATCH} excerpts")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_load_pieces, initargs=(midi_root,)) as pool:
        for done, _ in enumerate(pool.imap_unordered(_write_one, jobs), 1):
            if done % 5 == 0 or done == count:
                log(f"{done}/{count} shards ready")
    return [job[0] for job in jobs]


def load_shards(paths: list[Path]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """[(features (frames, bands) float16, beat frames, downbeat frames)] for every excerpt in the shards."""
    items = []
    for path in paths:
        with np.load(path) as z:
            f_ends = np.cumsum(z["lengths"])
            b_ends = np.cumsum(z["beat_counts"])
            d_ends = np.cumsum(z["downbeat_counts"])
            feats = np.split(z["features"], f_ends[:-1])
            beats = np.split(z["beats"], b_ends[:-1])
            downs = np.split(z["downbeats"], d_ends[:-1])
        items += list(zip(feats, beats, downs, strict=True))
    return items
