"""Shared helpers for benchmark scripts: corpus listing, child-process runs with peak memory, percentiles."""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def corpus_files(manifest: Path, limit_hours: float | None = None) -> list[tuple[str, float]]:
    """(path, duration) of the audio rows of a fetch.sh manifest, in manifest order."""
    rows = []
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] == "audio" and os.path.exists(row["path"]):
                rows.append((row["path"], float(row["duration_s"])))
    if limit_hours is not None:
        out, total = [], 0.0
        for path, dur in rows:
            if total >= limit_hours * 3600:
                break
            out.append((path, dur))
            total += dur
        rows = out
    return rows


def run_child(args: list[str]) -> dict:
    """Run `python bench/<script> ...` in a fresh process; return its JSON line plus its peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child failed: {' '.join(args)}\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = round(max(peak, before) / 1024, 1)  # ru_maxrss is the largest child so far
    return result


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples_ms)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))
