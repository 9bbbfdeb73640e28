"""Choosing among candidates by their embeddings: near the seeds, toward positive phrases, away from negative
ones. Pure functions of unit vectors, shared by every back-end that generates candidates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.encoders.base import unit

SEED_WEIGHT = 1.0


def candidate_scores(embeddings: np.ndarray, seeds: np.ndarray | None,
                     phrases: Sequence[tuple[np.ndarray, float]] = ()) -> np.ndarray:
    """Score per candidate: mean cosine to the seeds (their centroid direction) plus, per phrase vector,
    its signed weight × cosine — so a negative phrase penalises candidates that resemble it."""
    candidates = unit(embeddings)
    scores = np.zeros(len(candidates), np.float64)
    if seeds is not None and len(seeds):
        scores += SEED_WEIGHT * (candidates @ unit(seeds).T).mean(axis=1)
    for vector, weight in phrases:
        scores += weight * (candidates @ unit(np.asarray(vector).reshape(1, -1)).T)[:, 0]
    return scores


def best(scores: np.ndarray) -> int:
    """Index of the highest score; ties go to the earlier candidate, so the choice is reproducible."""
    return int(np.argmax(scores))
