"""A real `cuesteer-worker` process for tests: started with `python -m worker.server`, read until it says where
it listens, stopped (or killed) at the end. `ToyService` is a small service with the server's contract (LANES,
keyword params, a Job) and the real library write lock, so server tests don't wait on model loading."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from protocol.link import Link
from protocol.messages import Accepted, Failed, Progress, Result
from worker.jobs import Job, JobFailed
from worker.library.catalogue import KIND_TRACK, Library
from worker.library.lock import WriteLock

ROOT = Path(__file__).resolve().parents[2]
TOY_SERVICE = "tests.protocol.live_worker:ToyService"
START_TIMEOUT_S = 30.0  # a loaded 2-core machine can take a while to import the real service
STOP_TIMEOUT_S = 10.0


class ToyService:
    LANES = {
        "echo": "interactive",
        "count": "heavy",
        "fail": "interactive",
        "crash": "interactive",
        "wrong": "interactive",
        "big": "interactive",
    }

    def __init__(self, library_dir: str | None = None, encoder: str | None = None, *, hold_write_lock: bool = False):
        self.library_dir = library_dir
        self._lock = WriteLock(library_dir or ".")
        if hold_write_lock:
            self._lock.acquire()

    def close(self) -> None:
        self._lock.release()

    def echo(self, *, job: Job, value: object = None) -> dict:
        return {"value": value, "pid": os.getpid()}

    def count(self, *, job: Job, n: int, step_s: float = 0.0, stage: str = "counting") -> dict:
        for i in range(n):
            job.checkpoint()
            job.progress(stage, (i + 1) / n, f"{i + 1}/{n}")
            if step_s:
                time.sleep(step_s)
        return {"counted": n}

    def fail(self, *, job: Job, message: str) -> dict:
        raise JobFailed(message)

    def crash(self, *, job: Job) -> dict:
        return {"ratio": 1 / 0}

    def wrong(self, *, job: Job) -> dict:
        return [1, 2]  # type: ignore[return-value]  # the server must report this, not send it

    def big(self, *, job: Job, size: int) -> dict:
        return {"blob": "x" * size}

    def not_exposed(self, *, job: Job) -> dict:
        return {"secret": True}


@dataclass
class Worker:
    process: subprocess.Popen[str]
    endpoint: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT_S)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT_S)


def start_worker(
    library: Path,
    *args: str,
    service: str = TOY_SERVICE,
    endpoint: str = "tcp://127.0.0.1:*",
    log_path: Path | None = None,
) -> Worker:
    """Start a worker and wait for its "listening on" line; raises with its log if it exits instead."""
    log_path = log_path or library.parent / f"worker-{library.name}.log"
    cmd = [sys.executable, "-m", "worker.server", "--library", str(library), "--service", service]
    if endpoint:
        cmd += ["--endpoint", endpoint]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log_path, "a") as log:  # stderr to a file: a pipe nobody reads would block the worker's logging
        process = subprocess.Popen([*cmd, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if "listening on" in line:
                return Worker(process, line.split("listening on ")[1].split()[0], log_path)
            if not line and process.poll() is not None:
                break
    process.kill()
    process.wait()
    raise RuntimeError(f"worker did not start (exit {process.returncode}):\n{log_path.read_text()}")


@contextlib.contextmanager
def running_worker(library: Path, *args: str, **kwargs: object) -> Iterator[Worker]:
    worker = start_worker(library, *args, **kwargs)  # type: ignore[arg-type]
    try:
        yield worker
    finally:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(STOP_TIMEOUT_S)
        if worker.process.stdout is not None:
            worker.process.stdout.close()


def run_worker_until_exit(library: Path, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess:
    """For workers that must refuse to start: their exit code and stderr."""
    cmd = [sys.executable, "-m", "worker.server", "--library", str(library), "--service", TOY_SERVICE, *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


REAL_SERVICE = "worker.service:Service"
KILL_HEARTBEAT_S = 0.5


@dataclass
class KillPoint:
    after_commits: int  # batch commits to wait for before the countdown starts (0: count from Accepted)
    delay_s: float
    committed_before: int  # ok tracks in the catalogue when this worker started
    reported: int  # files the worker said were committed ("embed" progress) before it was killed
    committed_after: int
    finished: bool  # the index call returned before the kill
    last_stage: str


def index_then_kill(library: Path, music: Path, after_commits: int, delay_s: float) -> KillPoint:
    """Start a real worker, ask it to index `music` and `kill -9` it `delay_s` after its `after_commits`-th
    committed batch (or after Accepted): kill points relative to the work, so a slow machine moves them less."""
    before = library_health(library)["ok"] if (library / "catalogue.sqlite").exists() else 0
    worker = start_worker(library, "--encoder", "descriptor", "--progress-interval", "0", service=REAL_SERVICE)
    reported, commits, finished, stage = 0, 0, False, ""
    deadline: float | None = None
    try:
        with Link(worker.endpoint, heartbeat_s=KILL_HEARTBEAT_S) as link:
            rid = link.submit("index", {"paths": [str(music)]})
            give_up = time.monotonic() + START_TIMEOUT_S * 4
            while not finished and (deadline is None or time.monotonic() < deadline):
                assert time.monotonic() < give_up, f"indexing stalled:\n{worker.log()}"
                for event in link.poll(rid):
                    if isinstance(event, Accepted) and after_commits == 0:
                        deadline = time.monotonic() + delay_s
                    elif isinstance(event, Progress):
                        stage = event.stage
                        if event.stage == "embed":  # sent right after a batch commits: "done/total files"
                            reported = int(event.message.split("/")[0])
                            commits += 1
                            if commits == after_commits:
                                deadline = time.monotonic() + delay_s
                    elif isinstance(event, Result):
                        finished = True
                    elif isinstance(event, Failed):
                        raise RuntimeError(f"index failed: {event.message}\n{worker.log()}")
                time.sleep(0.002)
    finally:
        worker.kill()
        if worker.process.stdout is not None:
            worker.process.stdout.close()
    after = library_health(library)["ok"]
    return KillPoint(after_commits, delay_s, before, reported, after, finished, stage)


def library_health(library: Path) -> dict[str, int]:
    """Open the catalogue the way a restarted worker would and check it: integrity, and every committed track
    has its vectors (a batch is all or nothing)."""
    lib = Library(library)
    try:
        with lib.transaction() as tx:
            integrity = tx.execute("PRAGMA integrity_check").fetchone()[0]
            bare = tx.execute(
                "SELECT COUNT(*) FROM tracks t WHERE t.status = 'ok' AND NOT EXISTS "
                "(SELECT 1 FROM segments s WHERE s.track_id = t.id AND s.kind = ?)",
                (KIND_TRACK,),
            ).fetchone()[0]
            orphans = tx.execute(
                "SELECT COUNT(*) FROM segments s WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.id = s.track_id)"
            ).fetchone()[0]
        counts = lib.counts()
    finally:
        lib.close()
    assert integrity == "ok", integrity
    return {"ok": counts.get("ok", 0), "vectors": counts["vectors"], "bare_tracks": bare, "orphan_segments": orphans}
