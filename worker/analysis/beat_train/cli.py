"""`cuesteer train-beat-model`: the same run as `python -m worker.analysis.beat_train` (a maintainer's command,
run in this process)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from worker.analysis.beat_train.__main__ import add_arguments

    p = sub.add_parser("train-beat-model",
                       help="render seeded MIDI excerpts and train the beat/downbeat network (writes beat_model.pt)")
    add_arguments(p)
    p.set_defaults(run=run_train_beats)


def run_train_beats(args: argparse.Namespace, runner: object = None) -> int:
    from worker.analysis.beat_train.__main__ import run

    run(args)
    return 0
