"""`cuesteer models list | pull NAME | verify [NAME]`: the real models on this machine (see worker/models/).

These run here, never on a `--connect`ed worker: models live in this machine's caches.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from worker.cli.commands import print_json
from worker.cli.progress import StderrProgress
from worker.encoders.hf import OFFLINE_ENV, hub_cache_dir, hub_offline
from worker.jobs import JobFailed
from worker.models import manifest
from worker.models.manifest import MODELS, UnknownModel
from worker.models.pull import PullError, pull
from worker.models.report import models_report, size_text
from worker.models.status import PRESENT, model_status, verify

EXIT_PROBLEM = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, download and verify the real models (CLAP, CLIP, MusicGen, ...)")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    ls = msub.add_parser("list", help="each model: present or missing, size, licence, cache path")
    ls.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    ls.set_defaults(run=run_list)
    pl = msub.add_parser("pull", help="download a model once (progress on stderr; resumes)")
    pl.add_argument("name", metavar="NAME", help=", ".join(m.name for m in MODELS))
    pl.add_argument("--revision", default="main", help="branch or commit on the Hub (default: main)")
    pl.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    pl.set_defaults(run=run_pull)
    vf = msub.add_parser("verify", help="check cached files against their published sha256/git hashes")
    vf.add_argument("name", metavar="NAME", nargs="?", help="one model (default: every model present)")
    vf.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    vf.set_defaults(run=run_verify)


def _spec(name: str) -> manifest.ModelSpec:
    try:
        return manifest.get(name)
    except UnknownModel as exc:
        raise JobFailed(str(exc)) from None


def run_list(args: argparse.Namespace, runner) -> int:
    report = models_report()
    rows = report["models"]
    if args.json:
        print_json(report)
        return 0
    print(f"Hugging Face cache: {hub_cache_dir()}" + (f"  ({OFFLINE_ENV} set: no downloads)" if hub_offline() else ""))
    for row in rows:
        size = ("~" if row["size_is_approximate"] else "") + size_text(row["bytes"])
        print(f"{row['name']:<16} {row['state']:<10} {size:>8}  {row['licence']}")
        print(f"{'':<16} {row['path']}")
        notes = []
        if row["state"] != PRESENT and row["source"] != manifest.BUNDLED:
            notes.append(f"fetch with: {row['pull']}")
        elif row["state"] != PRESENT:
            notes.append("not in this build: search falls back to the descriptor encoder (reinstall cuesteer)")
        if row["partial_bytes"]:
            notes.append(f"{size_text(row['partial_bytes'])} downloaded so far (pull resumes)")
        if row["needs_package"]:
            notes.append(f"also needs: pip install {row['needs_package']}")
        if notes:
            print(f"{'':<16} " + "; ".join(notes))
    return 0


def run_pull(args: argparse.Namespace, runner) -> int:
    spec = _spec(args.name)
    print(f"{spec.label}: {spec.repo_id}, ~{size_text(spec.approx_bytes)}, licence {spec.licence}", file=sys.stderr)
    progress = StderrProgress()
    try:
        result = pull(spec, revision=args.revision, on_progress=progress)
    except PullError as exc:
        raise JobFailed(str(exc)) from None
    finally:
        progress.finish()
    if args.json:
        print_json(asdict(result))
    else:
        print(f"{spec.name}: {result.files} files, {size_text(result.bytes)} in {result.path}")
    return 0


def run_verify(args: argparse.Namespace, runner) -> int:
    specs = [_spec(args.name)] if args.name else [s for s in MODELS if model_status(s).state != "missing"]
    results = [verify(spec) for spec in specs]
    if args.json:
        print_json({"models": [{"name": r.name, "state": r.state, "ok": r.ok,
                                "files": [asdict(f) for f in r.files]} for r in results]})
    else:
        if not results:
            print("no models present; nothing to verify (see `cuesteer models list`)")
        for r in results:
            verdict = "OK" if r.ok else "FAIL"
            print(f"{r.name:<16} {verdict:<5} {r.state}, {len(r.files)} files checked")
            for f in r.files:
                if f.status != "ok":
                    print(f"{'':<16}   {f.status:<10} {f.path}: {f.detail}")
            if not r.ok:
                print(f"{'':<16}   fix: {manifest.get(r.name).pull_command} (re-fetches what is missing or damaged)")
    return 0 if all(r.ok for r in results) else EXIT_PROBLEM
