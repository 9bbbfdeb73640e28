"""Diff4Steer prior vs regression vs query-kNN on a synthetic one-to-many task in 512-d (paper Tables 1–3).

Each condition (an "image" query) maps to a mixture of several modes of a concept; the ground truth is the one
library item the query was paired with. Prints Recall@10/100, FMD, MISCS, triplet accuracy and label
entropy@10 for: query-kNN (the concept's text embedding), the regression baseline (same network, no noise),
true conditional samples (an upper bound no model can beat), and the prior over a sweep of CFG strength ω and
text-steering strength k, with the fast default sampler and with the paper's 256 Euler–Maruyama steps.

    python bench/prior_vs_regression.py                # trains (cached in $TMPDIR/cuesteer-bench-prior)
    python bench/prior_vs_regression.py --quick        # a smoke run: tiny training, few queries
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.jobs import Job  # noqa: E402
from worker.prior.checkpoint import (  # noqa: E402
    PriorCheckpoint,
    build_model,
    data_fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from worker.prior.evaluation import build_index, evaluate  # noqa: E402
from worker.prior.guidance import STEER_MAX_SIGMA  # noqa: E402
from worker.prior.schedules import PAPER_STEPS  # noqa: E402
from worker.prior.seeds import DEFAULT_SAMPLER, DEFAULT_STEPS, generate_seeds, regress  # noqa: E402
from worker.prior.synthetic import OneToManyTask, one_to_many_task  # noqa: E402
from worker.prior.training import train_prior, train_regression  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "cuesteer-bench-prior"
TASK = {"dim": 512, "concepts": 128, "distractor_concepts": 384, "items_per_concept": 24, "seed": 0}
TRAIN_STEPS = 4000
TRAIN_BATCH = 256
SEEDS_PER_QUERY = 16
QUERIES = 384
CHUNK_ROWS = 1024  # rows per sampler call
OMEGAS = (-1.0, 0.0, 1.0, 3.0, 9.0)
STRENGTHS = (0.03, 0.1, 0.3)
SLERP_RATIO = 0.55
COLUMNS = ("recall@10", "recall@100", "fmd", "miscs", "triplet_acc", "entropy@10")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_printer(label: str) -> Job:
    last = [-1]

    def report(stage: str, fraction: float, message: str) -> None:
        tenth = int(fraction * 10)
        if tenth != last[0]:
            last[0] = tenth
            log(f"  {label}: {message}")

    return Job(progress_fn=report)


def trained(task: OneToManyTask, kind: str, *, width: int, depth: int, steps: int, cache: Path
            ) -> PriorCheckpoint:
    """Train once per (kind, width, depth, steps, data); later runs (and prior_latency.py) load the file."""
    vectors, conditions = task.library[task.train_items], task.train_conditions
    tag = data_fingerprint(vectors, conditions)[:12]
    path = cache / f"{kind}-w{width}-d{depth}-s{steps}-{tag}.pt"
    if path.exists():
        return load_checkpoint(path)
    log(f"training {kind} (width {width}, depth {depth}, {steps} steps) → {path}")
    started = time.perf_counter()
    train = train_prior if kind == "prior" else train_regression
    checkpoint = train(vectors, conditions, steps=steps, batch=TRAIN_BATCH, seed=0, width=width, depth=depth,
                       job=progress_printer(kind))
    checkpoint.info["train_seconds"] = round(time.perf_counter() - started, 1)
    save_checkpoint(checkpoint, path)
    return checkpoint


def prior_seed_sets(model: torch.nn.Module, task: OneToManyTask, queries: np.ndarray, *, omega: float,
                    strength: float = 0.0, sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
                    slerp_ratio: float = 0.0, seeds_per_query: int = SEEDS_PER_QUERY,
                    steer_max_sigma: float = STEER_MAX_SIGMA) -> list[np.ndarray]:
    """seeds_per_query unit seeds for each test query; seed ids depend only on the query's position."""
    rows = np.repeat(queries, seeds_per_query)
    texts = task.concept_texts[task.item_concept[task.test_items[rows]]]
    out = []
    for start in range(0, len(rows), CHUNK_ROWS):
        part = slice(start, start + CHUNK_ROWS)
        out.append(generate_seeds(
            model, list(range(start, start + len(rows[part]))), condition=task.test_conditions[rows[part]],
            omega=omega, directions=texts[part, None, :] if strength else None,
            strengths=np.full((len(rows[part]), 1), strength) if strength else None, sampler=sampler,
            steps=steps, slerp_target=texts[part] if slerp_ratio else None, slerp_ratio=slerp_ratio,
            steer_max_sigma=steer_max_sigma))
    return list(np.concatenate(out).reshape(len(queries), seeds_per_query, -1))


