"""Build and cache the training/evaluation sets as shards of log-mel views + exact tokens + captions.

Shards are deterministic functions of (seed, split, index), cached under ~/.cache/cuesteer/offline-train/, so
an interrupted build resumes and a rerun with the same seed reuses them. Evaluation shards keep their audio
(int16) so benchmarks can run the whole encoder on them; whole source pieces never cross splits.

Two data recipes, chosen by shard index so earlier shards stay valid: recipe 1 (shards below RECIPE2_FROM) is our
generator plus the corpus MIDI; recipe 2 adds music21's scores and mma's grooves (training-only extra `train`;
without them their share falls back to the generator) and makes generated solos commoner.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from worker.encoders.offline import features
from worker.encoders.offline.train import mma_source, music21_source
from worker.encoders.offline.train.attributes import clip_tokens
from worker.encoders.offline.train.augment import augment
from worker.encoders.offline.train.captions import sample_captions
from worker.encoders.offline.train.clip import Clip
from worker.encoders.offline.train.compose import SOLO_HEAVY, compose
from worker.encoders.offline.train.midi_slices import load_piece, slice_piece
from worker.encoders.offline.train.render import render_clips, soundfonts

CLIP_S = 8.0
CLIPS_PER_SHARD = 32
VIEWS = 2  # view 0: light (gain + EQ), view 1: full augmentation chain
CAPTIONS_PER_CLIP = 9
MIDI_SHARE = 0.3  # fraction of clips cut from real MIDI pieces when any are available
EVAL_EVERY = 5  # every 5th MIDI piece (sorted by name) is held out
SILENT_RMS = 1e-3
GEN_EVAL_OFFSET = 10_000_000  # generated eval pieces use seeds from here: disjoint from training pieces
RECIPE2_FROM = {"train": 70, "eval": 13}  # first shard index built with recipe 2 (earlier ones: recipe 1)
# recipe 2: share of clips per source, in draw order (the rest: our generator, solo-heavy)
MUSIC21_SHARE, MMA_SHARE, CORPUS_MIDI_SHARE = 0.25, 0.2, 0.1
MUSIC21_REINSTRUMENT_P = 0.8  # scores mostly export as piano or voices: spread them over the families


@dataclass
class Sources:
    """The source pieces of one split: corpus MIDI files, music21 scores as MIDI, mma grooves."""
    midi: list[Path] = field(default_factory=list)
    music21: list[Path] = field(default_factory=list)
    mma: list[tuple[str, str]] = field(default_factory=list)


def recipe(split: str, index: int) -> int:
    return 2 if index >= RECIPE2_FROM[split] else 1


def default_cache_dir() -> Path:
    default = Path.home() / ".cache" / "cuesteer" / "offline-train"
    return Path(os.environ.get("CUESTEER_OFFLINE_CACHE", default))


def midi_files() -> list[Path]:
    """Real MIDI pieces from the corpus set `midi` (`fetch.sh midi`), if downloaded."""
    root = Path(os.environ.get("CUESTEER_CORPUS", Path.home() / ".cache" / "cuesteer-corpus")) / "midi"
    return sorted(root.rglob("*.mid")) if root.exists() else []


def split_pieces(paths: list[Path]) -> dict[str, list[Path]]:
    return {"train": [p for i, p in enumerate(paths) if i % EVAL_EVERY],
            "eval": [p for i, p in enumerate(paths) if not i % EVAL_EVERY]}


def split_sources(split: str, cache_dir: Path, need_extra: bool) -> Sources:
    """Sources of a split; music21 scores are converted (cached) only when a recipe-2 shard needs them."""
    sources = Sources(midi=split_pieces(midi_files())[split])
    if need_extra:
        eval_split = split == "eval"
        sources.music21 = [p for p in music21_source.prepare(cache_dir)
                           if music21_source.is_held_out(p.stem) == eval_split]
        sources.mma = mma_source.split_grooves(split)
    return sources


def make_clips(split: str, index: int, seed: int, pieces: list[Path] | Sources, n_clips: int = CLIPS_PER_SHARD,
               seconds: float = CLIP_S) -> list[Clip]:
    sources = pieces if isinstance(pieces, Sources) else Sources(midi=list(pieces))
    if recipe(split, index) == 2:
        return _recipe2_clips(split, index, seed, sources, n_clips, seconds)
    pieces = sources.midi
    rng = np.random.default_rng([seed, index, split == "eval"])
    base = (GEN_EVAL_OFFSET if split == "eval" else 0) + seed * 1_000_003 + index * CLIPS_PER_SHARD
    clips: list[Clip] = []
    loaded: dict[Path, object] = {}
    for k in range(n_clips):
        clip = None
        if pieces and rng.random() < MIDI_SHARE:
            path = pieces[int(rng.integers(len(pieces)))]
            try:
                pm = loaded.setdefault(path, load_piece(path))
                clip = slice_piece(pm, f"midi-{path.stem}", seconds, rng)
            except Exception:  # real-world MIDI is often malformed: fall back to a generated piece
                clip = None
        clips.append(clip or compose(base + k, seconds))
    return clips


def _recipe2_clips(split: str, index: int, seed: int, sources: Sources, n_clips: int, seconds: float) -> list[Clip]:
    rng = np.random.default_rng([seed, index, split == "eval", 2])
    base = (GEN_EVAL_OFFSET if split == "eval" else 0) + seed * 1_000_003 + index * CLIPS_PER_SHARD
    clips: list[Clip] = []
    loaded: dict[Path, object] = {}

    def sliced(paths: list[Path], prefix: str, style: str | None, reinstrument_p: float) -> Clip | None:
        path = paths[int(rng.integers(len(paths)))]
        try:
            pm = loaded.setdefault(path, load_piece(path))
            return slice_piece(pm, f"{prefix}-{path.stem}", seconds, rng, style, reinstrument_p)
        except Exception:  # noqa: BLE001 — malformed real-world MIDI: the generator stands in
            return None

    for k in range(n_clips):
        r, clip = rng.random(), None
        if r < MUSIC21_SHARE and sources.music21:
            clip = sliced(sources.music21, "music21", None, MUSIC21_REINSTRUMENT_P)
        elif r < MUSIC21_SHARE + MMA_SHARE and sources.mma:
            clip = mma_source.make_clip(sources.mma[int(rng.integers(len(sources.mma)))], base + k, seconds, rng)
        elif r < MUSIC21_SHARE + MMA_SHARE + CORPUS_MIDI_SHARE and sources.midi:
            clip = sliced(sources.midi, "midi", "game", 0.6)
        clips.append(clip or compose(base + k, seconds, SOLO_HEAVY))
    return clips


def light(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (wave / (np.abs(wave).max() + 1e-9) * 10 ** (rng.uniform(-20, 0) / 20)).astype(np.float32)


def make_shard(split: str, index: int, seed: int, pieces: list[Path] | Sources, n_clips: int = CLIPS_PER_SHARD,
               seconds: float = CLIP_S) -> dict[str, object]:
    """Render, augment and featurise one shard (pure apart from the FluidSynth subprocess); smaller shards
    (`n_clips`, `seconds`) are for tests."""
    rng = np.random.default_rng([seed, index, 7, split == "eval"])
    clips = make_clips(split, index, seed, pieces, n_clips, seconds)
    fonts = soundfonts()
    font = fonts[0] if rng.random() < 0.75 or len(fonts) == 1 else fonts[1]
    waves = render_clips(clips, font, rng)
    keep = [i for i, w in enumerate(waves) if float(np.sqrt((w**2).mean())) > SILENT_RMS]
    views = [[light(waves[i], rng), augment(waves[i], rng)] for i in keep]
    flat = torch.from_numpy(np.stack([v for pair in views for v in pair]))
    with torch.no_grad():
        mel = features.log_mel(flat).reshape(len(keep), VIEWS, features.N_MELS, -1)
    tokens = [sorted(clip_tokens(clips[i])) for i in keep]
    captions = [[(text, sorted(t)) for text, t in sample_captions(set(tok), rng, CAPTIONS_PER_CLIP)]
                for tok in tokens]
    shard: dict[str, object] = {"mel": mel.half(), "tokens": tokens, "captions": captions,
                                "sources": [clips[i].source for i in keep],
                                "bpm": [float(clips[i].bpm) for i in keep], "font": font.name}
    if split == "eval":
        pcm = np.stack([v for pair in views for v in pair]) * 32767
        shard["audio"] = torch.from_numpy(pcm.astype(np.int16))
    return shard


def save_shard(shard: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    torch.save(shard, tmp)
    os.replace(tmp, path)


def _build_one(args: tuple[str, int, int, Sources, Path]) -> Path:
    split, index, seed, pieces, path = args
    if not path.exists():
        save_shard(make_shard(split, index, seed, pieces), path)
    return path


def _init_worker() -> None:
    """One torch thread per pool worker; Ctrl-C is left to the parent, which cancels between shards
    (FluidSynth inherits the ignored signal)."""
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def build(cache_dir: Path, split: str, n_shards: int, seed: int, workers: int = 2,
          progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Ensure shards 0..n_shards-1 of a split exist in the cache; returns their paths in order.

    `progress` may raise (a cancel): shards in flight are finished and kept, queued ones are dropped."""
    root = cache_dir / f"seed{seed}"
    paths = [root / f"{split}-{i:05d}.pt" for i in range(n_shards)]
    missing = [i for i, path in enumerate(paths) if not path.exists()]
    sources = split_sources(split, cache_dir, any(recipe(split, i) == 2 for i in missing))
    todo = [(split, i, seed, sources, paths[i]) for i in missing]
    done = n_shards - len(todo)
    if progress:
        progress(done, n_shards)
    if not todo:
        return paths
    if workers <= 1:
        for job in todo:
            _build_one(job)
            done += 1
            if progress:
                progress(done, n_shards)
        return paths
    pool = ProcessPoolExecutor(workers, initializer=_init_worker)
    try:
        for future in [pool.submit(_build_one, job) for job in todo]:
            future.result()
            done += 1
            if progress:
                progress(done, n_shards)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return paths


def load_shards(paths: list[Path]) -> dict[str, object]:
    """Concatenate shards into one set (mel tensor, per-clip lists)."""
    shards = [torch.load(p, weights_only=False) for p in paths]
    t = min(s["mel"].shape[-1] for s in shards)
    out: dict[str, object] = {"mel": torch.cat([s["mel"][..., :t] for s in shards])}
    for key in ("tokens", "captions", "sources", "bpm"):
        out[key] = [x for s in shards for x in s[key]]
    if all("audio" in s for s in shards):
        out["audio"] = torch.cat([s["audio"] for s in shards])
    return out
