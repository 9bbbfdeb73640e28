"""The one place the GUI talks to the worker: `Link` calls that never block the event loop, events delivered on
the GUI thread, stale replies dropped by request id (Picard's `run_task`/`to_main`, over our protocol).

`Link.submit` only queues a frame for the link's I/O thread, so it is safe on the GUI thread; the link calls our
`on_event` from its I/O thread, where we do nothing but emit a queued signal. On the GUI thread each event is
checked against the request still current for its *channel* ("search", "index", …): a newer request on the same
channel supersedes (and cancels) the old one, whose late events are dropped, never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from protocol.curve import ClientKeys
from protocol.link import Event, Link
from protocol.messages import Accepted, Failed, Progress, Result

log = logging.getLogger(__name__)

OnProgress = Callable[[Progress], None]
OnResult = Callable[[dict[str, Any]], None]
OnFailed = Callable[[Failed], None]


@dataclass
class Request:
    """A request in flight: its channel, method and the GUI-thread callbacks for its events."""

    channel: str
    method: str
    request_id: str
    on_result: OnResult | None = None
    on_progress: OnProgress | None = None
    on_failed: OnFailed | None = None
    queued: int = 0
    cancelled: bool = field(default=False)
    report_failures: bool = True  # False for polls whose failure the caller shows itself (status)


class WorkerBridge(QObject):
    """`bridge.request(channel, method, params, on_result=…, on_progress=…, on_failed=…)` from the GUI thread."""

    _event = Signal(object, str, object)  # (link, request id, event), emitted on the link's I/O thread
    job_failed = Signal(str, str, str)  # method, reason, message: every failure the user did not ask for
    busy_changed = Signal(int)  # requests in flight

    def __init__(self, parent: QObject | None = None, *, heartbeat_s: float | None = None,
                 curve: ClientKeys | None = None):
        super().__init__(parent)
        self._link: Link | None = None
        self._heartbeat_s = heartbeat_s
        self._curve = curve  # for a worker beyond loopback (docs/remote-worker.md)
        self._requests: dict[str, Request] = {}  # request id -> request, for the current link only
        self._current: dict[str, str] = {}  # channel -> request id of its newest request
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self.dropped_stale = 0  # events of superseded requests that never reached a callback (tests read it)

    # ---- connection -----------------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str | None:
        return None if self._link is None else self._link.endpoint

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.state == "ready"

    def connect_to(self, endpoint: str, *, liveness: int | None = None) -> None:
        """Use a (new) worker endpoint; requests on the old link end as worker_lost first. `liveness`: silent
        heartbeats before the worker counts as lost (default: the protocol's)."""
        self.disconnect_link("the app switched to another worker")
        kwargs: dict[str, Any] = {} if self._heartbeat_s is None else {"heartbeat_s": self._heartbeat_s}
        if liveness is not None:
            kwargs["liveness"] = liveness
        self._link = Link(endpoint, self._curve, name="desktop", **kwargs)

    def disconnect_link(self, why: str = "the worker was stopped", reason: str = "worker_lost") -> None:
        """Close the link and fail every request in flight with `why` (never silently dropped)."""
        link, self._link = self._link, None
        pending = list(self._requests.values())
        self._requests.clear()
        self._current.clear()
        for req in pending:
            self._finish_failed(req, Failed(reason, why))  # type: ignore[arg-type]
        if pending:
            self.busy_changed.emit(0)
        if link is not None:
            link.close(timeout=1.0)

    # ---- requests -------------------------------------------------------------------------------------------

    def request(self, channel: str, method: str, params: dict[str, Any] | None = None, *,
                on_result: OnResult | None = None, on_progress: OnProgress | None = None,
                on_failed: OnFailed | None = None, report_failures: bool = True) -> str | None:
        """Start `method(**params)` on the worker; a previous request on `channel` is cancelled and its replies
        dropped. Returns the request id, or None when there is no worker (reported through on_failed). Failures
        also go to `job_failed` (the activity log) unless `report_failures` is False."""
        self.cancel(channel)
        if self._link is None:
            failed = Failed("worker_lost", "no worker is connected")
            if on_failed is not None:
                on_failed(failed)
            if report_failures:
                self.job_failed.emit(method, failed.reason, failed.message)
            return None
        link = self._link

        def on_event(request_id: str, event: Event, link: Link = link) -> None:  # link I/O thread: hand over only
            self._event.emit(link, request_id, event)

        request_id = link.submit(method, params or {}, on_event=on_event)
        req = Request(channel, method, request_id, on_result, on_progress, on_failed,
                      report_failures=report_failures)
        self._requests[request_id] = req
        self._current[channel] = request_id
        self.busy_changed.emit(len(self._requests))
        return request_id

    def current(self, channel: str) -> str | None:
        return self._current.get(channel)

    def cancel(self, channel: str) -> bool:
        """Cancel the channel's request (if any): the worker stops it at its next checkpoint; no callback of it
        runs again. Returns whether something was cancelled."""
        request_id = self._current.pop(channel, None)
        if request_id is None:
            return False
        req = self._requests.pop(request_id, None)
        if req is not None and self._link is not None:
            req.cancelled = True
            self._link.cancel(request_id)
            self.busy_changed.emit(len(self._requests))
        return req is not None

    def in_flight(self) -> list[Request]:
        return list(self._requests.values())

    def close(self) -> None:
        self.disconnect_link("the app is closing", reason="shutdown")

    # ---- GUI thread -----------------------------------------------------------------------------------------

    @Slot(object, str, object)
    def _on_event(self, link: Link, request_id: str, event: Event) -> None:
        req = self._requests.get(request_id) if link is self._link else None
        if req is None or self._current.get(req.channel) != request_id:
            self.dropped_stale += 1  # superseded, cancelled, or from a link we have left
            return
        if isinstance(event, Accepted):
            req.queued = event.queued
        elif isinstance(event, Progress):
            if req.on_progress is not None:
                req.on_progress(event)
        elif isinstance(event, Result):
            self._forget(req)
            if req.on_result is not None:
                req.on_result(event.value)
        elif isinstance(event, Failed):
            self._forget(req)
            self._finish_failed(req, event)

    def _forget(self, req: Request) -> None:
        self._requests.pop(req.request_id, None)
        if self._current.get(req.channel) == req.request_id:
            del self._current[req.channel]
        self.busy_changed.emit(len(self._requests))

    def _finish_failed(self, req: Request, event: Failed) -> None:
        if req.on_failed is not None:
            try:
                req.on_failed(event)
            except Exception:
                log.exception("on_failed of %s raised", req.method)
        if event.reason != "cancelled" and req.report_failures:
            self.job_failed.emit(req.method, event.reason, event.message)
