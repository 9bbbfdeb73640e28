"""`cuesteer demo`: the README's main job, offline — index real recordings and answer queries.

The recordings are freely licensed game soundtracks that Debian ships (`shared/corpus/fetch.sh music-small`,
~180 MB from the Debian mirror, cached in $CUESTEER_CORPUS or ~/.cache/cuesteer-corpus).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from worker import settings
from worker.cli.commands import print_json, run_job
from worker.cli.runner import LocalRunner
from worker.encoders.registry import get_encoder
from worker.jobs import JobFailed

CORPUS_SET = "music-small"
CORPUS_PACKAGES = ("singularity-music", "hyperrogue-music", "blobwars-data")  # what fetch.sh calls music-small
PICTURE_STEER = ("+calm ambient:0.8", "-drums:0.6")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MIN_PICTURE_BYTES = 60_000  # skip icons and sprites


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="index the demo corpus and answer example queries (offline)")
    p.add_argument("--library", metavar="DIR", help="demo library folder (default: <cache>/demo-library)")
    p.add_argument("--corpus", metavar="DIR", help="folder of music to use instead of the downloaded corpus")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, runner) -> int:
    folders = [Path(args.corpus)] if args.corpus else ensure_corpus()
    params: dict = {"paths": [str(f) for f in folders]}
    if isinstance(runner, LocalRunner):  # in-process: the demo's own library, never the user's (nor a worker's)
        runner.library = runner.library or str(settings.cache_dir() / "demo-library")
        params |= rebuild_if_stale(run_job(runner, "status", {}).get("encoder"))
    print(f"demo: indexing {', '.join(str(f) for f in folders)}", flush=True)
    report = run_job(runner, "index", params)
    print(f"demo: {report['indexed']} new, {report['skipped']} unchanged, {len(report['errors'])} not indexed "
          f"(sound effects under 0.5 s, unreadable files); encoder {report['encoder']}", flush=True)
    status = run_job(runner, "status", {})
    queries = demo_queries(folders, status)
    answers = []
    for title, params in queries:
        out = run_job(runner, "search", params)
        answers.append({"query": title, **out})
        if not args.json:
            print(f"\n== {title}")
            for rank, hit in enumerate(out["results"][:5], 1):
                name = f"{hit['title']} ({Path(hit['path']).name})" if hit["title"] else Path(hit["path"]).name
                print(f"  {rank}. {hit['score']:.3f} @{hit['in_point_s']:5.1f}s  {name}")
            print(f"  diversity: MISCS {out['diversity']['miscs']:.3f}, "
                  f"{out['diversity']['distinct_labels']} distinct sources")
    if args.json:
        print_json({"index": report, "queries": answers})
    return 0


def rebuild_if_stale(stamped: dict | None) -> dict:
    """Index options for the demo's own library: it is derived data, so after an upgrade changed the default
    encoder (or its weights) it is rebuilt with the default rather than refused as a user's library would be."""
    default = get_encoder()
    if stamped is None or (stamped["id"], stamped["version"]) == (default.id, default.version):
        return {}
    print(f"demo: the demo library was built with {stamped['id']} {stamped['version']}; rebuilding it with "
          f"{default.id} {default.version}", flush=True)
    return {"reindex": True, "encoder": default.id}


def demo_queries(folders: list[Path], status: dict) -> list[tuple[str, dict]]:
    files = sorted(p for folder in folders for p in folder.rglob("*")
                   if p.suffix.lower() in {".ogg", ".mp3", ".flac", ".wav"} and p.stat().st_size > 400_000)
    if not files:
        raise JobFailed(f"no music files under {', '.join(map(str, folders))}")
    example = files[len(files) // 2]
    queries: list[tuple[str, dict]] = [
        (f"more like {example.name} from 30 s", {"like": str(example), "like_at": 30.0, "k": 10}),
    ]
    encoder = (status.get("encoder") or {}).get("id")
    if encoder in ("offline", "clap"):
        queries.append(("text: calm solo piano", {"text": "calm solo piano", "k": 10}))
        queries.append(("text: fast energetic music with drums", {"text": "fast energetic music with drums",
                                                                   "k": 10}))
        picture = demo_picture(folders)
        if picture is not None:  # the product's own query: a picture, steered
            queries.append((f"picture {picture.name}, steered {' '.join(PICTURE_STEER)}",
                            {"images": [str(picture)], "steer": list(PICTURE_STEER), "k": 10}))
    return queries


def demo_picture(folders: list[Path]) -> Path | None:
    """A full-screen still from the corpus packages (blobwars ships cut-scene art), or None."""
    stills = sorted(p for folder in folders for p in folder.rglob("*")
                    if p.suffix.lower() in PICTURE_SUFFIXES and p.stat().st_size > MIN_PICTURE_BYTES)
    return stills[0] if stills else None


def ensure_corpus() -> list[Path]:
    """The demo corpus folders, fetched from the Debian mirror on first use."""
    dest = settings.corpus_dir()
    folders = [dest / "pkg" / name for name in CORPUS_PACKAGES]
    if not all((f / ".done").exists() for f in folders):
        script = _fetch_script()
        print(f"demo: fetching the demo corpus into {dest} (once, ~180 MB)", flush=True)
        result = subprocess.run(["bash", str(script), CORPUS_SET, str(dest)], check=False)
        if result.returncode != 0:
            raise JobFailed(f"could not fetch the demo corpus ({script} exited {result.returncode}); "
                            "run `apt-get update` once, or pass --corpus DIR with music of your own")
    return folders


def _fetch_script() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "corpus" / "fetch.sh"
        if candidate.exists():
            return candidate
    raise JobFailed("the demo corpus script (shared/corpus/fetch.sh) is not beside this checkout; "
                    "pass --corpus DIR with music of your own")
