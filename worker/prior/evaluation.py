"""Scoring seed generators on a labelled retrieval task (the benchmarks' common core).

Retrieval as the product does it: top windows per seed from a FAISS inner-product index, merged across seeds
by reciprocal-rank fusion (ties broken by best cosine); one seed is a plain kNN. Metrics per the paper's
appendix B: Recall@K of each query's ground-truth item, FMD of all seeds against the real labelled items,
MISCS of each query's seeds, triplet accuracy against an item of another concept, label entropy@K.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import faiss
import numpy as np

from worker.prior.metrics import fmd, label_entropy_at_k, mean_recall_at_k, miscs, triplet_accuracy

RRF_K = 60.0  # the usual reciprocal-rank-fusion constant (as worker/retrieval)
PER_SEED = 64  # items fetched per seed before merging
RECALL_KS = (10, 100)
ENTROPY_K = 10


class LabelledTask(Protocol):
    library: np.ndarray
    item_concept: np.ndarray
    item_mode: np.ndarray
    test_items: np.ndarray
    labelled: int


def build_index(library: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(library.shape[1])
    index.add(np.ascontiguousarray(library, dtype=np.float32))
    return index


def merged_ranking(scores: np.ndarray, ids: np.ndarray, k: int) -> list[int]:
    """Top k ids fused over seeds: Σ 1/(RRF_K + rank) per item, then best score (rows = seeds)."""
    if len(ids) == 1:
        return [int(i) for i in ids[0, :k] if i >= 0]
    fused: dict[int, float] = {}
    best: dict[int, float] = {}
    for row_scores, row_ids in zip(scores, ids, strict=True):
        for rank, (score, item) in enumerate(zip(row_scores, row_ids, strict=True)):
            if item < 0:
                continue
            item = int(item)
            fused[item] = fused.get(item, 0.0) + 1.0 / (RRF_K + rank)
            best[item] = max(best.get(item, -2.0), float(score))
    return sorted(fused, key=lambda i: (-fused[i], -best[i]))[:k]


def rankings(index: faiss.Index, seeds: Sequence[np.ndarray], k: int, per_seed: int = PER_SEED
             ) -> list[list[int]]:
    """One merged ranking of k items per query, from that query's (s, d) seeds."""
    counts = [len(s) for s in seeds]
    fetch = k if max(counts) == 1 else max(per_seed, k)
    scores, ids = index.search(np.ascontiguousarray(np.concatenate(seeds), dtype=np.float32), fetch)
    out, start = [], 0
    for count in counts:
        out.append(merged_ranking(scores[start:start + count], ids[start:start + count], k))
        start += count
    return out


def triplet_negatives(task: LabelledTask, seed: int = 0) -> np.ndarray:
    """For each test query, a labelled item of another concept (fixed by `seed`)."""
    rng = np.random.default_rng(seed)
    concepts = task.item_concept[task.test_items]
    negatives = rng.integers(0, task.labelled, size=len(concepts))
    clash = task.item_concept[negatives] == concepts
    while np.any(clash):
        negatives[clash] = rng.integers(0, task.labelled, size=int(clash.sum()))
        clash = task.item_concept[negatives] == concepts
    return negatives


def evaluate(task: LabelledTask, seeds: Sequence[np.ndarray], index: faiss.Index | None = None
             ) -> dict[str, float]:
    """Metrics of per-test-query seed sets (unit (s, d) arrays, s = 1 for deterministic methods)."""
    if len(seeds) != len(task.test_items):
        raise ValueError(f"{len(seeds)} seed sets for {len(task.test_items)} test queries")
    index = index or build_index(task.library)
    ranked = rankings(index, seeds, max(RECALL_KS))
    result: dict[str, float] = {}
    for k in RECALL_KS:
        hits = [gt in r[:k] for gt, r in zip(task.test_items, ranked, strict=True)]
        result[f"recall@{k}"] = float(np.mean(hits))
    pooled = np.concatenate(seeds)
    result["fmd"] = fmd(pooled, task.library[:task.labelled])
    result["miscs"] = float(np.mean([miscs(s) if len(s) > 1 else 1.0 for s in seeds]))
    negatives = task.library[triplet_negatives(task)]
    positives = task.library[task.test_items]
    per_seed = [triplet_accuracy(s, np.broadcast_to(p, s.shape), np.broadcast_to(n, s.shape))
                for s, p, n in zip(seeds, positives, negatives, strict=True)]
    result["triplet_acc"] = float(np.mean(per_seed))
    result[f"entropy@{ENTROPY_K}"] = float(np.mean([label_entropy_at_k(task.item_mode[r], ENTROPY_K)
                                                    for r in ranked]))
    return result


def evaluate_relevant(library: np.ndarray, seeds: Sequence[np.ndarray], relevant: Sequence[set[int]],
                      positives: np.ndarray, negatives: np.ndarray, labels: Sequence[object],
                      index: faiss.Index | None = None) -> dict[str, float]:
    """The same metrics when each query has a set of relevant library rows (one-to-many labels: a caption such as
    "fast piano" fits many clips): Recall@K = relevant rows in the top K / all relevant rows (appendix B.6); FMD of
    all seeds against the queries' paired clips `positives`; triplet accuracy of each seed for its positive
    against a non-relevant `negatives` row; entropy@10 over `labels` of the library rows retrieved."""
    if not len(seeds) == len(relevant) == len(positives) == len(negatives):
        raise ValueError("one seed set, relevant set, positive and negative per query")
    index = index or build_index(library)
    ranked = rankings(index, seeds, max(RECALL_KS))
    result = {f"recall@{k}": mean_recall_at_k(ranked, relevant, k) for k in RECALL_KS}
    result["fmd"] = fmd(np.concatenate(seeds), library[positives])
    result["miscs"] = float(np.mean([miscs(s) if len(s) > 1 else 1.0 for s in seeds]))
    result["triplet_acc"] = float(np.mean([
        triplet_accuracy(s, np.broadcast_to(library[p], s.shape), np.broadcast_to(library[n], s.shape))
        for s, p, n in zip(seeds, positives, negatives, strict=True)]))
    result[f"entropy@{ENTROPY_K}"] = float(np.mean([label_entropy_at_k([labels[i] for i in r], ENTROPY_K)
                                                    for r in ranked]))
    return result
