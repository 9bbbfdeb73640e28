"""`cuesteer search`: text, find-similar (and, with the prior, steered and image) queries."""

from __future__ import annotations

import argparse
import os

from worker.cli.commands import UsageError, add_library_options, print_json, run_job
from worker.service import _split_at


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search the library")
    p.add_argument("--text", metavar="T", help="describe the music")
    p.add_argument("--like", metavar="FILE[@SECONDS]", help="find music like a file (from a point in it)")
    p.add_argument("--image", action="append", default=[], metavar="FILE",
                   help="a picture (frame) to find music for; repeat for several frames of one query")
    p.add_argument("--video", metavar="FILE", help="a video: frames at 1 fps, one set of results per scene/cue")
    p.add_argument("--range", metavar="A-B", dest="video_range",
                   help="only this part of the video (seconds or [h:]mm:ss, e.g. 12-40 or 1:05-2:30)")
    p.add_argument("--pool", choices=("attention", "mean"), default="attention",
                   help="how a cue's frames become one query (attention: long, typical scenes count most)")
    p.add_argument("--one-cue", action="store_true", help="the whole video (range) is one query, not split at cuts")
    p.add_argument("--steer", action="append", default=[], metavar='"+phrase:weight"',
                   help='a phrase with a signed weight in −1…+1: "+warm acoustic guitar:0.8", "-vocals:0.5"')
    p.add_argument("-k", type=int, default=10, metavar="N", help="number of results (default 10)")
    p.add_argument("--seeds", type=int, default=16, metavar="N", help="seed embeddings sampled from the prior")
    p.add_argument("--mode", choices=("prior", "regression", "query"),
                   help="prior: many directions (default with text/image/steer); regression/query: one vector")
    p.add_argument("--seed", type=int, metavar="N", help="random seed (printed; same seed → same results)")
    p.add_argument("--guidance", type=float, metavar="W", help="how strongly the query steers the seeds (default 1)")
    add_library_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    if not (args.text or args.like or args.image or args.steer or args.video):
        raise UsageError("give --text, --like, --image, --video and/or --steer")
    if args.video_range and not args.video:
        raise UsageError("--range needs --video")
    if args.k < 1 or args.seeds < 1:
        raise UsageError("-k and --seeds must be at least 1")
    from worker.retrieval.steering import SteerError, parse_phrase

    try:
        steer = [parse_phrase(s).to_list() for s in args.steer]
    except SteerError as exc:
        raise UsageError(str(exc)) from exc
    params: dict = {"text": args.text, "k": args.k, "images": [os.path.abspath(i) for i in args.image] or None,
                    "steer": steer, "seeds": args.seeds, "mode": args.mode, "seed": args.seed,
                    "guidance": args.guidance}
    if args.like:
        path, at = _split_at(args.like)
        params.update(like=path, like_at=at)
    if args.video:
        from worker.retrieval.video_query import parse_range

        if args.image:
            raise UsageError("give either --image or --video")
        try:
            start, end = parse_range(args.video_range) if args.video_range else (None, None)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        params.update(video=os.path.abspath(args.video), video_range=[start, end], pool=args.pool,
                      split=not args.one_cue)
    out = run_job(runner, "search", params)
    if args.json:
        print_json(out)
        return 0
    if args.video:
        for n, cue in enumerate(out["cues"], 1):
            print(f"cue {n}: {cue['start_s']:.1f}–{cue['end_s']:.1f} s ({len(cue['scenes'])} scene(s), "
                  f"{cue['frames']} frames)")
            _print_results(cue["results"])
        print(f"seed {out['seed']} (repeat with --seed {out['seed']})")
        return 0
    _print_results(out["results"])
    print(f"mode {out['mode']}, seed {out['seed']} (repeat with --seed {out['seed']})")
    div = out["diversity"]
    print(f"diversity: MISCS {div['miscs']:.3f} (lower = more varied), "
          f"{div['distinct_labels']} distinct artists/folders")
    return 0


def _print_results(results: list[dict]) -> None:
    for rank, hit in enumerate(results, 1):
        name = hit["title"] or hit["path"]
        who = f" — {hit['artist']}" if hit.get("artist") else ""
        picture = f"  picture {hit['imsm']:+.2f}" if "imsm" in hit else ""  # IMSM, next to the retrieval score
        print(f"{rank:2d}. {hit['score']:.3f}{picture}  @{hit['in_point_s']:6.1f}s  {name}{who}")
        if hit["title"]:
            print(f"      {hit['path']}")
