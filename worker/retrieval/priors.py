"""The library's Diff4Steer priors: stored beside its catalogue, tied to the encoder and the library state,
trained on demand (minutes on CPU for a few thousand tracks) and turned into seed embeddings for a query."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.jobs import Job
from worker.library.catalogue import KIND_WINDOW, Library
from worker.prior.checkpoint import (
    PriorCheckpoint,
    build_model,
    load_checkpoint,
    save_checkpoint,
    stale_reason,
)
from worker.prior.training import train_prior

PRIOR_DIR = "priors"
# A library-sized default: enough steps for a few thousand tracks in a minute or two on 2 cores.
TRAIN_STEPS = 1000
TRAIN_BATCH = 256
# bench/prior_latency.py --threads 1 (100k × 512 library, CFG + 2 phrases, 16 seeds; CPU ms on a busy shared core):
# 4×128 full query p50 45 ms (sampling 35), Recall@10 0.172 vs 0.160 for 256 EM steps of the same net;
# 4×256 61 ms (sampling 53), Recall@10 0.125 on the same 256 queries.
TRAIN_WIDTH = 128
TRAIN_DEPTH = 4
STALE_GROWTH = 1.25  # retrain once the library holds 25 % more vectors than the prior saw


def prior_path(library: Library, kind: str = "unconditional") -> Path:
    enc = library.encoder
    name = enc[0] if enc else "none"
    return library.folder / PRIOR_DIR / f"{kind}-{name}.pt"


def load_prior(library: Library) -> tuple[PriorCheckpoint | None, str | None]:
    """(checkpoint, None) when a usable prior exists, else (None or the stale one, why it cannot serve)."""
    path = prior_path(library)
    if not path.exists():
        return None, "no prior trained for this library yet"
    checkpoint = load_checkpoint(path)
    enc = library.encoder
    reason = stale_reason(checkpoint, enc[0], enc[1]) if enc else "the library is empty"
    if reason is None:
        reason = growth_reason(library, checkpoint)
    return (checkpoint if reason is None else None), reason


def growth_reason(library: Library, checkpoint: PriorCheckpoint) -> str | None:
    """Why a checkpoint no longer covers the library because it grew, or None."""
    seen = int(checkpoint.info.get("vectors", 0) or 0)
    now = library.counts().get("vectors", 0)
    if seen and now > seen * STALE_GROWTH:
        return f"the library grew from {seen} to {now} vectors since the model was trained"
    return None


def train_library_prior(library: Library, *, job: Job | None = None, steps: int | None = None, seed: int = 0,
                        width: int | None = None, depth: int | None = None) -> PriorCheckpoint:
    """Train the unconditional prior on the library's window vectors and store it atomically."""
    steps, width, depth = steps or TRAIN_STEPS, width or TRAIN_WIDTH, depth or TRAIN_DEPTH
    enc = library.encoder
    if enc is None:
        raise ValueError("the library is empty: index music first")
    _, vectors = library.vectors(kind=KIND_WINDOW)
    if len(vectors) < 8:
        raise ValueError(f"the library holds only {len(vectors)} vectors; index more music to train a prior")
    checkpoint = train_prior(vectors, steps=steps, batch=min(TRAIN_BATCH, len(vectors)), seed=seed, job=job,
                             width=width, depth=depth, encoder_id=enc[0], encoder_version=enc[1])
    checkpoint.info["vectors"] = int(library.counts().get("vectors", 0))
    path = prior_path(library)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(checkpoint, path)
    return checkpoint


def sample_seeds(checkpoint: PriorCheckpoint, *, n: int, seed: int, directions: np.ndarray | None,
                 strengths: list[float] | None, slerp_target: np.ndarray | None = None,
                 slerp_ratio: float = 0.0, omega: float = 0.0, condition: np.ndarray | None = None,
                 job: Job | None = None) -> tuple[np.ndarray, list[int]]:
    """n seed embeddings and the per-sample seeds (seed, seed+1, …) that regenerate them."""
    from worker.prior.seeds import generate_seeds

    model = build_model(checkpoint)
    seeds = [seed + i for i in range(n)]
    vectors = generate_seeds(model, seeds, condition=condition, omega=omega, directions=directions,
                             strengths=strengths, slerp_target=slerp_target, slerp_ratio=slerp_ratio)
    return vectors, seeds
