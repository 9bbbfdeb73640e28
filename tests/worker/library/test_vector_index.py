"""Vector search: exact top-k for one query and for many, and the caller's FAISS thread setting survives."""

from __future__ import annotations

import faiss
import numpy as np

from worker.library.vector_index import SINGLE_THREAD_BELOW, build_index, search


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_few_and_many_queries_give_exact_top_k_and_restore_threads() -> None:
    rng = np.random.default_rng(0)
    data = _unit(rng.standard_normal((3000, 24)))
    ids = np.arange(3000, dtype=np.int64) * 7
    index = build_index(ids, data, kind="flat")
    before = faiss.omp_get_max_threads()
    for n in (1, SINGLE_THREAD_BELOW + 5):
        queries = _unit(rng.standard_normal((n, 24)))
        scores, got = search(index, queries, 10)
        expected = ids[np.argsort(-(queries @ data.T), axis=1)[:, :10]]
        assert np.array_equal(got, expected) and scores.shape == (n, 10)
        assert faiss.omp_get_max_threads() == before
