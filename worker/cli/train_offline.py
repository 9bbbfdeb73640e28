"""`cuesteer train-offline-model`: render the seeded MIDI training set and train the offline music–text model.

Runs in this process (it is a maintainer's command, not a library job). Progress goes to stderr; Ctrl-C
cancels at the next shard or every 20 steps (exit 130) and leaves the previous weights untouched, because
weights and metrics are only ever replaced atomically at the end. Same --seed and --steps → same weights.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from worker.cli.commands import print_json
from worker.cli.progress import StderrProgress
from worker.jobs import Job

DEFAULT_MINUTES = 10.0
EVAL_SHARDS = 17  # ≈ 540 held-out clips: R@10 per family is stable (4 shards = 128 clips was not)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-offline-model",
                       help="train the offline music–text model on seeded MIDI renders (writes offline.pt)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and the batches")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES,
                   help="training time budget, turned into a step count after timing (default: %(default)s)")
    p.add_argument("--steps", type=int, metavar="S", help="exact optimiser steps (overrides --minutes; reproducible)")
    p.add_argument("--shards", type=int, metavar="N",
                   help="training shards of 32 clips (default: 1.5 per minute of budget, at least 4)")
    p.add_argument("--eval-shards", type=int, default=EVAL_SHARDS, metavar="N",
                   help="held-out shards of 32 clips (default: %(default)s, as bench/offline_model_eval.py)")
    p.add_argument("--tower", choices=("stats", "cnn"), default="stats", help="audio tower (default: stats)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads while training (default: 1; results are bit-reproducible per thread count)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the package's weights folder)")
    p.add_argument("--cache", metavar="DIR", help="data cache (default: $CUESTEER_OFFLINE_CACHE or "
                   "~/.cache/cuesteer/offline-train)")
    p.add_argument("--json", action="store_true", help="print the run's metadata and group metrics as JSON")
    p.set_defaults(run=run_train_offline)


def default_out_dir() -> Path:
    from worker.encoders.offline.encoder import WEIGHTS

    return WEIGHTS.parent


def group_summary(report: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {k[len("group:"):]: {"r@10": round(v["r@10"], 3), "ap": round(v["ap"], 3)}
            for k, v in report.items() if k.startswith("group:")}


def run_train_offline(args: argparse.Namespace, runner: object = None) -> int:
    from worker.encoders.offline.train.trainer import train_offline_model

    progress = StderrProgress()
    job = Job(progress_fn=progress)
    previous = signal.signal(signal.SIGINT, lambda *_: job.cancel())  # cancel at the next checkpoint
    out = Path(args.out) if args.out else default_out_dir()
    try:
        path = train_offline_model(out, seed=args.seed, minutes=args.minutes, steps=args.steps, job=job,
                                   train_shards=args.shards, eval_shards=args.eval_shards,
                                   cache_dir=Path(args.cache) if args.cache else None, tower=args.tower,
                                   threads=args.threads)
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.finish()
    metrics = json.loads((path.parent / "metrics.json").read_text())
    meta, groups = metrics["meta"], {v: group_summary(r) for v, r in metrics["eval"].items()}
    if args.json:
        print_json({"path": str(path), "meta": meta, "groups": groups})
        return 0
    print(f"trained {meta['params']:,} parameters for {meta['steps']} steps ({meta['seconds'] / 60:.1f} min) on "
          f"{meta['train_clips']} clips → {path}")
    for view, gs in groups.items():
        line = ", ".join(f"{g} R@10 {m['r@10']:.2f}" for g, m in sorted(gs.items()))
        print(f"held-out ({view}): {line}")
    print(f"reproduce: cuesteer train-offline-model --seed {args.seed} --steps {meta['steps']} "
          f"--shards {meta['train_shards']} --eval-shards {meta['eval_shards']} --tower {args.tower} "
          f"--threads {args.threads}",
          file=sys.stderr)
    return 0
