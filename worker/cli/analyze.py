"""`cuesteer analyze FILE`: tempo, beats, downbeats, key and loudness."""

from __future__ import annotations

import argparse
import os

from worker.cli.commands import add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="tempo, beats, downbeats, key, loudness of a file")
    p.add_argument("file", metavar="FILE")
    add_library_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    out = run_job(runner, "analyze", {"path": os.path.abspath(args.file)})
    if args.json:
        print_json(out)
        return 0
    print(f"tempo     {out['tempo_bpm']} BPM, {len(out['beats_s'])} beats, {len(out['downbeats_s'])} bars")
    print(f"key       {out['key']}")
    print(f"loudness  {out['loudness_lufs']} LUFS")
    return 0
