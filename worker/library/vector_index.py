"""The FAISS index over the catalogue's vectors: inner product on unit vectors, ids = segment ids.

Exact (flat) search below REDUCED_THRESHOLD vectors; from there up to APPROX_THRESHOLD a principal-subspace
pre-ranking with exact re-scoring ("reduced") when the vectors have such a subspace, and HNSW above, where flat
search gets slow. A steered query searches 16 seeds at once: at 100k × 512 the exact scan costs ~70 ms of CPU
and the reduced index ~12 ms with the same merged top 10 (bench/prior_latency.py; an IVF with 4·√n lists, 16
probes, kept only 48 % of that top 10 for prior seeds, which fall between the clusters). The index is a cache of
the catalogue: it is written to a temp file and atomically renamed, and records the catalogue generation it was
built from, so a crash at any point leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
INDEX_META = "vectors.json"
REDUCED_THRESHOLD = 50_000
APPROX_THRESHOLD = 200_000
REDUCED_VARIANCE = 0.9  # the principal subspace that pre-ranks must hold this share of the vectors' variance …
REDUCED_MAX_SHARE = 0.5  # … in at most half the dimensions, or the pre-ranking saves too little: flat instead
REDUCED_STEP = 16  # subspace dimension rounded up to a multiple of this (SIMD-friendly)
REDUCED_REFINE = 4  # candidates re-scored exactly per result wanted (IndexRefineFlat k_factor)
PCA_SAMPLE = 20_000  # rows the variance spectrum is estimated from
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Fewer queries than this search on one OpenMP thread: a single --like query spread over threads waits for all
# of them to wake, which on busy cores made a 10k-vector search 80x slower (p50 15 ms vs 0.18 ms).
SINGLE_THREAD_BELOW = 20
# From this many queries an exact search is one matrix product (BLAS) instead of one scan per query: FAISS's own
# threshold is 20 (128000 in some builds), and 16 seeds scanned one by one over 100k × 512 took 300 ms of CPU
# against 50 ms as a product (crossover at 3 queries, 1 thread).
BLAS_FROM_QUERIES = 4


def build_index(ids: np.ndarray, vectors: np.ndarray, *, kind: str = "auto") -> faiss.Index:
    """An IndexIDMap2 over `vectors` (n, d); `kind` is "flat", "reduced", "hnsw" or "auto" (by size and spectrum).

    "reduced": candidates ranked in the principal subspace holding REDUCED_VARIANCE of the variance, then the
    top REDUCED_REFINE·k re-scored exactly on the full vectors. Music embeddings concentrate in far fewer
    dimensions than they have; vectors that do not (no such subspace in half the dimensions) stay flat.
    """
    n, dim = vectors.shape
    vectors = np.ascontiguousarray(vectors, np.float32)
    reduced = reduced_dim(vectors) if kind in ("auto", "reduced") and n else None
    if kind == "auto":
        kind = ("hnsw" if n >= APPROX_THRESHOLD else
                "reduced" if n >= REDUCED_THRESHOLD and reduced is not None else "flat")
    if kind == "flat":
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    elif kind == "reduced":
        base = faiss.index_factory(dim, f"PCA{reduced or _round_up(dim // 2)},Flat", faiss.METRIC_INNER_PRODUCT)
        base.train(vectors)
        inner = faiss.IndexRefineFlat(base)
        inner.k_factor = REDUCED_REFINE
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    index = faiss.IndexIDMap2(inner)
    if n:
        index.add_with_ids(vectors, np.ascontiguousarray(ids, np.int64))
    return index


def reduced_dim(vectors: np.ndarray) -> int | None:
    """Dimensions of the principal subspace holding REDUCED_VARIANCE of the variance (rounded up to
    REDUCED_STEP), or None when that takes more than REDUCED_MAX_SHARE of them."""
    dim = vectors.shape[1]
    step = max(1, len(vectors) // PCA_SAMPLE)
    sample = np.asarray(vectors[::step], np.float64)
    values = np.linalg.eigvalsh(np.cov(sample, rowvar=False))[::-1] if len(sample) > 1 else np.zeros(dim)
    total = float(values.sum())
    if total <= 0:
        return None
    needed = _round_up(int(np.searchsorted(np.cumsum(values) / total, REDUCED_VARIANCE)) + 1)
    return needed if needed <= REDUCED_MAX_SHARE * dim else None


def _round_up(r: int) -> int:
    return max(REDUCED_STEP, -(-r // REDUCED_STEP) * REDUCED_STEP)


def index_kind(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    return "reduced" if isinstance(inner, faiss.IndexRefine) else "flat"


def save_index(index: faiss.Index, folder: Path, generation: int) -> None:
    """Write index + meta atomically: temp files, fsync, rename meta last (it names the generation)."""
    folder = Path(folder)
    tmp = folder / (INDEX_FILE + ".tmp")
    faiss.write_index(index, str(tmp))
    _fsync(tmp)
    os.replace(tmp, folder / INDEX_FILE)
    meta = {"generation": generation, "count": int(index.ntotal), "dim": int(index.d), "kind": index_kind(index)}
    tmp_meta = folder / (INDEX_META + ".tmp")
    tmp_meta.write_text(json.dumps(meta))
    _fsync(tmp_meta)
    os.replace(tmp_meta, folder / INDEX_META)


def load_index(folder: Path) -> tuple[faiss.Index, int] | None:
    """(index, generation it was built from), or None when absent or unreadable (it will be rebuilt)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / INDEX_META).read_text())
        index = faiss.read_index(str(folder / INDEX_FILE))
    except (OSError, ValueError, RuntimeError):
        return None
    if index.ntotal != meta.get("count"):
        return None
    if isinstance(index, faiss.IndexIDMap2):
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        elif isinstance(inner, faiss.IndexRefine):
            inner.k_factor = REDUCED_REFINE
    return index, int(meta["generation"])


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids), each (m, k); missing neighbours have id -1."""
    queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
    k = max(1, min(k, int(index.ntotal))) if index.ntotal else 1
    if index.ntotal == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    blas = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = BLAS_FROM_QUERIES  # process-wide, but only a speed setting
    threads = faiss.omp_get_max_threads()
    if len(queries) < SINGLE_THREAD_BELOW:
        faiss.omp_set_num_threads(1)  # per calling thread (an OpenMP ICV), so concurrent callers are unaffected
    try:
        return index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)
        faiss.cvar.distance_compute_blas_threshold = blas


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
