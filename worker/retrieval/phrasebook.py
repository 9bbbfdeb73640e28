"""Pseudo-pairs for the conditional prior: descriptor phrases matched to each track (paper §4.1, "pseudo-pairs").

Each library vector is matched to the phrases whose text embeddings lie nearest to it in the library's own
music–text space; a condition is the mean of a few phrases drawn from the nearest ones (softmax over
similarity), so one track gets several plausible descriptions and one description covers many tracks: the
one-to-many mapping a diffusion prior models and a regression averages away. The condition is then the same
phrases in the condition encoder's space (CLIP's text tower when CLIP conditions the prior).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PHRASES: tuple[str, ...] = (
    # instruments
    "solo piano", "acoustic guitar", "electric guitar", "strings", "violin", "cello", "brass", "trumpet",
    "flute", "choir", "organ", "synth pad", "synth lead", "bass guitar", "drums", "percussion", "harp",
    "marimba", "electric piano", "orchestra",
    # mood
    "calm", "happy", "sad", "dark", "tense", "epic", "romantic", "playful", "mysterious", "uplifting",
    "melancholic", "aggressive", "dreamy", "warm",
    # tempo and energy
    "slow", "fast", "mid tempo", "driving beat", "soft", "loud", "sparse", "dense",
    # styles
    "cinematic", "ambient", "electronic", "rock", "jazz", "folk", "classical", "lofi hip hop",
)
CANDIDATES = 8  # phrases drawn from the nearest this many
TEMPERATURE = 0.05  # softmax temperature over cosine similarity
PHRASES_PER_CONDITION = (1, 3)  # inclusive range of phrases averaged into one condition
CONDITIONS_PER_ITEM = 2


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def match_phrases(vectors: np.ndarray, phrase_vectors: np.ndarray, *, seed: int = 0,
                  per_item: int = CONDITIONS_PER_ITEM, candidates: int = CANDIDATES,
                  temperature: float = TEMPERATURE) -> tuple[np.ndarray, list[list[int]]]:
    """(item rows, phrase indices per pair): `per_item` draws for each of the (n, d) `vectors`.

    Both inputs live in the library's space (audio vectors, text embeddings of the phrases).
    """
    rng = np.random.default_rng(seed)
    sims = np.asarray(vectors, np.float32) @ np.asarray(phrase_vectors, np.float32).T
    top = min(candidates, sims.shape[1])
    nearest = np.argsort(-sims, axis=1)[:, :top]
    rows, chosen = [], []
    lo, hi = PHRASES_PER_CONDITION
    for i, near in enumerate(nearest):
        logits = sims[i, near] / temperature
        p = np.exp(logits - logits.max())
        p /= p.sum()
        for _ in range(per_item):
            count = int(rng.integers(lo, min(hi, top) + 1))
            rows.append(i)
            chosen.append([int(j) for j in rng.choice(near, size=count, replace=False, p=p)])
    return np.asarray(rows, dtype=np.int64), chosen


def pair_conditions(chosen: Sequence[Sequence[int]], condition_phrase_vectors: np.ndarray) -> np.ndarray:
    """One unit condition per pair: the mean of its phrases' (unit) embeddings in the condition space."""
    phrase_vectors = unit_rows(condition_phrase_vectors)
    return unit_rows(np.stack([phrase_vectors[list(c)].mean(axis=0) for c in chosen]))
