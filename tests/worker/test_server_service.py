"""The real Service behind the worker: the same jobs over the socket as in-process, and indexing that survives
`kill -9` at random points (≥ 20 here, ≥ 100 in bench/crash_resume.py) without losing a committed batch."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from protocol.link import Link, RemoteError
from protocol.messages import Failed, Progress
from tests.media import clicks, tone, write
from tests.protocol.live_worker import REAL_SERVICE, index_then_kill, library_health, running_worker
from worker.library.vector_index import load_index

KILL_POINTS = 20
TRACKS = 48  # three committed batches of 16
MAX_DELAY_S = 0.4  # a batch of 16 short files took ~0.4 s before indexing got faster
MIN_DELAY_S = 0.01  # the delay adapts between these, so kills land mid-index on fast and slow machines
CALL_TIMEOUT_S = 60.0


def add_music(folder: Path, first: int, count: int) -> list[Path]:
    """`count` short tracks with distinct bytes (a duplicate would be listed, not indexed)."""
    return [
        write(
            folder / f"track{i:03d}.wav",
            (tone(1.0, 22050, 110.0 * (1 + i % 9), noise=0.01, seed=i) + clicks(1.0, 70 + i)).astype(np.float32),
        )
        for i in range(first, first + count)
    ]


def test_index_status_and_search_over_the_socket(tmp_path: Path) -> None:
    paths = add_music(tmp_path / "music", 0, 6)
    (tmp_path / "music" / "broken.mp3").write_text("not audio")
    worker_args = ("--encoder", "descriptor")
    with (
        running_worker(tmp_path / "library", *worker_args, service=REAL_SERVICE) as worker,
        Link(worker.endpoint) as link,
    ):
        stages: list[str] = []
        report = link.call(
            "index",
            {"paths": [str(tmp_path / "music")]},
            on_progress=lambda stage, *_: stages.append(stage),
            timeout=CALL_TIMEOUT_S,
        )
        assert (report["indexed"], report["skipped"]) == (6, 0)
        assert [e["path"] for e in report["errors"]] == [str(tmp_path / "music" / "broken.mp3")]
        assert stages[0] == "scan" and stages[-1] == "done"
        status = link.call("status", timeout=CALL_TIMEOUT_S)
        assert status["tracks"] == 6 and status["encoder"]["id"] == "descriptor"
        found = link.call("search", {"like": str(paths[2]), "k": 3}, timeout=CALL_TIMEOUT_S)
        assert len(found["results"]) == 3 and str(paths[2]) not in [r["path"] for r in found["results"]]
        with pytest.raises(RemoteError) as caught:
            link.call("search", {}, timeout=CALL_TIMEOUT_S)
        assert caught.value.reason == "error" and "nothing to search for" in str(caught.value)


@pytest.mark.slow
def test_kill_9_at_random_points_while_indexing_loses_no_committed_batch(tmp_path: Path) -> None:
    music, library = tmp_path / "music", tmp_path / "library"
    total = len(add_music(music, 0, TRACKS))
    rng = random.Random(20261123)
    points = []
    max_delay = MAX_DELAY_S
    for _ in range(KILL_POINTS):
        point = index_then_kill(library, music, rng.randint(0, 1), rng.uniform(0.0, max_delay))
        points.append(point)
        assert point.committed_after >= point.committed_before + point.reported, point  # nothing committed lost
        assert point.committed_after <= total
        health = library_health(library)
        assert health["bare_tracks"] == 0 and health["orphan_segments"] == 0  # batches are all or nothing
        if point.finished:  # give the next worker something to do, and kill sooner: this machine is quick
            total += len(add_music(music, total, rng.randint(8, 40)))
            max_delay = max(max_delay / 2, MIN_DELAY_S)
        else:
            max_delay = min(max_delay * 1.25, MAX_DELAY_S)
    assert sum(p.committed_after > p.committed_before and not p.finished for p in points) >= 3  # mid-index
    assert any(p.reported == 0 and not p.finished for p in points)  # and before the first commit, too

    with (
        running_worker(library, "--encoder", "descriptor", service=REAL_SERVICE) as worker,
        Link(worker.endpoint) as link,
    ):
        report = link.call("index", {"paths": [str(music)]}, timeout=CALL_TIMEOUT_S)
        assert report["errors"] == [] and report["indexed"] + report["skipped"] == total
        assert link.call("status", timeout=CALL_TIMEOUT_S)["tracks"] == total
    health = library_health(library)
    assert health["ok"] == total and health["vectors"] == 2 * total  # one window + the track vector each
    index = load_index(library)
    assert index is not None and index[0].ntotal == health["vectors"]


def test_cancel_mid_index_keeps_committed_batches_and_a_rerun_resumes(tmp_path: Path) -> None:
    music, library = tmp_path / "music", tmp_path / "library"
    total = len(add_music(music, 0, TRACKS))
    with (
        running_worker(library, "--encoder", "descriptor", service=REAL_SERVICE) as worker,
        Link(worker.endpoint) as link,
    ):
        rid = link.submit("index", {"paths": [str(music)]})
        events = []
        for event in link.events(rid, timeout=CALL_TIMEOUT_S):
            events.append(event)
            if isinstance(event, Progress) and event.stage == "embed" and event.fraction > 0.3:
                link.cancel(rid)
        assert events[-1] == Failed("cancelled", "cancelled")
        kept = link.call("status", timeout=CALL_TIMEOUT_S)["tracks"]
        assert 0 < kept < total and kept % 16 == 0  # whole batches only
        report = link.call("index", {"paths": [str(music)]}, timeout=CALL_TIMEOUT_S)
        assert (report["skipped"], report["indexed"]) == (kept, total - kept)


def test_connect_prints_what_the_in_process_command_prints(tmp_path: Path) -> None:
    music, library = tmp_path / "music", tmp_path / "library"
    paths = add_music(music, 0, 6)
    local = cuesteer("index", str(music), "--library", str(library), "--encoder", "descriptor")
    assert local.returncode == 0, local.stderr
    query = ("search", "--like", str(paths[1]), "-k", "4", "--seed", "5", "--library", str(library))
    in_process = [cuesteer(*query), cuesteer(*query, "--json")]
    with running_worker(library, "--encoder", "descriptor", service=REAL_SERVICE) as worker:
        remote = [cuesteer("--connect", worker.endpoint, *query),
                  cuesteer("--connect", worker.endpoint, *query, "--json")]
    for here, there in zip(in_process, remote, strict=True):
        assert here.returncode == there.returncode == 0, there.stderr
        assert here.stdout == there.stdout and here.stdout.strip()
    assert [r["path"] for r in json.loads(remote[1].stdout)["results"]][0] != str(paths[1])


def cuesteer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "worker.cli.main", *args], capture_output=True, text=True,
                          timeout=CALL_TIMEOUT_S * 2, cwd=Path(__file__).resolve().parents[2])
