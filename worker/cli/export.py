"""`cuesteer export FILE --out DIR`: WAV/BWF (and stems), MIDI tempo map, NLE markers, fitted to a length."""

from __future__ import annotations

import argparse
import os

from worker.cli.commands import UsageError, add_library_options, print_json, run_job

MARKER_FORMATS = ("resolve", "fcpxml", "premiere", "csv")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="hand-off files for a cue: WAV/BWF, stems, MIDI tempo map, markers")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--start", type=float, metavar="S", help="region start (seconds)")
    p.add_argument("--end", type=float, metavar="S", help="region end (seconds)")
    p.add_argument("--fit", type=float, metavar="SECONDS", help="cut/loop at bar lines to this length")
    p.add_argument("--stems", action="store_true", help="also write stems")
    p.add_argument("--midi", action="store_true", help="also write a MIDI tempo map")
    p.add_argument("--markers", default="", metavar="LIST", help="comma list of resolve,fcpxml,premiere,csv")
    p.add_argument("--timecode", default="00:00:00:00", help="timecode of the cue start (BWF TimeReference)")
    p.add_argument("--fps", default="25", help="frame rate for timecode and markers (23.976, 24, 25, 29.97, …)")
    p.add_argument("--bit-depth", type=int, default=24, choices=(16, 24, 32))
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--out", required=True, metavar="DIR")
    add_library_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    markers = [m for m in args.markers.split(",") if m]
    unknown = set(markers) - set(MARKER_FORMATS)
    if unknown:
        raise UsageError(f"unknown marker format(s): {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(MARKER_FORMATS)}")
    params = {"path": os.path.abspath(args.file), "out_dir": os.path.abspath(args.out), "start_s": args.start,
              "end_s": args.end, "fit_s": args.fit, "stems": args.stems, "midi": args.midi, "markers": markers,
              "timecode": args.timecode, "fps": args.fps, "bit_depth": args.bit_depth, "force": args.force}
    out = run_job(runner, "export", params)
    if args.json:
        print_json(out)
        return 0
    for path in out.get("files", []):
        print(path)
    return 0
