"""Job queues with their own threads, so a long index never delays a search: every service method belongs to a
lane ("heavy", "interactive" or "background"), and each lane runs its jobs on its own threads in arrival order.

A `JobRecord` moves queued → running → done exactly once; whoever moves it to done sends the one final reply.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from worker.jobs import Job

log = logging.getLogger(__name__)

LANE_THREADS = {"heavy": 1, "interactive": 2, "background": 1}
QUEUED, RUNNING, DONE = "queued", "running", "done"


@dataclass(eq=False)
class JobRecord:
    client: bytes
    request_id: str
    method: str
    params: dict[str, Any]
    lane: str
    job: Job = field(default_factory=Job)
    state: str = QUEUED
    last_progress_at: float = float("-inf")
    last_stage: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def key(self) -> tuple[bytes, str]:
        return self.client, self.request_id

    def start(self) -> bool:
        """queued → running; False when it was cancelled while it waited."""
        with self._lock:
            if self.state != QUEUED:
                return False
            self.state = RUNNING
            return True

    def finish(self) -> bool:
        """→ done; True only for the one caller that gets to send the final reply."""
        with self._lock:
            if self.state == DONE:
                return False
            self.state = DONE
            return True


class Lane:
    """A FIFO of jobs and the threads that run them with `run(record)`."""

    def __init__(self, name: str, threads: int, run: Callable[[JobRecord], None]):
        self.name = name
        self._run = run
        self._queue: queue.SimpleQueue[JobRecord | None] = queue.SimpleQueue()
        self._depth = 0  # queued + running
        self._depth_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._loop, name=f"lane {name} {i}", daemon=True) for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def depth(self) -> int:
        return self._depth

    def put(self, record: JobRecord) -> int:
        """Queue `record`; returns how many jobs were ahead of it."""
        with self._depth_lock:
            ahead = self._depth
            self._depth += 1
        self._queue.put(record)
        return ahead

    def stop(self, timeout: float) -> bool:
        """Let running jobs end (callers cancel them first); True if every thread finished within `timeout`."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self._threads)

    def _loop(self) -> None:
        while (record := self._queue.get()) is not None:
            try:
                self._run(record)
            except Exception:  # run() reports job errors itself; this is a bug in the server
                log.exception("lane %s: unhandled error running %s", self.name, record.method)
            finally:
                with self._depth_lock:
                    self._depth -= 1
