"""`--like` query latency over synthetic unit vectors: exact (flat) vs the automatic choice, and its recall.

    python bench/search_latency.py [--sizes 10000,100000,1000000] [--dim 130] [--queries 200]

For each size: p50/p99 of a top-64 window search (what one seed asks) for the flat index and for the index the
library would build (`build_index(kind="auto")`: flat below 50k vectors; up to 200k a principal-subspace
pre-ranking with exact re-scoring where the vectors have a small principal subspace, else flat; HNSW above), and
recall@10 of that index against flat. Vectors are clustered (like music windows), not uniform, so the
approximate index is tested on a realistic shape.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentiles, uptime  # noqa: E402
from worker.library.vector_index import build_index, index_kind, search  # noqa: E402

WINDOWS_PER_SEED = 64


def clustered(n: int, dim: int, rng: np.random.Generator, clusters: int = 2000) -> np.ndarray:
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(index, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    out, ids = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, i = search(index, q[None, :], WINDOWS_PER_SEED)
        out.append((time.perf_counter() - t0) * 1000)
        ids.append(i[0])
    return out, np.stack(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dim", type=int, default=130, help="130 = descriptor; 512 = CLAP")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="FAISS OpenMP threads (0: FAISS's default)")
    args = parser.parse_args()
    if args.threads:
        import faiss

        faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"dim {args.dim}, {args.queries} queries, top-{WINDOWS_PER_SEED} windows per query, "
          f"FAISS threads {args.threads or 'default'}, {uptime()}", flush=True)
    print(f"{'vectors':>9} {'index':>6} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        data = clustered(n, args.dim, rng)
        queries = data[rng.integers(0, n, args.queries)] + 0.05 * rng.standard_normal((args.queries, args.dim))
        queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
        ids = np.arange(n, dtype=np.int64)
        t0 = time.perf_counter()
        flat = build_index(ids, data, kind="flat")
        flat_build = time.perf_counter() - t0
        flat_ms, flat_ids = timed(flat, queries)
        p50, p99 = percentiles(flat_ms)
        print(f"{n:>9} {'flat':>6} {flat_build:8.1f} {p50:8.2f} {p99:8.2f} {1.0:10.3f}")
        t0 = time.perf_counter()
        auto = build_index(ids, data, kind="auto")
        build = time.perf_counter() - t0
        if index_kind(auto) == "flat":
            print(f"{n:>9} {'auto':>6}  (= flat: below 50k, or no small principal subspace below 200k)")
            continue
        auto_ms, auto_ids = timed(auto, queries)
        recall = np.mean([len(set(a[:10]) & set(f[:10])) / 10 for a, f in zip(auto_ids, flat_ids, strict=True)])
        p50, p99 = percentiles(auto_ms)
        print(f"{n:>9} {index_kind(auto):>6} {build:8.1f} {p50:8.2f} {p99:8.2f} {recall:10.3f}")


if __name__ == "__main__":
    main()
