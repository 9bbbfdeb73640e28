"""Vector search: exact top-k for one query and for many, and the caller's FAISS thread setting survives."""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np
import pytest

from worker.library import vector_index
from worker.library.vector_index import (
    IVF_NPROBE,
    SINGLE_THREAD_BELOW,
    build_index,
    index_kind,
    load_index,
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


def _clustered(n: int, dim: int, rng: np.random.Generator, clusters: int = 300) -> np.ndarray:
    centres = rng.standard_normal((clusters, dim))
    return _unit(centres[rng.integers(0, clusters, n)] + 0.3 * rng.standard_normal((n, dim)))


@pytest.fixture
def one_faiss_thread() -> Iterator[None]:
    """OpenMP threads spin against each other on two busy cores: k-means in tests runs on one."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


def test_mid_sized_libraries_get_an_ivf_that_finds_the_exact_neighbours_and_survives_a_reload(
        tmp_path, monkeypatch, one_faiss_thread) -> None:
    n = 24_000  # the threshold is 50k; a smaller one keeps the k-means of the test short
    monkeypatch.setattr(vector_index, "IVF_THRESHOLD", n)
    rng = np.random.default_rng(1)
    data = _clustered(n, 16, rng)
    ids = np.arange(n, dtype=np.int64) + 100
    small = build_index(ids[:n - 1], data[:n - 1])
    assert index_kind(small) == "flat"
    index = build_index(ids, data)
    assert index_kind(index) == "ivf"
    save_index(index, tmp_path, generation=3)
    loaded, generation = load_index(tmp_path)
    assert generation == 3 and index_kind(loaded) == "ivf"
    assert faiss.extract_index_ivf(faiss.downcast_index(loaded.index)).nprobe == IVF_NPROBE
    queries = _unit(data[:64] + 0.05 * rng.standard_normal((64, 16)))
    blas = faiss.cvar.distance_compute_blas_threshold
    _, got = search(loaded, queries, 10)
    assert faiss.cvar.distance_compute_blas_threshold == blas
    expected = ids[np.argsort(-(queries @ data.T), axis=1)[:, :10]]
    overlap = np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, expected, strict=True)])
    assert overlap >= 0.95
    assert np.array_equal(search(build_index(ids, data), queries, 10)[1], got)  # same vectors, same index
