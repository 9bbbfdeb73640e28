"""`cuesteer embed`: vectors for texts, audio files (FILE@SECONDS) or images, saved as .npy."""

from __future__ import annotations

import argparse
import os

import numpy as np

from worker.cli.commands import UsageError, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="embed texts, audio or images into the encoder's space")
    p.add_argument("--text", action="append", default=[], metavar="T")
    p.add_argument("--audio", action="append", default=[], metavar="FILE[@SECONDS]")
    p.add_argument("--image", action="append", default=[], metavar="FILE")
    p.add_argument("--encoder", metavar="NAME")
    p.add_argument("--library", metavar="DIR")
    p.add_argument("--out", required=True, metavar="FILE.npy")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    if not (args.text or args.audio or args.image):
        raise UsageError("give at least one --text, --audio or --image")
    out = run_job(runner, "embed", {"texts": args.text, "audio": args.audio, "images": args.image,
                                    "encoder": args.encoder})
    matrix = np.asarray(out["vectors"], np.float32)
    tmp = args.out + ".tmp.npy"
    np.save(tmp, matrix)
    os.replace(tmp, args.out)
    summary = {"out": args.out, "shape": list(matrix.shape), "encoder": out["encoder"], "version": out["version"]}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {matrix.shape[0]} × {matrix.shape[1]} vectors ({out['encoder']}) to {args.out}")
    return 0
