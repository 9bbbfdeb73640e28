"""Indexing in worker processes: same vectors as in-process, prompt cancel with no workers left behind, a file
that kills its worker fails alone, and workers exit when the indexer is killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.media import clicks, tone, write
from worker.encoders.descriptor import DescriptorEncoder
from worker.jobs import Cancelled, Job
from worker.library.catalogue import Library
from worker.library.indexer import index_folders
from worker.library.pool import CRASHED

ROOT = Path(__file__).resolve().parents[3]


class CrashingEncoder(DescriptorEncoder):
    """The descriptor, except that a window of near silence kills the process (like a decoder segfault)."""

    def open_stream(self):
        stream = super().open_stream()
        feed = stream.feed

        def checked(block: np.ndarray) -> None:
            if np.abs(block).max() < 1e-3:
                os.kill(os.getpid(), signal.SIGKILL)
            feed(block)

        stream.feed = checked
        return stream


def _music(folder: Path, n: int) -> list[Path]:
    return [write(folder / f"track{i}.wav", (tone(11.0, 16000, 200.0 * (i + 1)) + clicks(11.0, 80 + 20 * i, 16000))
                  .astype(np.float32), 16000) for i in range(n)]


def _vectors(lib: Library) -> dict[str, np.ndarray]:
    with lib.transaction() as tx:
        rows = tx.execute("SELECT t.path, s.vector FROM segments s JOIN tracks t ON t.id = s.track_id"
                          " ORDER BY t.path, s.start_s, s.kind").fetchall()
    out: dict[str, list[np.ndarray]] = {}
    for path, blob in rows:
        out.setdefault(Path(path).name, []).append(np.frombuffer(blob, np.float32))
    return {k: np.stack(v) for k, v in out.items()}


def test_processes_give_the_same_vectors_as_one_thread(tmp_path: Path) -> None:
    _music(tmp_path / "music", 4)
    enc = DescriptorEncoder()
    inline, pooled = Library(tmp_path / "a"), Library(tmp_path / "b")
    index_folders(inline, enc, [tmp_path / "music"], workers=1)
    report = index_folders(pooled, enc, [tmp_path / "music"], workers=2, process_min_bytes=0, batch_tracks=3)
    assert report.indexed == 4 and report.errors == []
    a, b = _vectors(inline), _vectors(pooled)
    assert a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_cancel_stops_workers_and_resume_completes(tmp_path: Path) -> None:
    _music(tmp_path / "music", 6)
    lib = Library(tmp_path / "lib")

    def progress(stage: str, fraction: float, message: str) -> None:
        if stage == "embed":
            job.cancel()

    job = Job(progress_fn=progress)
    with pytest.raises(Cancelled):
        index_folders(lib, DescriptorEncoder(), [tmp_path / "music"], job=job, batch_tracks=2, workers=2,
                      process_min_bytes=0)
    assert lib.counts()["ok"] == 2  # exactly the first batch, although later files were already being embedded
    assert multiprocessing.active_children() == []
    report = index_folders(lib, DescriptorEncoder(), [tmp_path / "music"], batch_tracks=2, workers=2,
                           process_min_bytes=0)
    assert (report.indexed, report.skipped) == (4, 2) and lib.counts()["ok"] == 6


def test_a_file_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    _music(tmp_path / "music", 3)
    write(tmp_path / "music" / "silent.wav", np.zeros(16000 * 11, np.float32), 16000)
    lib = Library(tmp_path / "lib")
    report = index_folders(lib, CrashingEncoder(), [tmp_path / "music"], workers=2, process_min_bytes=0)
    assert report.indexed == 3
    assert [(Path(e["path"]).name, e["reason"]) for e in report.errors] == [("silent.wav", CRASHED)]


CHILD = """
import sys, time
from worker.encoders.descriptor import DescriptorEncoder
from worker.library.catalogue import Library
from worker.library.indexer import index_folders
from worker.jobs import Job

def progress(stage, fraction, message):
    if stage == "embed":
        print("embedding", flush=True)
        time.sleep(600)  # hold the pool open until the test kills us

if __name__ == "__main__":
    index_folders(Library(sys.argv[1]), DescriptorEncoder(), [sys.argv[2]], job=Job(progress_fn=progress),
                  workers=2, batch_tracks=1, process_min_bytes=0)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - out
        out |= frontier
    return out


def test_workers_exit_when_the_indexer_is_killed(tmp_path: Path) -> None:
    _music(tmp_path / "music", 6)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "lib"), str(tmp_path / "music")],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "embedding"
        workers = _descendants(proc.pid)
        assert len(workers) >= 2  # the forkserver and its workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_running(p) for p in workers):
            time.sleep(0.2)
        assert not [p for p in workers if _running(p)]
    finally:
        proc.kill()