def subset(task: OneToManyTask, queries: np.ndarray) -> OneToManyTask:
    from dataclasses import replace

    return replace(task, test_items=task.test_items[queries], test_conditions=task.test_conditions[queries])


def timed(label: str, make: Callable[[], list[np.ndarray]], task: OneToManyTask, index, rows: list) -> dict:
    started = time.perf_counter()
    seeds = make()
    seconds = time.perf_counter() - started
    metrics = evaluate(task, seeds, index)
    rows.append({"method": label, **metrics, "sample_s": round(seconds, 1)})
    log(f"{label:44s} " + "  ".join(f"{k} {metrics[k]:.3f}" for k in COLUMNS) + f"  ({seconds:.0f} s)")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--train-steps", type=int, default=TRAIN_STEPS)
    parser.add_argument("--queries", type=int, default=QUERIES, help="test queries evaluated")
    parser.add_argument("--no-em", action="store_true", help="skip the slow 256-step Euler–Maruyama rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 training steps, 64 queries")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--threads", type=int,
                        help="torch threads (1 is much faster than 2 on a machine other jobs keep busy)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.train_steps, args.queries = 200, 64

    log(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}")
    full = one_to_many_task(**TASK)
    queries = np.random.default_rng(1).permutation(len(full.test_items))[:args.queries]
    task = subset(full, queries)
    positions = np.arange(len(queries))
    index = build_index(task.library)
    log(f"task: library {task.library.shape}, {len(full.train_items)} training pairs, "
        f"{len(queries)} test queries × {SEEDS_PER_QUERY} seeds")

    prior = build_model(trained(full, "prior", width=args.width, depth=args.depth, steps=args.train_steps,
                                cache=args.cache))
    regression = build_model(trained(full, "regression", width=args.width, depth=args.depth,
                                     steps=args.train_steps, cache=args.cache))
    rows: list[dict] = []
    concepts = task.item_concept[task.test_items]
    timed("query-kNN (concept text)", lambda: [t[None] for t in task.concept_texts[concepts]],
          task, index, rows)
    timed("regression (same net, no noise)", lambda: list(regress(regression, task.test_conditions)[:, None]),
          task, index, rows)
    rng = np.random.default_rng(2)
    timed("true conditional samples (upper bound)",
          lambda: [task.sample_items(int(c), SEEDS_PER_QUERY, rng) for c in concepts], task, index, rows)

    fast = f"{DEFAULT_SAMPLER}/{DEFAULT_STEPS}"
    by_omega = {}
    for omega in OMEGAS:
        by_omega[omega] = timed(f"prior ω={omega:g} [{fast}]",
                                lambda omega=omega: prior_seed_sets(prior, task, positions, omega=omega),
                                task, index, rows)
    best = max((o for o in OMEGAS if o >= 0), key=lambda o: by_omega[o]["recall@10"])
    for strength in STRENGTHS:
        timed(f"prior ω={best:g} + text k={strength:g} [{fast}]",
              lambda s=strength: prior_seed_sets(prior, task, positions, omega=best, strength=s),
              task, index, rows)
    for strength in STRENGTHS:
        timed(f"unconditional + text k={strength:g} [{fast}]",
              lambda s=strength: prior_seed_sets(prior, task, positions, omega=-1.0, strength=s),
              task, index, rows)
    timed(f"prior ω={best:g} + slerp {SLERP_RATIO} to text [{fast}]",
          lambda: prior_seed_sets(prior, task, positions, omega=best, slerp_ratio=SLERP_RATIO),
          task, index, rows)
    if not args.no_em:
        timed(f"prior ω={best:g} [euler_maruyama/{PAPER_STEPS}] (paper)",
              lambda: prior_seed_sets(prior, task, positions, omega=best, sampler="euler_maruyama",
                                      steps=PAPER_STEPS), task, index, rows)

    print(f"\nprior vs regression, synthetic one-to-many task ({task.library.shape[0]} items, 512-d, "
          f"{len(queries)} queries × {SEEDS_PER_QUERY} seeds; network {args.depth}×{args.width}, "
          f"{args.train_steps} training steps; torch threads {torch.get_num_threads()})")
    print(f"{'method':52s} " + " ".join(f"{c:>11s}" for c in COLUMNS))
    for row in rows:
        print(f"{row['method']:52s} " + " ".join(f"{row[c]:11.3f}" for c in COLUMNS))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
