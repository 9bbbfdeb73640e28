"""The FAISS index over the catalogue's vectors: inner product on unit vectors, ids = segment ids.

Exact (flat) search below IVF_THRESHOLD vectors; an inverted file (IVF-Flat) up to APPROX_THRESHOLD, and HNSW
above, where flat search gets slow: a steered query searches 16 seeds at once, and at 100k × 512 an exact scan of
all of them costs ~50 ms of CPU against ~5 ms for the IVF with the same top 10 (bench/search_latency.py,
bench/prior_latency.py). The index is a cache of the catalogue: it is written to a temp file and atomically
renamed, and records the catalogue generation it was built from, so a crash at any point leaves either the old
or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
INDEX_META = "vectors.json"
IVF_THRESHOLD = 50_000
APPROX_THRESHOLD = 200_000
IVF_LISTS_PER_ROOT = 4  # nlist = 4·√n inverted lists (the usual 4–16·√n; fewer lists train faster)
IVF_NPROBE = 16  # lists visited per query: same top 10 as flat on clustered vectors at 100k (search_latency.py)
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
    """An IndexIDMap2 over `vectors` (n, d); `kind` is "flat", "ivf", "hnsw" or "auto" (by size)."""
    n, dim = vectors.shape
    if kind == "auto":
        kind = "hnsw" if n >= APPROX_THRESHOLD else "ivf" if n >= IVF_THRESHOLD else "flat"
    vectors = np.ascontiguousarray(vectors, np.float32)
    if kind == "flat":
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        inner = faiss.index_factory(dim, f"IVF{ivf_lists(n)},Flat", faiss.METRIC_INNER_PRODUCT)
        inner.train(vectors)  # k-means with FAISS's fixed seed: the same vectors give the same index
        faiss.extract_index_ivf(inner).nprobe = IVF_NPROBE
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


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: IVF_LISTS_PER_ROOT·√n, at least one."""
    return max(1, int(IVF_LISTS_PER_ROOT * np.sqrt(n)))


def index_kind(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    return "ivf" if isinstance(inner, faiss.IndexIVF) else "flat"


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
        elif isinstance(inner, faiss.IndexIVF):
            inner.nprobe = IVF_NPROBE
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
