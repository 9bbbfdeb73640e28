"""Generation quality per back-end (issue 10; PixMus §5.3, MusicLDM §4.2): Fréchet distance to the library in
the active embedding space, text–audio similarity of prompts vs outputs, and spectral-feature errors against a
reference recording.

The task: "make something like this reference" — for each of --refs held-out real recordings (10-s excerpts of
music-small tracks the library does not hold, see bench/novelty.py), a cue is generated with the reference's
embedding as the seed (the path `cuesteer generate --like`-style seeds take) and a prompt; the same request
without the seed is the unsteered peer. Figures:
  - FD: Fréchet distance (worker.prior.metrics.fmd) between the cues' window embeddings and the library's window
    embeddings; peer: the reference excerpts themselves (real music the library does not hold).
  - Text–audio similarity: cos(prompt embedding, cue embedding) when the encoder has a text tower (MusicLDM's
    Et·Ea); peer: the best library track per prompt ("RetrievalMax").
  - Spectral errors vs the reference (PixMus): per-frame spectral centroid (kHz), spectral contrast (dB, 7 octave
    bands from 200 Hz, peak/valley = mean of the top/bottom 2 % of each band), chroma (12 pitch classes scaled
    to unit maximum per frame); MAE and RMSE over frames aligned from the start (PixMus's definition) and of the
    time-averaged profiles; peer: a different held-out recording in place of the cue.

    python bench/generation_quality.py [--refs 20] [--seconds 10] [--backends symbolic,musicgen,musicldm]
                                       [--library DIR] [--encoder NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.novelty import build_library  # noqa: E402
from worker.analysis.chroma import chromagram  # noqa: E402
from worker.analysis.spectral import ANALYSIS_RATE, magnitude_spectrogram  # noqa: E402
from worker.encoders.base import unit  # noqa: E402
from worker.encoders.registry import get_encoder  # noqa: E402
from worker.generate.api import generate_cue, make_generator  # noqa: E402
from worker.generate.base import GenerateError  # noqa: E402
from worker.generate.novelty import cue_vectors  # noqa: E402
from worker.library.catalogue import KIND_TRACK, KIND_WINDOW  # noqa: E402
from worker.library.decode import DecodeError, decode_mono  # noqa: E402
from worker.prior.metrics import fmd  # noqa: E402
from worker.settings import cache_dir  # noqa: E402

PROMPTS = ("calm solo piano", "tense strings", "upbeat pop with drums", "slow ambient pad", "fast rock",
           "warm acoustic guitar", "dark cinematic", "playful marimba", "jazz trio", "epic orchestra")
EXCERPT_S = 10.0
CONTRAST_FMIN = 200.0
CONTRAST_BANDS = 6  # → 7 rows: below 200 Hz, then 6 octaves
CONTRAST_QUANTILE = 0.02
FEATURE_FRAME, FEATURE_HOP = 2048, 512
DEFAULT_LIBRARY = cache_dir() / "bench-novelty-lib"


# -- features (PixMus §5.3.3) ------------------------------------------------------------------------------------
def spectral_centroid_khz(magnitude: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """(frames,) magnitude-weighted mean frequency in kHz (silent frames: 0)."""
    freqs = np.fft.rfftfreq(2 * (magnitude.shape[1] - 1), 1.0 / sample_rate)
    total = magnitude.sum(axis=1)
    return np.where(total > 1e-9, magnitude @ freqs / np.maximum(total, 1e-9), 0.0) / 1000.0


def spectral_contrast_db(magnitude: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """(frames, CONTRAST_BANDS + 1) peak-to-valley ratio in dB per octave band (librosa's definition)."""
    freqs = np.fft.rfftfreq(2 * (magnitude.shape[1] - 1), 1.0 / sample_rate)
    edges = [0.0] + [CONTRAST_FMIN * 2.0**k for k in range(CONTRAST_BANDS)] + [sample_rate / 2.0 + 1.0]
    out = np.zeros((len(magnitude), len(edges) - 1))
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        band = np.sort(magnitude[:, (freqs >= lo) & (freqs < hi)], axis=1)
        n = max(1, int(round(CONTRAST_QUANTILE * band.shape[1])))
        peak, valley = band[:, -n:].mean(axis=1), band[:, :n].mean(axis=1)
        out[:, b] = 20.0 * np.log10((peak + 1e-10) / (valley + 1e-10))
    return out


def features(wave: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame centroid (frames, 1), contrast (frames, 7) and chroma (frames', 12) of a wave at ANALYSIS_RATE."""
    magnitude = magnitude_spectrogram(wave, FEATURE_FRAME, FEATURE_HOP)
    return {"centroid": spectral_centroid_khz(magnitude)[:, None], "contrast": spectral_contrast_db(magnitude),
            "chroma": chromagram(wave)}


def feature_errors(generated: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, float]:
    """MAE/RMSE per feature over frames aligned from the start, and of the time-averaged profiles."""
    out = {}
    for name in generated:
        n = min(len(generated[name]), len(reference[name]))
        diff = generated[name][:n] - reference[name][:n]
        out[f"{name}_mae"] = float(np.abs(diff).mean())
        out[f"{name}_rmse"] = float(np.sqrt((diff**2).mean()))
        profile = generated[name].mean(axis=0) - reference[name].mean(axis=0)
        out[f"{name}_profile_mae"] = float(np.abs(profile).mean())
    return out


# -- the run -------------------------------------------------------------------------------------------------------
def references(paths: list[str], n: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """10-s excerpts (at ANALYSIS_RATE) from the middle third of held-out recordings."""
    out = []
    for path in paths:
        if len(out) == n:
            break
        try:
            wave = decode_mono(path, ANALYSIS_RATE, max_seconds=180.0)
        except DecodeError:
            continue
        size = int(EXCERPT_S * ANALYSIS_RATE)
        if len(wave) < 3 * size:
            continue
        start = int(rng.integers(len(wave) // 3, 2 * len(wave) // 3 - size))
        out.append((path, wave[start:start + size]))
    return out


def embed(wave: np.ndarray, sample_rate: int, encoder) -> tuple[np.ndarray, np.ndarray]:
    """(window vectors, whole vector) of a wave, exactly as the novelty guard embeds cues."""
    vectors, _ = cue_vectors(wave, sample_rate, encoder)
    return vectors[:-1], vectors[-1]


def averaged(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def print_row(name: str, row: dict) -> None:
    text = row.get("text_audio")
    text = f"{text:.3f}" if isinstance(text, float) else "n/a"
    parts = [f"{name:<40} FD {row['fd']:8.4f}  text–audio {text:>6}"]
    for feature, unit_name, digits in (("centroid", "kHz", 3), ("contrast", "dB", 2), ("chroma", "", 3)):
        parts.append(f"{feature} MAE {row[feature + '_mae']:.{digits}f}{unit_name} "
                     f"RMSE {row[feature + '_rmse']:.{digits}f} (profile {row[feature + '_profile_mae']:.{digits}f})")
    print("  ".join(parts), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=EXCERPT_S)
    parser.add_argument("--tracks", type=int, default=20, help="as bench/novelty.py (library build only)")
    parser.add_argument("--backends", default="symbolic,musicgen,musicldm")
    parser.add_argument("--library", default=str(DEFAULT_LIBRARY))
    parser.add_argument("--encoder", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    encoder = get_encoder(args.encoder)
    rng = np.random.default_rng(args.seed)
    service, _indexed, held_out = build_library(Path(args.library), encoder.id, args.tracks)
    _, library_windows = service.library.vectors(KIND_WINDOW)
    _, library_tracks = service.library.vectors(KIND_TRACK)
    refs = references(held_out, args.refs, rng)
    print(f"library: {len(library_windows)} windows / {len(library_tracks)} tracks, encoder {encoder.id} "
          f"{encoder.version} ({encoder.dim}-d); {len(refs)} reference excerpts of {EXCERPT_S:g} s")
    ref_embedded = [embed(w, ANALYSIS_RATE, encoder) for _, w in refs]
    ref_features = [features(w) for _, w in refs]
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(len(refs))]
    prompt_vectors = unit(encoder.embed_text(prompts)) if encoder.has_text else None
    results = []

    # peer: real recordings the library does not hold (each scored against another reference's features)
    shifted = [ref_features[(i + 1) % len(refs)] for i in range(len(refs))]
    peer = {"fd": fmd(np.concatenate([w for w, _ in ref_embedded]), library_windows),
            "text_audio": None if prompt_vectors is None else float(np.mean(
                (prompt_vectors @ unit(library_tracks).T).max(axis=1))),
            **averaged([feature_errors(f, s) for f, s in zip(ref_features, shifted, strict=True)])}
    print_row("peer: held-out real recordings", peer)
    results.append({"set": "peer: held-out real (another reference)", **peer})

    for backend in args.backends.split(","):
        try:
            generator = make_generator(backend, encoder=encoder)
        except GenerateError as exc:
            print(f"{backend:<34} unavailable: {str(exc).splitlines()[0]}")
            results.append({"set": backend, "unavailable": str(exc)})
            continue
        for steered in (True, False):
            started = time.perf_counter()
            windows, wholes, errors = [], [], []
            for i, (_, ref_whole) in enumerate(ref_embedded):
                cue = generate_cue(backend, encoder=encoder, seeds=ref_whole[None, :] if steered else None,
                                   phrases=[prompts[i]], seconds=args.seconds, seed=int(rng.integers(2**31 - 1)),
                                   generator=generator)
                mono = cue.mix.mean(axis=1)
                win, whole = embed(mono, cue.sample_rate, encoder)
                windows.append(win)
                wholes.append(whole)
                errors.append(feature_errors(features(soxr.resample(mono, cue.sample_rate, ANALYSIS_RATE)),
                                             ref_features[i]))
            row = {"fd": fmd(np.concatenate(windows), library_windows),
                   "text_audio": None if prompt_vectors is None else float(np.mean(
                       (prompt_vectors * np.stack(wholes)).sum(axis=1))),
                   **averaged(errors), "seconds_per_cue": round((time.perf_counter() - started) / len(refs), 1)}
            name = f"{backend} ({'seeded by the reference' if steered else 'unsteered'})"
            print_row(name, row)
            results.append({"set": name, **row})
    service.close()
    print(json.dumps({"encoder": encoder.id, "refs": len(refs), "rows": results}, default=float))


if __name__ == "__main__":
    main()
