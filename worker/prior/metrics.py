"""Quality, diversity and retrieval metrics of the Diff4Steer paper, as its appendix B defines them.

FMD (B.1): Fréchet distance between Gaussians fitted to generated and real embeddings,
‖μ_G − μ_R‖² + tr(Σ_G + Σ_R − 2(Σ_G Σ_R)^½). MISCS (B.2): mean cosine over distinct pairs of samples
rescaled to norm 1 (lower = more diverse). Triplet accuracy (B.4): how often ⟨pred, z₊⟩ ≥ ⟨pred, z₋⟩.
Entropy@K (B.5): −Σ p_l log p_l with p_l = n_l/K over the labels of K results. Recall@K (B.6): relevant
items among the top K over all relevant items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Sequence

import numpy as np


def gaussian_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of rows, as FID implementations estimate them."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2:
        raise ValueError("need at least two embeddings to estimate a covariance")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((a + a.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu_g: np.ndarray, cov_g: np.ndarray, mu_r: np.ndarray,
                                cov_r: np.ndarray) -> float:
    """‖μ_G − μ_R‖² + tr(Σ_G + Σ_R − 2(Σ_G Σ_R)^½); the trace of the root via the symmetric form
    (Σ_R^½ Σ_G Σ_R^½)^½, which has the same eigenvalues and is stable for singular covariances."""
    mu_g, mu_r = np.atleast_1d(mu_g), np.atleast_1d(mu_r)
    cov_g, cov_r = np.atleast_2d(cov_g), np.atleast_2d(cov_r)
    root_r = _sqrtm_psd(cov_r)
    middle = root_r @ cov_g @ root_r
    trace_root = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum())
    return float(((mu_g - mu_r) ** 2).sum() + np.trace(cov_g) + np.trace(cov_r) - 2.0 * trace_root)


def fmd(generated: np.ndarray, real: np.ndarray) -> float:
    """Fréchet distance between the generated and the real embedding sets (paper's FMD)."""
    return frechet_distance_from_stats(*gaussian_stats(generated), *gaussian_stats(real))


def miscs(samples: np.ndarray) -> float:
    """Mean intra-sample cosine similarity: 2/(n(n−1))·Σ_{i>j}⟨ẑ_i, ẑ_j⟩ of unit-rescaled rows."""
    x = np.asarray(samples, dtype=np.float64)
    n = len(x)
    if n < 2:
        raise ValueError("MISCS needs at least two samples")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    total = x.sum(axis=0)
    pair_sum = (total @ total - (x * x).sum()) / 2.0  # Σ_{i<j}⟨x_i, x_j⟩ without the n² Gram matrix
    return float(2.0 * pair_sum / (n * (n - 1)))


def recall_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """|top-k ∩ relevant| / |relevant|."""
    if not relevant:
        raise ValueError("recall is undefined without relevant items")
    relevant = set(relevant)
    return len(relevant.intersection(list(ranked)[:k])) / len(relevant)


def mean_recall_at_k(ranked_lists: Iterable[Sequence[Hashable]],
                     relevant_sets: Iterable[Collection[Hashable]], k: int) -> float:
    values = [recall_at_k(r, rel, k) for r, rel in zip(ranked_lists, relevant_sets, strict=True)]
    return float(np.mean(values))


def triplet_accuracy(predicted: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """Fraction of triplets with ⟨pred, z₊⟩ ≥ ⟨pred, z₋⟩ (rows of three (n, d) arrays)."""
    pred, pos, neg = (np.asarray(a, dtype=np.float64) for a in (predicted, positives, negatives))
    return float(np.mean((pred * pos).sum(-1) >= (pred * neg).sum(-1)))


def label_entropy_at_k(ranked_labels: Sequence[Hashable], k: int, base: float = math.e) -> float:
    """−Σ_l p_l log p_l with p_l = n_l/K over the labels of the top K results (natural log, as the paper)."""
    top = list(ranked_labels)[:k]
    if not top:
        return 0.0
    counts = np.array(list(Counter(top).values()), dtype=np.float64)
    p = counts / len(top)
    return float(-(p * np.log(p)).sum() / math.log(base))
