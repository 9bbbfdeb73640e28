"""A local `cuesteer-worker` run by the app as a `QProcess`: started, watched, restarted with a notice on a crash.

The worker prints `cuesteer-worker listening on ENDPOINT pid N library DIR` when it is ready; we read that line
rather than guessing the endpoint. Its stderr (the log) is kept as a short tail so a crash notice can say why.
Everything here runs on the GUI thread through QProcess signals: nothing waits.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # holds the `worker` package in a source checkout
READY_MARKER = "listening on "
LOG_TAIL_LINES = 40
RESTART_DELAY_MS = 500
MAX_RESTARTS = 5  # within RESTART_WINDOW_S; then we stop trying and say so
RESTART_WINDOW_S = 60.0
STOP_TIMEOUT_MS = 10_000  # a job without a checkpoint (model scan, import) may need seconds before it stops
ENDPOINT_FILE = "worker.json"  # what worker.server writes into the library it serves (we import no worker code)
ERROR_MARKS = (" ERROR ", " CRITICAL ")  # levels in the worker's log format
MAX_NOTICE_CHARS = 300


class LocalWorker(QObject):
    """`LocalWorker(library, encoder=…).start()`; `ready(endpoint)` when it listens, `crashed(notice)` when it
    died on its own (a restart follows unless it keeps crashing), `gave_up(notice)` when it will not start."""

    ready = Signal(str)
    crashed = Signal(str)
    gave_up = Signal(str)

    def __init__(self, library: str | os.PathLike[str] | None, *, encoder: str | None = None,
                 extra_args: list[str] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.library = None if library is None else str(library)  # None: the worker's default library
        self.encoder = encoder
        self.extra_args = list(extra_args or [])
        self.endpoint: str | None = None
        self.log_tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self.restarts: list[float] = []
        self._stopping = False
        self._stdout_buffer = b""
        self._process: QProcess | None = None

    def command(self) -> list[str]:
        args = ["-m", "worker.server", "--exit-with-parent", str(os.getpid())]  # never outlives a killed app
        if self.library:
            args += ["--library", self.library]
        if self.encoder:
            args += ["--encoder", self.encoder]
        return [sys.executable, *args, *self.extra_args]

    @property
    def pid(self) -> int | None:
        if self._process is None or self._process.state() == QProcess.ProcessState.NotRunning:
            return None
        return int(self._process.processId())

    def start(self) -> None:
        self._stopping = False
        self.endpoint = None
        self._stdout_buffer = b""
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        path = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", os.pathsep.join(p for p in (str(PROJECT_ROOT), path) if p))
        env.insert("TOKENIZERS_PARALLELISM", "false")
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(PROJECT_ROOT))
        process.readyReadStandardOutput.connect(self._on_stdout)
        process.readyReadStandardError.connect(self._on_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        program, *args = self.command()
        process.start(program, args)

    def stop(self) -> None:
        """Ask the worker to finish (SIGTERM: it closes the library cleanly), kill it if it does not."""
        self._stopping = True
        process, self._process = self._process, None
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        process.terminate()
        if not process.waitForFinished(STOP_TIMEOUT_MS):
            process.kill()
            process.waitForFinished(STOP_TIMEOUT_MS)

    def kill(self) -> None:
        """Kill -9 the worker as a crash would (tests, "restart worker")."""
        if self._process is not None:
            self._process.kill()

    # ---- QProcess signals -------------------------------------------------------------------------------------

    def _on_stdout(self) -> None:
        if self._process is None:
            return
        self._stdout_buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace")
            if READY_MARKER in line and self.endpoint is None:
                self.endpoint = line.split(READY_MARKER, 1)[1].split()[0]
                self.ready.emit(self.endpoint)

    def _on_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode(errors="replace")
        self.log_tail.extend(line for line in text.splitlines() if line.strip())

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.gave_up.emit(f"the worker could not be started ({' '.join(self.command())}): "
                              f"{self._process.errorString() if self._process else error}")

    def _on_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        if self._stopping or self.sender() is not self._process:
            return
        how = "was killed" if status == QProcess.ExitStatus.CrashExit else f"exited with code {exit_code}"
        last = self.last_error()
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S]
        if self.endpoint is None or len(self.restarts) >= MAX_RESTARTS:
            self._process = None
            self.gave_up.emit(f"the worker {how} and will not be restarted"
                              + (f" ({len(self.restarts)} restarts in {RESTART_WINDOW_S:.0f} s)" if self.restarts
                                 else "") + (f": {last}" if last else ""))
            return
        self.restarts.append(now)
        self.crashed.emit(f"the worker {how}{f' ({last})' if last else ''}; its running jobs were lost; restarting")
        QTimer.singleShot(RESTART_DELAY_MS, self.start)

    def last_error(self) -> str:
        """The worker's last logged error or refusal, for notices ("" when it logged none, e.g. on kill -9)."""
        for line in reversed(self.log_tail):
            if any(mark in line for mark in ERROR_MARKS) or line.startswith("cuesteer-worker:"):
                return line.strip()[-MAX_NOTICE_CHARS:]
        return ""


def running_worker_info(library: str | os.PathLike[str]) -> dict | None:
    """The endpoint file of a live worker already serving `library` ({"endpoint", "pid", …}), else None."""
    try:
        info = json.loads((Path(library) / ENDPOINT_FILE).read_text())
        pid, endpoint = int(info["pid"]), str(info["endpoint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: does it exist?
    except ProcessLookupError:
        return None  # left behind by a worker that was killed
    except PermissionError:
        pass  # alive, another user's
    return {**info, "pid": pid, "endpoint": endpoint}
