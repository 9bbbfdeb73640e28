"""`kill -9` a real worker at ≥ 100 points while it indexes, then resume: the catalogue must open intact after
every kill, batches must be all-or-nothing, no batch the worker reported committed may be lost, and a final
run must complete the library.

Kill points are relative to the work (after the k-th committed batch, or after Accepted, plus a random delay)
so they land in every phase — scan, plan, embedding a batch, between batches, rebuilding the FAISS file,
after done — whatever the machine's speed. Whenever a run finishes, new files are added so the next worker has
work again.

    python bench/crash_resume.py [--points 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protocol.link import Link  # noqa: E402
from tests.media import clicks, tone, write  # noqa: E402
from tests.protocol.live_worker import REAL_SERVICE, index_then_kill, library_health, running_worker  # noqa: E402
from worker.library.vector_index import load_index  # noqa: E402

FIRST_TRACKS = 64  # four batches of 16
MAX_COMMITS_BEFORE_KILL = 3
MAX_DELAY_S = 0.5


def add_music(folder: Path, first: int, count: int) -> int:
    for i in range(first, first + count):
        wave = tone(1.0, 22050, 110.0 * (1 + i % 9), noise=0.01, seed=i) + clicks(1.0, 70 + i % 90)  # unique bytes
        write(folder / f"track{i:04d}.wav", wave.astype(np.float32))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lost = bare = orphans = mid_index = 0
    phases: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cuesteer-crash-") as tmp:
        music, library = Path(tmp) / "music", Path(tmp) / "library"
        total = add_music(music, 0, FIRST_TRACKS)
        for i in range(args.points):
            point = index_then_kill(
                library, music, rng.randint(0, MAX_COMMITS_BEFORE_KILL), rng.uniform(0.0, MAX_DELAY_S)
            )
            health = library_health(library)  # raises if the catalogue is corrupt
            lost += point.committed_after < point.committed_before + point.reported
            bare += health["bare_tracks"] > 0
            orphans += health["orphan_segments"] > 0
            mid_index += point.committed_after > point.committed_before and not point.finished
            phases["finished before the kill" if point.finished else f"killed in {point.last_stage or 'startup'}"] += 1
            if point.finished:
                total += add_music(music, total, rng.randint(16, 48))
            if (i + 1) % 10 == 0:
                print(f"  {i + 1} kill points, {health['ok']}/{total} tracks committed", flush=True)
        with (
            running_worker(library, "--encoder", "descriptor", service=REAL_SERVICE) as worker,
            Link(worker.endpoint) as link,
        ):
            report = link.call("index", {"paths": [str(music)]}, timeout=600)
        health = library_health(library)
        index = load_index(library)
        current = index is not None and index[0].ntotal == health["vectors"]
        resumed = report["errors"] == [] and health["ok"] == total and current
    print(f"kill -9 points: {args.points} in {time.perf_counter() - started:.0f} s; where they landed: {dict(phases)}")
    print(f"kills that left new committed batches behind mid-index: {mid_index}")
    print(
        f"catalogue corrupt: 0 (integrity_check ok after every kill); committed batches lost: {lost}; "
        f"half-written batches: {bare + orphans}"
    )
    print(
        f"final resume: {'complete' if resumed else 'INCOMPLETE'} — {health['ok']}/{total} tracks, "
        f"{health['vectors']} vectors, FAISS index current: {current}; "
        f"the last run indexed {report['indexed']} and skipped {report['skipped']}"
    )
    sys.exit(0 if resumed and not (lost or bare or orphans) else 1)


if __name__ == "__main__":
    main()
