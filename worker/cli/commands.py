"""The list of subcommand modules, and what they share: common options and output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from worker.cli.progress import StderrProgress
from worker.cli.runner import Runner


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


def add_library_options(parser: argparse.ArgumentParser, *, encoder: bool = False) -> None:
    parser.add_argument("--library", metavar="DIR",
                        help="library folder (default: $CUESTEER_LIBRARY or the platform data dir)")
    if encoder:
        parser.add_argument("--encoder", metavar="NAME",
                            help="encoder: offline (default), clap or descriptor")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def run_job(runner: Runner, method: str, params: dict[str, Any]) -> dict:
    """Call a job with a progress display on stderr."""
    progress = StderrProgress()
    try:
        return runner.call(method, params, on_progress=progress)
    finally:
        progress.finish()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


def _modules() -> list:
    from worker.analysis.beat_train import cli as train_beats
    from worker.cli import (
        analyze,
        demo,
        doctor,
        embed,
        export,
        generate,
        index,
        library,
        models,
        prior,
        search,
        train_offline,
    )

    return [index, search, embed, analyze, export, generate, library, prior, models, doctor, demo, train_offline,
            train_beats]


MODULES = _modules()
