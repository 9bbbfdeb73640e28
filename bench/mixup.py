"""Does beat-synchronous latent mixup (MusicLDM's BLM, `worker/prior/mixup.py`) help the conditional prior?

On the synthetic one-to-many task (worker/prior/synthetic.py, the one bench/prior_vs_regression.py uses) the
same conditional prior is trained with the same steps, width, depth and seed on:
  - the training pairs alone (the peer);
  - the pairs + one mixed copy, partners from the same *mode* (the analogue of MusicLDM's tempo group +
    downbeat alignment: items that "play together");
  - the pairs + one mixed copy, partners from the same *concept* (looser: other sub-styles of the genre);
  - the pairs + one mixed copy, partners from anywhere (MusicLDM's "simple mixup" peer).
Held-out retrieval (Recall@10/100 of each test query's own item, FMD, MISCS, triplet accuracy, entropy@10)
is measured on the test queries, with CFG ω = 3 and the default sampler, 16 seeds per query.

    python bench/mixup.py [--train-steps 1500] [--width 256] [--depth 4] [--queries 256] [--threads 1]
                           [--variants "NAME;..."]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.prior_vs_regression import prior_seed_sets, subset  # noqa: E402
from worker.prior.checkpoint import build_model  # noqa: E402
from worker.prior.evaluation import build_index, evaluate  # noqa: E402
from worker.prior.mixup import augment  # noqa: E402
from worker.prior.synthetic import one_to_many_task  # noqa: E402
from worker.prior.training import train_prior  # noqa: E402

TASK = {"dim": 256, "concepts": 96, "distractor_concepts": 288, "items_per_concept": 24, "seed": 0}
OMEGA = 3.0
BATCH = 256
COLUMNS = ("recall@10", "recall@100", "fmd", "miscs", "triplet_acc", "entropy@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-steps", type=int, default=1500)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--queries", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", help="subset of the variant names, separated by ; (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    full = one_to_many_task(**TASK)
    queries = np.random.default_rng(1).permutation(len(full.test_items))[:args.queries]
    task = subset(full, queries)
    index = build_index(task.library)
    vectors, conditions = full.library[full.train_items], full.train_conditions
    variants = {
        "no mixup (peer)": None,
        "BLM, same mode": full.item_mode[full.train_items],
        "BLM, same concept": full.item_concept[full.train_items],
        "simple mixup (any pair)": np.zeros(len(vectors), int),
    }
    if args.variants:
        variants = {name: variants[name] for name in args.variants.split(";")}
    print(f"task: library {task.library.shape}, {len(vectors)} training pairs, {len(queries)} test queries; "
          f"prior {args.depth}×{args.width}, {args.train_steps} steps, batch {BATCH}, seed {args.seed}, ω={OMEGA:g}")
    print(f"{'variant':<26}" + "".join(f"{c:>13}" for c in COLUMNS) + f"{'train s':>9}")
    rows = []
    for name, groups in variants.items():
        z, q = (vectors, conditions) if groups is None else augment(vectors, conditions, groups, seed=args.seed)
        started = time.perf_counter()
        checkpoint = train_prior(z, q, steps=args.train_steps, batch=BATCH, seed=args.seed, width=args.width,
                                 depth=args.depth)
        took = time.perf_counter() - started
        model = build_model(checkpoint)
        metrics = evaluate(task, prior_seed_sets(model, task, np.arange(len(queries)), omega=OMEGA), index)
        print(f"{name:<26}" + "".join(f"{metrics[c]:>13.4f}" for c in COLUMNS) + f"{took:>9.0f}", flush=True)
        rows.append({"variant": name, "train_pairs": len(z), "train_s": round(took, 1),
                     **{c: round(metrics[c], 4) for c in COLUMNS}})
    print(json.dumps({"task": TASK, "steps": args.train_steps, "rows": rows}))


if __name__ == "__main__":
    main()
