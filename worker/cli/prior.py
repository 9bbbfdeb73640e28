"""`cuesteer prior train`: train the library's Diff4Steer prior (also done on demand by the first steered search)."""

from __future__ import annotations

import argparse
import os

from worker.cli.commands import UsageError, add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prior", help="the Diff4Steer prior of a library")
    psub = p.add_subparsers(dest="prior_command", required=True, metavar="ACTION")
    train = psub.add_parser("train", help="train the prior on the library's own vectors")
    train.add_argument("--from", dest="source", nargs="+", default=["library"], metavar=("library|pairs", "DIR"),
                       help="training data: library (the unconditional prior on the library's vectors) or "
                            "pairs DIR (the conditional prior from the videos in DIR; same as --conditional "
                            "--videos DIR)")
    train.add_argument("--conditional", action="store_true",
                       help="train the conditional prior and the regression baseline on pseudo-pairs (descriptor "
                            "phrases matched to each track) and, with --videos, on frame/soundtrack pairs")
    train.add_argument("--videos", metavar="DIR", help="a folder of video files: a frame every 5 s + the 10 s of "
                                                       "audio around it become (picture, music) pairs")
    train.add_argument("--condition-encoder", metavar="NAME",
                       help="what embeds conditions: clip (default when its weights are present) or library")
    train.add_argument("--steps", type=int, metavar="N", help="optimiser steps (default: sized for CPU)")
    train.add_argument("--seed", type=int, default=0)
    add_library_options(train)
    train.set_defaults(run=run_train)


def run_train(args: argparse.Namespace, runner) -> int:
    match args.source:
        case ["library"]:
            pass
        case ["pairs", folder]:
            args.conditional, args.videos = True, folder
        case _:
            raise UsageError("--from takes `library` or `pairs DIR`")
    params = {"steps": args.steps, "seed": args.seed}
    if args.conditional or args.videos:
        params.update(conditional=True, videos=os.path.abspath(args.videos) if args.videos else None,
                      condition_encoder=args.condition_encoder)
    out = run_job(runner, "train_prior", params)
    if args.json:
        print_json(out)
    elif "pseudo_pairs" in out:
        print(f"trained the conditional prior on {out['pseudo_pairs']} pseudo-pairs and {out['video_pairs']} "
              f"video pairs (conditions in `{out['condition_encoder']}` space, {out['steps']} steps, final loss "
              f"{out['final_loss']:.4f}) → {out['path']}; regression baseline → {out['regression_path']}")
        for skipped in out["skipped"]:
            print(f"  skipped {skipped['path']}: {skipped['reason']}")
    else:
        print(f"trained the prior on {out['vectors']} vectors ({out['steps']} steps, final loss "
              f"{out['final_loss']:.4f}, σ_data {out['sigma_data']:.4f}) → {out['path']}")
    return 0
