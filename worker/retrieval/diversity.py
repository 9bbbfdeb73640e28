"""How diverse a result list is: what the prior is for. MISCS (mean intra-set cosine similarity, lower = more
diverse) over the results' track vectors, and the entropy of a label (artist, else album, else folder)."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence

import numpy as np


def miscs(vectors: np.ndarray) -> float:
    """Mean cosine similarity over distinct pairs of unit vectors (0 for fewer than two)."""
    n = len(vectors)
    if n < 2:
        return 0.0
    gram = vectors @ vectors.T
    return float((gram.sum() - np.trace(gram)) / (n * (n - 1)))


def label_entropy(labels: Sequence[str]) -> float:
    """Shannon entropy (bits) of the label distribution; log2(n) when all differ."""
    counts = Counter(labels)
    total = sum(counts.values())
    return float(-sum(c / total * math.log2(c / total) for c in counts.values())) if total else 0.0


def result_label(path: str, artist: str | None, album: str | None) -> str:
    return artist or album or os.path.basename(os.path.dirname(path))


def diversity_report(vectors: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    return {"miscs": round(miscs(vectors), 6), "label_entropy": round(label_entropy(labels), 6),
            "distinct_labels": len(set(labels)), "n": len(labels)}
