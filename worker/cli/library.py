"""`cuesteer library status`: what the library holds."""

from __future__ import annotations

import argparse

from worker.cli.commands import add_library_options, print_json, run_job


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("library", help="library information")
    lsub = p.add_subparsers(dest="library_command", required=True, metavar="ACTION")
    status = lsub.add_parser("status", help="tracks, vectors, encoder, errors")
    add_library_options(status)
    status.set_defaults(run=run_status)


def run_status(args: argparse.Namespace, runner) -> int:
    out = run_job(runner, "status", {})
    if args.json:
        print_json(out)
        return 0
    enc = out["encoder"]
    print(f"library   {out['library']}")
    print(f"tracks    {out['tracks']} ({out['duplicates']} duplicates, {out['errors']} unreadable)")
    print(f"vectors   {out['vectors']}")
    print(f"encoder   {enc['id'] + ' ' + enc['version'] if enc else '(empty library)'}")
    print(f"device    {out['device']}")
    return 0
