"""`cuesteer generate`: new music in the direction of a query (offline symbolic default, MusicGen, MusicLDM)."""

from __future__ import annotations

import argparse
import os
import sys

from worker.cli.commands import UsageError, add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate a cue with stems, MIDI and tempo map")
    p.add_argument("--text", metavar="T")
    p.add_argument("--image", action="append", default=[], metavar="FILE")
    p.add_argument("--steer", action="append", default=[], metavar='"+phrase:weight"')
    p.add_argument("--seconds", type=float, metavar="S", help="length in seconds (default 30)")
    p.add_argument("--bars", type=int, metavar="N", help="length in bars instead of seconds")
    p.add_argument("--backend", default="symbolic", choices=("symbolic", "musicgen", "musicgen-melody", "musicldm"))
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--loop", action="store_true", help="make the cue loop seamlessly")
    p.add_argument("--name", help="file name stem (default cue-<backend>-<seed>)")
    p.add_argument("--markers", default="", metavar="FORMATS", help="marker files: resolve,fcpxml,premiere,csv")
    p.add_argument("--timecode", default="00:00:00:00", help="timecode of the cue's start (BWF TimeReference)")
    p.add_argument("--fps", default="25", help="frame rate of the timecode and markers (23.976 … 60)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--out", required=True, metavar="DIR")
    add_library_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    from worker.retrieval.steering import SteerError, parse_phrase

    try:
        steer = [parse_phrase(s).to_list() for s in args.steer]
    except SteerError as exc:
        raise UsageError(str(exc)) from exc
    seconds = args.seconds if args.seconds is not None or args.bars else 30.0
    if seconds is not None and seconds <= 0:
        raise UsageError("--seconds must be positive")
    out = run_job(runner, "generate", {
        "out_dir": os.path.abspath(args.out), "text": args.text, "steer": steer, "seconds": seconds,
        "bars": args.bars, "backend": args.backend, "seed": args.seed, "loop": args.loop, "name": args.name,
        "force": args.force, "markers": args.markers, "timecode": args.timecode, "fps": args.fps,
        "images": [os.path.abspath(i) for i in args.image] or None})
    novelty = out.get("novelty") or {}
    if novelty.get("warning"):  # the novelty guard: never ship an accidental copy unawares
        print(f"warning: {novelty['warning']} (nearest-neighbour similarity above {novelty['threshold']:.2f})",
              file=sys.stderr)
    if args.json:
        print_json(out)
        return 0
    for path in out["files"]:
        print(path)
    print(f"{out['seconds']:.1f} s at {out['tempo_bpm']} BPM in {out['key']}, seed {out['seed']} "
          f"({out['backend']}; licence of the model: {out['licence']})")
    if novelty.get("nearest"):
        top = novelty["nearest"][0]
        print(f"nearest library track: {top['label']} (similarity {top['similarity']:.2f})")
    return 0
