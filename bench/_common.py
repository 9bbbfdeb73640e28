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
    processes included), `cpu_s` the CPU time (user + system) they used: unlike wall time it hardly depends on
    what else runs on the machine. `load_before`/`load_after` are the 1-minute load averages around the run."""
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(RSS_SAMPLE_S):
            rss, ticks = tree_usage(proc.pid)
            peak[0] = max(peak[0], rss)
            for pid, seconds in ticks.items():
                cpu[pid] = max(cpu.get(pid, 0.0), seconds)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {' '.join(args)}\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak[0] / 1024, 1)
    result["cpu_s"] = round(sum(cpu.values()), 2)  # sampled: misses at most RSS_SAMPLE_S per process
    result["load_before"], result["load_after"] = round(load_before, 2), round(os.getloadavg()[0], 2)
    return result


RSS_SAMPLE_S = 0.2


def tree_usage(pid: int) -> tuple[int, dict[int, float]]:
    """(resident kB summed, {pid: CPU seconds so far}) over `pid` and every process descending from it."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry)] = int(line.split()[1])
    tree, frontier = {pid}, {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - tree
        tree |= frontier
    return sum(rss.get(p, 0) for p in tree), {p: cpu[p] for p in tree if p in cpu}


def uptime() -> str:
    """The machine's load averages (1, 5, 15 min): other people's work shares the cores with a benchmark."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples_ms)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))
