"""`cuesteer`: the command line (DESIGN §12). A client like the desktop app: it runs the service in-process by
default, or talks to a running worker with `--connect ENDPOINT`.

Exit codes: 0 ok, 1 the job failed (message on stderr), 2 bad usage, 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from worker.cli import commands
from worker.cli.runner import LocalRunner, RemoteRunner, Runner
from worker.jobs import Cancelled, JobFailed

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cuesteer", description="Find and make music for pictures.")
    parser.add_argument("--connect", metavar="ENDPOINT",
                        help="run the command on a running cuesteer-worker (e.g. tcp://127.0.0.1:5555)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands.MODULES:
        module.register(sub)
    return parser


def join_signed_values(argv: Sequence[str]) -> list[str]:
    """`--steer -vocals:0.5` → `--steer=-vocals:0.5`: argparse would read the phrase as an option."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        if items[i] == "--steer" and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"--steer={items[i + 1]}")
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(join_signed_values(sys.argv[1:] if argv is None else argv))
    runner: Runner
    if args.connect:
        runner = RemoteRunner(args.connect)
    else:
        runner = LocalRunner(getattr(args, "library", None), getattr(args, "encoder", None))
    try:
        return int(args.run(args, runner) or EXIT_OK)
    except Cancelled as exc:
        print(f"cuesteer: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except JobFailed as exc:
        print(f"cuesteer: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except commands.UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"cuesteer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        runner.close()


if __name__ == "__main__":
    sys.exit(main())
