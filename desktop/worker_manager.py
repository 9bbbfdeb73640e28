"""Which worker the app talks to and how it is doing: a local one we start (and restart after a crash, with a
notice; its running jobs are reported failed) or one we attach to (`--connect`); the status polled for the
indicator (device, encoder, library size)."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.bridge import WorkerBridge
from desktop.status import status_text
from desktop.worker_process import LocalWorker, running_worker_info
from protocol.messages import Failed

STATUS_POLL_MS = 5000
STATUS_CHANNEL = "status"
LOCAL_LIVENESS = 15  # heartbeats (1 s each) of silence before a local worker's jobs are given up


class WorkerManager(QObject):
    status_changed = Signal(object)
    state_changed = Signal(str, str)  # state ("starting" | "ready" | "lost" | "stopped"), detail for the user
    notice = Signal(str)  # something the user must see (a crash, a restart, a worker that will not start)

    def __init__(self, bridge: WorkerBridge, *, library: str | os.PathLike[str] | None = None,
                 connect: str | None = None, encoder: str | None = None, extra_args: list[str] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        if library is not None and connect is not None:
            raise ValueError("give a library folder (local worker) or an endpoint to connect to, not both")
        self.bridge = bridge
        self.attach_endpoint = connect
        self.local: LocalWorker | None = None
        if connect is None:
            self.local = LocalWorker(library, encoder=encoder, extra_args=extra_args, parent=self)
            self.local.ready.connect(self._on_ready)
            self.local.crashed.connect(self._on_crashed)
            self.local.gave_up.connect(self._on_gave_up)
        self.status: dict[str, Any] = {}
        self.state = "stopped"
        self._poll = QTimer(self)
        self._poll.setInterval(STATUS_POLL_MS)
        self._poll.timeout.connect(self.refresh_status)

    def start(self) -> None:
        if self.local is not None:
            self._set_state("starting", "starting the worker…")
            self.local.start()
        else:
            assert self.attach_endpoint is not None
            self._on_ready(self.attach_endpoint)

    def stop(self) -> None:
        self._poll.stop()
        self.bridge.close()
        if self.local is not None:
            self.local.stop()
        self._set_state("stopped", "worker stopped")

    def refresh_status(self) -> None:
        self.bridge.request(STATUS_CHANNEL, "status", on_result=self._on_status, on_failed=self._on_status_failed,
                            report_failures=False)  # a lost worker shows in the indicator, not every 5 s in the log

    # ---- events -----------------------------------------------------------------------------------------------

    def _on_ready(self, endpoint: str) -> None:
        # A local worker's death is seen at once by QProcess; its silence under load (a busy machine starving its
        # socket thread) is no reason to fail its jobs, so it gets a longer liveness than a remote one.
        self.bridge.connect_to(endpoint, liveness=LOCAL_LIVENESS if self.local is not None else None)
        self._set_state("starting", f"connecting to {endpoint}…")
        self.refresh_status()
        self._poll.start()

    def _on_crashed(self, notice: str) -> None:
        self.bridge.disconnect_link(notice)  # every job in flight ends as worker_lost, shown in the log
        self._set_state("starting", "restarting the worker…")
        self.notice.emit(notice)

    def _on_gave_up(self, notice: str) -> None:
        if self._attach_to_running_worker():
            return
        self._poll.stop()
        self.bridge.disconnect_link(notice)
        self._set_state("lost", "worker not running")
        self.notice.emit(notice)

    def _attach_to_running_worker(self) -> bool:
        """Our worker could not start because another one already serves the library (one writer per library):
        attach to that one instead, and say so."""
        if self.local is None or not self.local.library:
            return False
        info = running_worker_info(self.local.library)
        if info is None:
            return False
        library, self.local = self.local.library, None  # not our child: no restarts, the protocol's liveness
        self.attach_endpoint = info["endpoint"]
        self.notice.emit(f"another worker (pid {info['pid']}) already serves {library}: the app is attached to it "
                         f"at {info['endpoint']}; it keeps running when the app closes")
        self._on_ready(info["endpoint"])
        return True

    def _on_status(self, status: dict[str, Any]) -> None:
        self.status = status
        self._set_state("ready", status_text(status))
        self.status_changed.emit(status)

    def _on_status_failed(self, event: Failed) -> None:
        if event.reason in ("worker_lost", "shutdown", "timeout"):
            self._set_state("lost", f"worker not answering ({event.message})")
        elif event.reason != "cancelled":
            self._set_state("lost", f"worker status failed: {event.message}")

    def _set_state(self, state: str, detail: str) -> None:
        self.state = state
        self.state_changed.emit(state, detail)
