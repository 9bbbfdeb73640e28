"""Shared helpers for benchmark scripts: corpus listing, child-process runs with peak memory, percentiles."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def corpus_files(manifest: Path, limit_hours: float | None = None, *, shuffle: bool = False) -> list[tuple[str, float]]:
    """(path, duration) of the audio rows of a fetch.sh manifest, in manifest order (or a fixed shuffle of it, so
    the first hours mix packages and codecs like the whole corpus does)."""
    rows = []
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] == "audio" and os.path.exists(row["path"]):
                rows.append((row["path"], float(row["duration_s"])))
    if shuffle:
        order = np.random.default_rng(0).permutation(len(rows))
        rows = [rows[i] for i in order]
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
    """Run `python bench/<script> ...` in a fresh process; return its JSON line plus memory and machine load.

    `peak_rss_mb` is the largest sampled sum of resident memory over the child and all its descendants (worker
    processes included); `load_before`/`load_after` are the 1-minute load averages around the run."""
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(RSS_SAMPLE_S):
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {' '.join(args)}\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak[0] / 1024, 1)
    result["load_before"], result["load_after"] = round(load_before, 2), round(os.getloadavg()[0], 2)
    return result


RSS_SAMPLE_S = 0.2


def tree_rss_kb(pid: int) -> int:
    """Resident memory (kB) of `pid` and every process descending from it, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry)] = int(line.split()[1])
    tree, frontier = {pid}, {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - tree
        tree |= frontier
    return sum(rss.get(p, 0) for p in tree)


def uptime() -> str:
    """The machine's load averages (1, 5, 15 min): other people's work shares the cores with a benchmark."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples_ms)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))
