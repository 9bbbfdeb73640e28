"""`cuesteer index PATH...`: add or update folders in the library."""

from __future__ import annotations

import argparse
import os

from worker.cli.commands import add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="index music folders (incremental, resumable)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--reindex", action="store_true", help="forget all vectors and embed everything again")
    p.add_argument("--watch", action="store_true",
                   help="keep watching the folders and index new, changed, moved and deleted files (Ctrl-C stops)")
    p.add_argument("--interval", type=float, default=None, metavar="S", help="with --watch: seconds between polls")
    add_library_options(p, encoder=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    paths = [os.path.abspath(p) for p in args.paths]
    if args.watch:
        if args.reindex:
            run_job(runner, "index", {"paths": paths, "reindex": True, "encoder": args.encoder})
        run_job(runner, "watch", {"paths": paths, "encoder": args.encoder, "interval_s": args.interval})
        return 0  # not reached: a watch ends with Ctrl-C (exit 130)
    report = run_job(runner, "index", {"paths": paths, "reindex": args.reindex, "encoder": args.encoder})
    if args.json:
        print_json(report)
        return 0
    print(f"indexed {report['indexed']}, unchanged {report['skipped']}, moved {report['moved']}, "
          f"duplicates {report['duplicates']}, removed {report['deleted']} "
          f"({report['audio_seconds'] / 60:.1f} min of audio in {report['seconds']:.1f} s, "
          f"encoder {report['encoder']})")
    if report["errors"]:
        print(f"{len(report['errors'])} file(s) could not be indexed:")
        for err in report["errors"]:
            print(f"  {err['path']}: {err['reason']}")
    return 0
