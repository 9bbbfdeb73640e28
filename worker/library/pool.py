"""Run `embed_file` for many files at once: in worker processes for encoders that are pure numpy (decoding and
the descriptor hold the GIL, so threads would share one core), in threads for torch encoders (which release the
GIL and would otherwise load their weights once per process), or inline.

Workers only compute: the indexer's own process alone writes the catalogue, so batch atomicity and crash safety
do not depend on them. A worker whose parent dies (kill -9) exits within a second instead of lingering.

Starting processes costs ~1 s of wall time (the forkserver imports numpy, scipy and the decoders once), so the
indexer starts the pool with `start_pool` while it is still hashing files, and every worker starts at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from worker.encoders.base import Encoder
from worker.library.embed_file import Embedded, embed_file

PARENT_POLL_S = 1.0
START_TIMEOUT_S = 60.0  # a worker that cannot even start (no `__main__` guard in a script, no /dev/shm) in time
START_METHOD = "forkserver"  # workers fork from a clean server process: no copy of the indexer's threads or locks
CRASHED = "the decoder crashed on this file"
# Imported once in the forkserver instead of in every worker (the decoders are imported lazily by decode.py).
PRELOAD = ("av", "soundfile", "soxr", "threadpoolctl", "worker.library.embed_file")

_encoder: Encoder | None = None
log = logging.getLogger(__name__)


def wants_processes(encoder: Encoder) -> bool:
    return getattr(encoder, "parallel", "threads") == "processes"


class FilePool:
    """submit(path) -> Future[Embedded]; `close(interrupted=True)` stops running work at once."""

    def __init__(self, encoder: Encoder, workers: int, *, processes: bool) -> None:
        self.encoder, self.workers, self.processes = encoder, workers, processes
        self._executor: Executor | None = None
        if workers > 1 and processes:
            self._executor = self._start_checked(workers)
            self.processes = self._executor is not None
        if workers > 1 and self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=workers)

    def submit(self, path: str) -> Future:
        if self._executor is None:
            return _Deferred(lambda: embed_file(path, self.encoder))
        if self.processes:
            return self._executor.submit(_embed_in_worker, path)
        return self._executor.submit(embed_file, path, self.encoder)

    def result(self, future: Future, path: str, timeout: float) -> Embedded:
        """The future's result; a file that kills its worker process is retried alone, and fails alone."""
        try:
            return future.result(timeout=timeout)
        except BrokenProcessPool:
            return self._isolated(path)

    def restart_if_broken(self) -> bool:
        """After a worker crash every queued future fails: start a fresh pool (the caller resubmits)."""
        broken = isinstance(self._executor, ProcessPoolExecutor) and getattr(self._executor, "_broken", False)
        if broken:
            self.close(interrupted=True)
            self._executor = self._start(self.workers)
        return bool(broken)

    def close(self, *, interrupted: bool = False) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if interrupted and isinstance(executor, ProcessPoolExecutor):
            processes = list(getattr(executor, "_processes", {}).values())  # no public way to stop running work
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5.0)
        else:
            executor.shutdown(wait=not interrupted, cancel_futures=True)

    def _start(self, workers: int) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":  # workers fork with these already imported (no effect once it runs)
            context.set_forkserver_preload([__name__, type(self.encoder).__module__, *PRELOAD])
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.encoder, os.getpid()))

    def _start_checked(self, workers: int) -> ProcessPoolExecutor | None:
        """A pool whose workers have started, or None (then threads do the work, slower but correct)."""
        executor = self._start(workers)
        try:  # one task per worker while none is idle: all of them are started (and import) side by side
            ready = [executor.submit(_ready) for _ in range(workers)]
            wait(ready, timeout=START_TIMEOUT_S)
            for future in ready:
                future.result(timeout=0)
        except Exception as exc:  # noqa: BLE001 - any start failure means: don't use processes
            log.warning("indexing without worker processes: they failed to start (%s)", exc or type(exc).__name__)
            self._executor = executor
            self.close(interrupted=True)
            return None
        return executor

    def _isolated(self, path: str) -> Embedded:
        """Run one file alone in a fresh worker: if that worker dies too, the file is what kills it."""
        single = FilePool(self.encoder, 1, processes=True)
        executor = single._executor = single._start_checked(1)
        if executor is None:
            return embed_file(path, self.encoder)
        try:
            return executor.submit(_embed_in_worker, path).result()
        except BrokenProcessPool:
            return Embedded(path, error=CRASHED)
        finally:
            single.close(interrupted=True)


def start_pool(encoder: Encoder, workers: int, *, processes: bool) -> Future:
    """Future[FilePool], started on a background thread so the caller can go on (e.g. hashing files)."""
    out: Future = Future()

    def run() -> None:
        try:
            out.set_result(FilePool(encoder, workers, processes=processes))
        except BaseException as exc:  # handed to whoever takes the pool
            out.set_exception(exc)

    threading.Thread(target=run, name="start-pool", daemon=True).start()
    return out


class _Deferred(Future):
    """A future computed in the caller's thread when its result is asked for (the one-worker case)."""

    def __init__(self, fn) -> None:
        super().__init__()
        self._fn = fn

    def result(self, timeout: float | None = None) -> Embedded:
        if not self.done():
            self.set_result(self._fn())
        return super().result()


def _init_worker(encoder: Encoder, parent_pid: int) -> None:
    global _encoder
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one process per core: BLAS threads on top would fight over the same cores
    _encoder = encoder
    parent = os.getppid()  # the forkserver, which itself exits with the indexer
    threading.Thread(target=_exit_with_parent, args=(parent, parent_pid), daemon=True).start()


def _exit_with_parent(parent: int, indexer: int) -> None:
    while os.getppid() == parent and _alive(indexer):
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ready() -> bool:
    return True


def _embed_in_worker(path: str) -> Embedded:
    assert _encoder is not None, "worker started without an encoder"
    return embed_file(path, _encoder)
