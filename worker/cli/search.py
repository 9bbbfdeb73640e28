"""`cuesteer search`: text, find-similar (and, with the prior, steered and image) queries."""

from __future__ import annotations

import argparse

from worker.cli.commands import UsageError, add_library_options, print_json, run_job
from worker.service import _split_at


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search the library")
    p.add_argument("--text", metavar="T", help="describe the music")
    p.add_argument("--like", metavar="FILE[@SECONDS]", help="find music like a file (from a point in it)")
    p.add_argument("-k", type=int, default=10, metavar="N", help="number of results (default 10)")
    add_library_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    if not args.text and not args.like:
        raise UsageError("give --text and/or --like")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    params: dict = {"text": args.text, "k": args.k}
    if args.like:
        path, at = _split_at(args.like)
        params.update(like=path, like_at=at)
    out = run_job(runner, "search", params)
    if args.json:
        print_json(out)
        return 0
    for rank, hit in enumerate(out["results"], 1):
        name = hit["title"] or hit["path"]
        who = f" — {hit['artist']}" if hit.get("artist") else ""
        print(f"{rank:2d}. {hit['score']:.3f}  @{hit['in_point_s']:6.1f}s  {name}{who}")
        if hit["title"]:
            print(f"      {hit['path']}")
    div = out["diversity"]
    print(f"diversity: MISCS {div['miscs']:.3f} (lower = more varied), "
          f"{div['distinct_labels']} distinct artists/folders")
    return 0
