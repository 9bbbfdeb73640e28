"""The FAISS index over the catalogue's vectors: inner product on unit vectors, ids = segment ids.

Exact (flat) search below APPROX_THRESHOLD vectors; HNSW above, where flat search gets slow. The index is a
cache of the catalogue: it is written to a temp file and atomically renamed, and records the catalogue
generation it was built from, so a crash at any point leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
INDEX_META = "vectors.json"
APPROX_THRESHOLD = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Fewer queries than this search on one OpenMP thread: a single --like query spread over threads waits for all
# of them to wake, which on busy cores made a 10k-vector search 80x slower (p50 15 ms vs 0.18 ms).
SINGLE_THREAD_BELOW = 20


def build_index(ids: np.ndarray, vectors: np.ndarray, *, kind: str = "auto") -> faiss.Index:
    """An IndexIDMap2 over `vectors` (n, d); `kind` is "flat", "hnsw" or "auto" (by size)."""
    n, dim = vectors.shape
    if kind == "auto":
        kind = "hnsw" if n >= APPROX_THRESHOLD else "flat"
    if kind == "flat":
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown index kind {kind!r}")
    index = faiss.IndexIDMap2(inner)
    if n:
        index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.ascontiguousarray(ids, np.int64))
    return index


def index_kind(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


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
    return index, int(meta["generation"])


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids), each (m, k); missing neighbours have id -1."""
    queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
    k = max(1, min(k, int(index.ntotal))) if index.ntotal else 1
    if index.ntotal == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    if len(queries) >= SINGLE_THREAD_BELOW:
        return index.search(queries, k)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # per calling thread (an OpenMP ICV), so concurrent callers are unaffected
    try:
        return index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
