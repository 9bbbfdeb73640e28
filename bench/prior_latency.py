"""Latency of a full steered prior query on this machine, per network width and sampler setting.

A query = 16 seeds from the prior, conditioned on a query embedding with CFG and steered by 2 signed phrases
(one forward pass for each CFG branch and one backward pass per evaluation), then kNN of every seed over
100k unit vectors (faiss.IndexFlatIP) and a reciprocal-rank merge. Prints seeds/s and p50/p99 per setting,
the kNN part alone, and, where a trained checkpoint of that width is cached by prior_vs_regression.py,
the Recall@10/100 that setting reaches on its synthetic task next to the paper's 256 Euler–Maruyama steps.

    python bench/prior_latency.py [--widths 128 256 512 1024] [--repeats 30] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import percentiles  # noqa: E402
from bench.prior_vs_regression import (  # noqa: E402
    CACHE,
    SEEDS_PER_QUERY,
    TASK,
    prior_seed_sets,
    subset,
)
from worker.prior.checkpoint import build_model, data_fingerprint, load_checkpoint  # noqa: E402
from worker.prior.evaluation import PER_SEED, build_index, evaluate, merged_ranking  # noqa: E402
from worker.prior.network import DEFAULT_WIDTH, NetworkConfig, ResidualMLP  # noqa: E402
from worker.prior.precond import EDMPrecond  # noqa: E402
from worker.prior.samplers import evaluations  # noqa: E402
from worker.prior.schedules import PAPER_STEPS  # noqa: E402
from worker.prior.seeds import DEFAULT_SAMPLER, DEFAULT_STEPS, generate_seeds  # noqa: E402
from worker.prior.synthetic import one_to_many_task  # noqa: E402

DIM = 512
LIBRARY = 100_000
PHRASE_STRENGTHS = (0.07, -0.07)  # one attracting, one repelling phrase (paper's human-study range)
OMEGA = 3.0  # CFG strength of the timed query (cost is the same for any ω ≠ 0)
SIGMA_DATA = 1.0 / np.sqrt(DIM)  # what unit vectors in 512-d measure
SETTINGS = (("dpmpp_2m", 6), ("dpmpp_2m", 8), ("dpmpp_2m", 12), ("dpmpp_2m", 16), ("heun", 8),
            ("euler_ancestral", 16), ("euler_maruyama", 32), ("euler_maruyama", PAPER_STEPS))
TARGET_MS = 60.0
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]
RECALL_QUERIES = 256


def random_unit(rng: np.random.Generator, n: int, d: int = DIM) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def untrained_prior(width: int, depth: int) -> EDMPrecond:
    """Timing does not depend on the weights: a randomly initialised conditional network of that shape."""
    torch.manual_seed(0)
    net = ResidualMLP(NetworkConfig(dim=DIM, cond_dim=DIM, width=width, depth=depth))
    return EDMPrecond(net, SIGMA_DATA).eval().requires_grad_(False)


def time_query(model: EDMPrecond, index, sampler: str, steps: int, repeats: int, rng: np.random.Generator
               ) -> tuple[list[float], list[float]]:
    """Times (ms, by `clock`) of the sampling part and of the whole query, one fresh query per repeat."""
    sample_ms, total_ms = [], []
    for r in range(repeats + 1):  # the first is a warm-up
        condition, phrases = random_unit(rng, 1)[0], random_unit(rng, len(PHRASE_STRENGTHS))
        started = clock()
        seed_ids = range(r * SEEDS_PER_QUERY, (r + 1) * SEEDS_PER_QUERY)
        seeds = generate_seeds(model, seed_ids, condition=condition, omega=OMEGA, directions=phrases,
                               strengths=PHRASE_STRENGTHS, sampler=sampler, steps=steps)
        sampled = clock()
        scores, ids = index.search(seeds, PER_SEED)
        merged_ranking(scores, ids, 100)
        done = clock()
        if r:
            sample_ms.append(1e3 * (sampled - started))
            total_ms.append(1e3 * (done - started))
    return sample_ms, total_ms


def time_knn(index, repeats: int, rng: np.random.Generator) -> list[float]:
    out = []
    for _ in range(repeats):
        seeds = random_unit(rng, SEEDS_PER_QUERY)
        started = clock()
        scores, ids = index.search(seeds, PER_SEED)
        merged_ranking(scores, ids, 100)
        out.append(1e3 * (clock() - started))
    return out


def recall_by_setting(width: int, depth: int, train_steps: int, queries: int) -> dict[tuple[str, int], dict]:
    """Recall of each setting with the checkpoint prior_vs_regression.py trained, if it is cached."""
    full = one_to_many_task(**TASK)
    tag = data_fingerprint(full.library[full.train_items], full.train_conditions)[:12]
    path = CACHE / f"prior-w{width}-d{depth}-s{train_steps}-{tag}.pt"
    if not path.exists():
        return {}
    model = build_model(load_checkpoint(path))
    picked = np.random.default_rng(1).permutation(len(full.test_items))[:queries]
    task = subset(full, picked)
    index = build_index(task.library)
    out = {}
    for sampler, steps in SETTINGS:
        seeds = prior_seed_sets(model, task, np.arange(len(picked)), omega=OMEGA, sampler=sampler,
                                steps=steps)
        out[(sampler, steps)] = evaluate(task, seeds, index)
        print(f"  recall w{width} {sampler}/{steps}: {out[(sampler, steps)]['recall@10']:.3f}",
              file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, help="torch and faiss threads (default: their own choice)")
    parser.add_argument("--train-steps", type=int, default=4000, help="of the cached checkpoints to score")
    parser.add_argument("--recall-queries", type=int, default=RECALL_QUERIES)
    parser.add_argument("--no-recall", action="store_true")
    parser.add_argument("--widths-recall", type=int, nargs="*", help="widths to score recall for (default: all)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="cpu: process CPU time, which with --threads 1 is the latency on a free core even "
                             "when other jobs keep the machine busy (wall time then measures the queue)")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    if args.threads:
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    index = build_index(random_unit(rng, LIBRARY))
    knn50, knn99 = percentiles(time_knn(index, args.repeats, rng))
    print(f"prior latency: 16 seeds, CFG ω={OMEGA:g}, 2 phrases {PHRASE_STRENGTHS}, "
          f"kNN top-{PER_SEED} per seed over {index.ntotal} × {DIM} (faiss.IndexFlatIP) + RRF merge")
    print(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}, "
          f"faiss threads = {faiss.omp_get_max_threads()}")
    print(f"clock: {args.clock}")
    print(f"kNN + merge alone: p50 {knn50:.1f} ms, p99 {knn99:.1f} ms")
    header = (f"{'width':>5s} {'sampler/steps':>20s} {'evals':>5s} {'sample p50':>10s} {'seeds/s':>8s} "
              f"{'query p50':>9s} {'query p99':>9s} {'R@10':>6s} {'R@100':>6s}")
    print(header)
    for width in args.widths:
        model = untrained_prior(width, args.depth)
        skip = args.no_recall or (args.widths_recall is not None and width not in args.widths_recall)
        recalls = {} if skip else recall_by_setting(width, args.depth, args.train_steps,
                                                              args.recall_queries)
        for sampler, steps in SETTINGS:
            repeats = max(3, args.repeats * 16 // max(16, evaluations(sampler, steps)))
            sample_ms, total_ms = time_query(model, index, sampler, steps, repeats, rng)
            s50, _ = percentiles(sample_ms)
            q50, q99 = percentiles(total_ms)
            score = recalls.get((sampler, steps))
            r10 = f"{score['recall@10']:6.3f}" if score else f"{'-':>6s}"
            r100 = f"{score['recall@100']:6.3f}" if score else f"{'-':>6s}"
            default = (width, sampler, steps) == (DEFAULT_WIDTH, DEFAULT_SAMPLER, DEFAULT_STEPS)
            print(f"{width:5d} {sampler + '/' + str(steps):>20s} {evaluations(sampler, steps):5d} "
                  f"{s50:10.1f} {1e3 * SEEDS_PER_QUERY / s50:8.0f} {q50:9.1f} {q99:9.1f} {r10} {r100}"
                  f"{' ← default' if default else ''}", flush=True)
    print(f"target: query p50 ≤ {TARGET_MS:.0f} ms at the default setting, Recall@10 within 2 points of "
          f"euler_maruyama/{PAPER_STEPS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
