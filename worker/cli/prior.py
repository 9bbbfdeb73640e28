"""`cuesteer prior train`: train the library's Diff4Steer prior (also done on demand by the first steered search)."""

from __future__ import annotations

import argparse

from worker.cli.commands import add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prior", help="the Diff4Steer prior of a library")
    psub = p.add_subparsers(dest="prior_command", required=True, metavar="ACTION")
    train = psub.add_parser("train", help="train the prior on the library's own vectors")
    train.add_argument("--from", dest="source", default="library", choices=("library",),
                       help="training data (library: the unconditional prior on the library's vectors)")
    train.add_argument("--steps", type=int, metavar="N", help="optimiser steps (default: sized for CPU)")
    train.add_argument("--seed", type=int, default=0)
    add_library_options(train)
    train.set_defaults(run=run_train)


def run_train(args: argparse.Namespace, runner) -> int:
    out = run_job(runner, "train_prior", {"steps": args.steps, "seed": args.seed})
    if args.json:
        print_json(out)
    else:
        print(f"trained the prior on {out['vectors']} vectors ({out['steps']} steps, final loss "
              f"{out['final_loss']:.4f}, σ_data {out['sigma_data']:.4f}) → {out['path']}")
    return 0
