"""Vector search: exact top-k for one query and for many, and the caller's FAISS thread setting survives."""

from __future__ import annotations

import faiss
import numpy as np

from worker.library import vector_index
from worker.library.vector_index import (
    SINGLE_THREAD_BELOW,
    build_index,
    index_kind,
    load_index,
    reduced_dim,
    save_index,
    search,
)


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


def _low_rank(n: int, dim: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors whose variance lives in a `rank`-dimensional subspace, plus a little isotropic noise."""
    basis = np.linalg.qr(rng.standard_normal((dim, rank)))[0].T
    return _unit(rng.standard_normal((n, rank)) @ basis + 0.05 * rng.standard_normal((n, dim)))


def test_mid_sized_libraries_pre_rank_in_a_subspace_with_the_exact_top_k_and_survive_a_reload(
        tmp_path, monkeypatch) -> None:
    n, dim = 6000, 64
    monkeypatch.setattr(vector_index, "REDUCED_THRESHOLD", n)  # 50k in the product; smaller keeps the test short
    rng = np.random.default_rng(1)
    data = _low_rank(n, dim, 8, rng)
    ids = np.arange(n, dtype=np.int64) + 100
    assert index_kind(build_index(ids[:n - 1], data[:n - 1])) == "flat"
    assert reduced_dim(data) == 16  # 8 strong directions hold > 90 % of the variance; rounded up to 16
    index = build_index(ids, data)
    assert index_kind(index) == "reduced"
    save_index(index, tmp_path, generation=3)
    loaded, generation = load_index(tmp_path)
    assert generation == 3 and index_kind(loaded) == "reduced"
    queries = _unit(data[:40] + 0.3 * rng.standard_normal((40, dim)))  # off the data, like prior seeds
    blas = faiss.cvar.distance_compute_blas_threshold
    scores, got = search(loaded, queries, 10)
    assert faiss.cvar.distance_compute_blas_threshold == blas
    exact = queries @ data.T
    expected = ids[np.argsort(-exact, axis=1)[:, :10]]
    assert np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, expected, strict=True)]) >= 0.95
    assert np.allclose(scores, np.take_along_axis(exact, got - 100, axis=1), atol=1e-5)  # exact re-scores
    assert np.array_equal(search(build_index(ids, data), queries, 10)[1], got)  # same vectors, same index


def test_vectors_without_a_small_principal_subspace_stay_flat(monkeypatch) -> None:
    monkeypatch.setattr(vector_index, "REDUCED_THRESHOLD", 1000)
    data = _unit(np.random.default_rng(2).standard_normal((1000, 32)))  # isotropic: no subspace to pre-rank in
    assert reduced_dim(data) is None
    assert index_kind(build_index(np.arange(1000), data)) == "flat"
