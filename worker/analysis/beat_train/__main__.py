"""`python -m worker.analysis.beat_train` (also `cuesteer train-beat-model`): render the training set, train the
beat network, write its weights and reference activations beside worker/analysis/beat_model.py.

    python -m worker.analysis.beat_train --seed 0 --excerpts 3840 --workers 2 --minutes 50 --threads 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from worker.analysis.beat_model import REFERENCE_PATH, WEIGHTS_PATH, forget_loaded, save_reference, save_weights
from worker.analysis.beat_train.data import build_dataset, load_shards
from worker.analysis.beat_train.train import train
from worker.settings import cache_dir, corpus_dir

VALID_SHARDS = 2  # the last shards are the validation set (checkpoint choice only)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--excerpts", type=int, default=3840, help="30-s excerpts rendered (24 per shard)")
    p.add_argument("--workers", type=int, default=2, help="rendering processes")
    p.add_argument("--minutes", type=float, default=50.0, help="training wall-clock budget")
    p.add_argument("--threads", type=int, default=1, help="torch threads for training (1 on a shared machine)")
    p.add_argument("--midi", type=Path, default=corpus_dir() / "midi", help="`fetch.sh midi` folder")
    p.add_argument("--data", type=Path, default=cache_dir() / "beat-train", help="where shards are kept")
    p.add_argument("--out", type=Path, default=WEIGHTS_PATH)


def run(args: argparse.Namespace) -> None:
    import torch

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    shards = build_dataset(args.data, args.midi, args.excerpts, args.seed, workers=args.workers)
    render_s = time.perf_counter() - started
    items = load_shards(shards[:-VALID_SHARDS])
    valid = load_shards(shards[-VALID_SHARDS:])
    checkpoint = args.data / "checkpoint.pt"
    network, facts = train(items, valid, seed=args.seed, minutes=args.minutes,
                           on_best=lambda net, meta: save_weights(net, checkpoint, meta))
    facts.update(render_seconds=round(render_s), excerpts=args.excerpts, valid_excerpts=len(valid),
                 command=f"python -m worker.analysis.beat_train --seed {args.seed} --excerpts {args.excerpts} "
                         f"--minutes {args.minutes:g} --threads {args.threads}")
    save_weights(network, args.out, facts)
    if args.out == WEIGHTS_PATH:  # reference from the saved (float16) weights, as users will load them
        forget_loaded()
        save_reference(None, REFERENCE_PATH)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) after {facts['steps']} steps, "
          f"{facts['seconds']} s training + {render_s:.0f} s rendering; best validation loss "
          f"{facts['best_valid_loss']:.4f}")


if __name__ == "__main__":
    run(parser().parse_args())
