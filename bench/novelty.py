"""Benchmark of the novelty guard (issue 10, MusicLDM §4.2.2): SIM_AA@90/95 of generated cues per back-end.

A small library is indexed with the active encoder (registry default unless --encoder): real recordings from
the local corpus (`/work/shared/corpus/fetch.sh music-small`: --tracks indexed, as many held out) plus FluidSynth
renders of MIDI songs (~/.cache/cuesteer/bench-renders/scale1: the same GM soundfont our symbolic back-end
renders with — the closest thing to "its training data"). Then ≥ 100 cues per available back-end are generated
(random seeds, random prompts) and each cue's nearest-neighbour similarity to the library (windows + whole) is
measured exactly as the product's guard does (`worker.generate.novelty.check_novelty`).

Peers measured in the same run: real music the library does not hold (held-out corpus tracks, 10-s excerpts),
which shows what "different music of the same kind" scores in this embedding space; and excerpts of indexed
tracks (copies), which the guard must flag (SIM_AA ≈ 1).

    python bench/novelty.py [--cues 100] [--seconds 8] [--tracks 20] [--backends symbolic,musicgen,musicldm]
                            [--encoder NAME] [--library DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.encoders.registry import get_encoder  # noqa: E402
from worker.generate.api import generate_cue, make_generator  # noqa: E402
from worker.generate.base import GenerateError  # noqa: E402
from worker.generate.novelty import SIM_AA_THRESHOLDS, check_novelty, sim_aa  # noqa: E402
from worker.jobs import Job  # noqa: E402
from worker.library.decode import DecodeError, decode_mono  # noqa: E402
from worker.service import Service  # noqa: E402
from worker.settings import cache_dir, corpus_dir  # noqa: E402

PROMPTS = ("calm solo piano", "tense strings", "upbeat pop with drums", "slow ambient pad", "fast rock",
           "warm acoustic guitar", "dark cinematic", "playful marimba", "jazz trio", "epic orchestra")
MUSIC_SMALL = ("singularity-music", "hyperrogue-music", "blobwars-data")  # fetch.sh music-small
RENDERS = cache_dir() / "bench-renders" / "scale1"
EXCERPT_S = 10.0
HELD_OUT = 20  # held-out real tracks (the peer)
COPIES = 20  # excerpts of indexed tracks (the positive control)


def music_small(limit: int) -> list[str]:
    """Audio files of the `music-small` packages (fetch.sh), in manifest order, at most `limit`."""
    with (corpus_dir() / "manifest.csv").open(newline="") as handle:
        rows = [r["path"] for r in csv.DictReader(handle)
                if r["kind"] == "audio" and r["package"] in MUSIC_SMALL and Path(r["path"]).exists()]
    return rows[:limit]


def build_library(folder: Path, encoder_name: str, tracks: int) -> tuple[Service, list[str], list[str]]:
    """Index corpus tracks (every other one; the rest are held out) and the MIDI renders."""
    files = music_small(2 * tracks)
    indexed, held_out = files[::2], files[1::2]
    renders = sorted(str(p) for p in RENDERS.glob("*.wav"))
    service = Service(folder, encoder=encoder_name)
    if service.library.encoder is None:
        t0 = time.time()
        report = service.index(job=Job(), paths=indexed + renders)
        print(f"indexed {report.get('indexed')} files with {encoder_name} in {time.time() - t0:.0f} s",
              file=sys.stderr)
    return service, indexed + renders, held_out


def nearest(service: Service, waves: list[tuple[np.ndarray, int]], encoder) -> list[float]:
    index = service.searcher.index()
    return [check_novelty(w, sr, encoder, library=service.library, index=index).similarity for w, sr in waves]


def excerpts(paths: list[str], n: int, sample_rate: int, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    out = []
    for path in paths:
        if len(out) == n:
            break
        try:
            wave = decode_mono(path, sample_rate, max_seconds=120.0)
        except DecodeError:
            continue
        if len(wave) < EXCERPT_S * sample_rate * 2:
            continue
        start = int(rng.integers(0, len(wave) - int(EXCERPT_S * sample_rate)))
        out.append((wave[start:start + int(EXCERPT_S * sample_rate)], sample_rate))
    return out


def summary(name: str, sims: list[float]) -> dict:
    arr = np.asarray(sims)
    row = {"set": name, "n": len(sims), **{f"SIM_AA@{round(t * 100)}": round(sim_aa(arr, t), 3)
                                          for t in SIM_AA_THRESHOLDS},
           "mean_nn": round(float(arr.mean()), 3), "median_nn": round(float(np.median(arr)), 3),
           "max_nn": round(float(arr.max()), 3)}
    print(f"{name:<28} n={row['n']:<4} SIM_AA@90 {row['SIM_AA@90']:.3f}  SIM_AA@95 {row['SIM_AA@95']:.3f}  "
          f"nearest-neighbour similarity mean {row['mean_nn']:.3f} median {row['median_nn']:.3f} "
          f"max {row['max_nn']:.3f}")
    return row


def generated(backend: str, encoder, n: int, seconds: float, rng: np.random.Generator
              ) -> tuple[list[tuple[np.ndarray, int]], list[str], float]:
    generator = make_generator(backend, encoder=encoder)
    cues, labels = [], []
    t0 = time.time()
    for i in range(n):
        seed = int(rng.integers(0, 2**31 - 1))
        prompt = PROMPTS[i % len(PROMPTS)]
        cue = generate_cue(backend, encoder=encoder, seeds=None, phrases=[prompt], seconds=seconds, seed=seed,
                           generator=generator)
        cues.append((cue.mix, cue.sample_rate))
        labels.append(f"{prompt} / seed {seed}")
        if (i + 1) % 20 == 0:
            print(f"  {backend}: {i + 1}/{n} cues ({time.time() - t0:.0f} s)", file=sys.stderr)
    return cues, labels, time.time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cues", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--tracks", type=int, default=20, help="music-small tracks to index (as many held out)")
    parser.add_argument("--backends", default="symbolic,musicgen,musicldm")
    parser.add_argument("--encoder", default=None, help="default: the registry's choice")
    parser.add_argument("--library", default=None, help="reuse/keep the bench library here (default: temporary)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    encoder = get_encoder(args.encoder)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.library) if args.library else Path(tmp) / "library"
        service, indexed, held_out = build_library(folder, encoder.id, args.tracks)
        counts = service.library.counts()
        print(f"library: {counts.get('ok', 0)} tracks, {counts.get('vectors', 0)} vectors, encoder {encoder.id} "
              f"{encoder.version}; thresholds {SIM_AA_THRESHOLDS}")
        rows = []
        for backend in args.backends.split(","):
            try:
                cues, labels, took = generated(backend, encoder, args.cues, args.seconds, rng)
            except GenerateError as exc:
                print(f"{backend:<28} unavailable: {str(exc).splitlines()[0]}")
                rows.append({"set": backend, "unavailable": str(exc)})
                continue
            sims = nearest(service, cues, encoder)
            row = summary(f"{backend} ({args.seconds:g}-s cues)", sims)
            row["generation_s"] = round(took, 1)
            worst = int(np.argmax(sims))
            report = check_novelty(*cues[worst], encoder, library=service.library)
            print(f"  closest cue: {labels[worst]} → {report.nearest[0].label} ({report.similarity:.3f})")
            rows.append(row)
        rows.append(summary("peer: held-out real tracks", nearest(
            service, excerpts(held_out, HELD_OUT, encoder.sample_rate, rng), encoder)))
        rows.append(summary("peer: copies (indexed excerpts)", nearest(
            service, excerpts(indexed, COPIES, encoder.sample_rate, rng), encoder)))
        service.close()
    print(json.dumps({"encoder": encoder.id, "rows": rows}))


if __name__ == "__main__":
    main()
