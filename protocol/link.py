"""The one class that owns a client's socket to the worker (the zguide's Paranoid Pirate client, with jobs).

A background I/O thread owns the DEALER socket: it sends a heartbeat every `heartbeat_s`, counts the worker as
lost after `liveness` silent intervals (failing every request in flight with `worker_lost`), reconnects with
exponential backoff and `linger=0`, and never waits on a socket without a timeout. Callers on any thread use
`call` (blocking) or `submit` + `events`/`poll`/`on_event` (non-blocking); each request has its own stream of
events that ends with exactly one Result or Failed.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from protocol.codec import ProtocolError, decode, encode
from protocol.curve import ClientKeys
from protocol.messages import (
    FINAL_KINDS,
    HEARTBEAT_LIVENESS,
    HEARTBEAT_S,
    WORKER_KINDS,
    Accepted,
    Body,
    Call,
    Cancel,
    ErrorReply,
    Failed,
    Heartbeat,
    Ping,
    Pong,
    Progress,
    Result,
)

log = logging.getLogger(__name__)

Event = Accepted | Progress | Result | Failed | Pong
EventFn = Callable[[str, Event], None]
ProgressFn = Callable[[str, float, str, "float | None"], None]
"""on_progress(stage, fraction, message, eta_s): a Job's progress callback plus the ETA."""

BACKOFF_MAX_S = 30.0
TICKS_PER_HEARTBEAT = 4  # liveness is checked this often per interval
ZMQ_RECONNECT_IVL_MS = 100
HANDSHAKE_FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
_OP_CALL, _OP_SEND, _OP_STOP = b"call", b"send", b"stop"


class RemoteError(Exception):
    """A request ended in Failed; `str(e)` is the message to show, `reason` says which kind of failure."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class Link:
    """`Link(endpoint, curve=None).call(method, params)`; close it (or use `with`) when done."""

    def __init__(
        self,
        endpoint: str,
        curve: ClientKeys | None = None,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        liveness: int = HEARTBEAT_LIVENESS,
        name: str = "link",
    ):
        self.endpoint = endpoint
        self.heartbeat_s = heartbeat_s
        self.silence_limit_s = heartbeat_s * liveness
        self._curve = curve
        self._routing_id = f"{name}-{uuid.uuid4().hex[:12]}".encode()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # guards _streams and _wake_tx
        self._streams: dict[str, _Stream] = {}
        self._ctx = zmq.Context()
        wake = f"inproc://wake-{self._routing_id.decode()}"
        self._wake_rx = self._ctx.socket(zmq.PAIR)
        self._wake_rx.bind(wake)
        self._wake_tx = self._ctx.socket(zmq.PAIR)
        self._wake_tx.connect(wake)
        self._state = "connecting"
        self._closed = False
        self._thread = threading.Thread(target=self._io_run, name=f"link {endpoint}", daemon=True)
        self._thread.start()

    # ---- caller API (any thread) -------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """One of "connecting" (no answer yet), "ready" (heard from the worker recently) or "lost" (reconnecting)."""
        return self._state

    def submit(self, method: str, params: dict[str, Any] | None = None, on_event: EventFn | None = None) -> str:
        """Send a Call and return its request id at once. Events go to `on_event(request_id, event)` on the link's
        I/O thread when given (keep it short; post to your own thread), else to `events`/`poll`."""
        return self._start(Call(method, params or {}), on_event)

    def events(self, request_id: str, timeout: float | None = None) -> Iterator[Event]:
        """Yield the request's events up to and including its Result or Failed. `timeout` bounds the wait for
        each event (TimeoutError); the link itself guarantees a final event if the worker goes away."""
        stream = self._stream(request_id)
        if stream is None:
            return
        while True:
            try:
                event = stream.queue.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no event for request {request_id} within {timeout} s") from None
            if _is_final(event):
                self._forget(request_id)
                yield event
                return
            yield event

    def poll(self, request_id: str) -> list[Event]:
        """The events that arrived since the last look, without waiting (for a GUI timer)."""
        stream = self._stream(request_id)
        if stream is None:
            return []
        out: list[Event] = []
        while True:
            try:
                out.append(stream.queue.get_nowait())
            except queue.Empty:
                break
        if out and _is_final(out[-1]):
            self._forget(request_id)
        return out

    def cancel(self, request_id: str) -> None:
        """Ask the worker to stop the job at its next checkpoint; its stream then ends with Failed(cancelled)."""
        self._command(_OP_SEND, request_id, encode(request_id, Cancel()))

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        on_progress: ProgressFn | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run one job to its end; returns the Result's value, raises RemoteError on Failed or timeout.
        An interrupt (Ctrl-C) or timeout cancels the job on the worker."""
        request_id = self.submit(method, params)
        deadline = None if timeout is None else time.monotonic() + timeout
        stream = self._stream(request_id)
        assert stream is not None
        try:
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    event = stream.queue.get(timeout=wait)
                except queue.Empty:
                    self.cancel(request_id)
                    raise RemoteError("timeout", f"{method} did not finish within {timeout} s; cancelled") from None
                if isinstance(event, Progress) and on_progress is not None:
                    on_progress(event.stage, event.fraction, event.message, event.eta_s)
                elif isinstance(event, Result):
                    return event.value
                elif isinstance(event, Failed):
                    raise RemoteError(event.reason, event.message)
        except KeyboardInterrupt:
            self.cancel(request_id)
            raise
        finally:
            self._forget(request_id)

    def ping(self, timeout: float | None = None) -> Pong:
        """One round trip through the worker's socket loop (never queued behind a job)."""
        request_id = self._start(Ping(), None)
        try:
            for event in self.events(request_id, timeout=timeout):
                if isinstance(event, Pong):
                    return event
                if isinstance(event, Failed):
                    raise RemoteError(event.reason, event.message)
        except TimeoutError:
            raise RemoteError("timeout", f"no pong within {timeout} s") from None
        finally:
            self._forget(request_id)
        raise RemoteError("error", "ping ended without a pong")

    def close(self, timeout: float = 2.0) -> None:
        """Stop the I/O thread; requests still in flight end with Failed(shutdown)."""
        if self._closed:
            return
        self._closed = True
        self._command(_OP_STOP, "", b"")
        self._thread.join(timeout)
        with self._lock:
            self._wake_tx.close(linger=0)
        self._ctx.term()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, body: Body, on_event: EventFn | None) -> str:
        if self._closed:
            raise RuntimeError("the link is closed")
        request_id = f"{next(self._ids)}"
        try:  # a request the worker would refuse fails here, in the caller's thread
            frame = encode(request_id, body)
        except ProtocolError as exc:
            raise RemoteError("bad_request", f"the request is too large to send ({exc.message})") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise RemoteError("bad_request", f"the parameters cannot be sent: {exc}") from None
        with self._lock:
            self._streams[request_id] = _Stream(on_event)
        self._command(_OP_CALL, request_id, frame)
        return request_id

    def _command(self, op: bytes, request_id: str, frame: bytes) -> None:
        with self._lock:
            if not self._wake_tx.closed:
                self._wake_tx.send_multipart([op, request_id.encode(), frame])

    def _stream(self, request_id: str) -> _Stream | None:
        with self._lock:
            return self._streams.get(request_id)

    def _forget(self, request_id: str) -> None:
        with self._lock:
            self._streams.pop(request_id, None)

    # ---- the I/O thread ----------------------------------------------------------------------------------

    def _io_run(self) -> None:
        io = _LinkIO(self)
        try:
            io.run()
        except Exception:  # a bug here must not leave callers waiting forever
            log.exception("link I/O thread failed")
            io.fail_all("error", "the link's I/O thread failed; see the log")
        finally:
            io.close()
            self._wake_rx.close(linger=0)

    def _deliver(self, request_id: str, event: Event) -> None:
        with self._lock:
            stream = self._streams.get(request_id)
            if stream is not None and stream.on_event is not None and _is_final(event):
                del self._streams[request_id]
        if stream is None:
            return  # the caller stopped listening (timeout, forget): drop it
        if stream.on_event is None:
            stream.queue.put(event)
            return
        try:
            stream.on_event(request_id, event)
        except Exception:
            log.exception("on_event callback for request %s raised", request_id)


class _Stream:
    __slots__ = ("on_event", "queue")

    def __init__(self, on_event: EventFn | None):
        self.on_event = on_event
        self.queue: queue.SimpleQueue[Event] = queue.SimpleQueue()


def _is_final(event: Event) -> bool:
    return isinstance(event, Result | Failed | Pong)


class _LinkIO:
    """State owned by the link's I/O thread only: the DEALER socket, liveness, backoff, requests in flight."""

    def __init__(self, link: Link):
        self.link = link
        self.socket: zmq.Socket | None = None
        self.monitor: zmq.Socket | None = None
        self.poller = zmq.Poller()
        self.poller.register(link._wake_rx, zmq.POLLIN)
        self.inflight: set[str] = set()
        self.pending: list[bytes] = []  # frames submitted while disconnected
        self.last_heard = 0.0
        self.connected_at = 0.0
        self.next_beat = 0.0
        self.backoff_s = link.heartbeat_s
        self.reconnect_at = 0.0
        self.heartbeat = encode("", Heartbeat(interval_s=link.heartbeat_s))

    def run(self) -> None:
        self.connect()
        tick_ms = max(1, int(1000 * self.link.heartbeat_s / TICKS_PER_HEARTBEAT))
        while True:
            now = time.monotonic()
            wait_ms = min(tick_ms, max(0, int(1000 * (self.next_beat - now)) + 1))
            for sock, _ in self.poller.poll(wait_ms):
                if sock is self.link._wake_rx:
                    if not self.on_commands():
                        self.fail_all("shutdown", "the link was closed")
                        return
                elif sock is self.socket:
                    self.on_frames()
                elif sock is self.monitor:
                    self.on_monitor()
            self.on_tick(time.monotonic())

    def on_commands(self) -> bool:
        while True:
            try:
                op, rid, frame = self.link._wake_rx.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return True
            if op == _OP_STOP:
                return False
            if op == _OP_CALL:
                self.inflight.add(rid.decode())
            self.send(frame)

    def send(self, frame: bytes) -> None:
        if self.socket is None:
            self.pending.append(frame)
            self.connect()  # someone wants the worker now: don't sit out the backoff
            return
        try:
            self.socket.send(frame, zmq.NOBLOCK)
        except zmq.Again:  # the outgoing queue is full: the worker is not reading; liveness will tell
            log.warning("link to %s: send queue full, frame dropped", self.link.endpoint)

    def on_frames(self) -> None:
        assert self.socket is not None
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                return
            if len(frames) != 1:
                log.warning("link to %s: ignored a %d-part message", self.link.endpoint, len(frames))
                continue
            try:
                message = decode(frames[0], accept=WORKER_KINDS)
            except ProtocolError as exc:
                log.warning("link to %s: ignored a bad frame (%s)", self.link.endpoint, exc)
                continue
            self.heard()
            rid, body = message.request_id, message.body
            if message.kind == "heartbeat" or rid not in self.inflight:
                continue
            if isinstance(body, ErrorReply):
                body = Failed("bad_request", f"the worker refused the request ({body.code}): {body.message}")
            if message.kind in FINAL_KINDS:
                self.inflight.discard(rid)
            self.link._deliver(rid, body)  # type: ignore[arg-type]

    def on_monitor(self) -> None:
        assert self.monitor is not None
        while True:
            try:
                event = recv_monitor_message(self.monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            if event["event"] & HANDSHAKE_FAILURES:
                log.warning("link to %s: handshake refused (event %s)", self.link.endpoint, event["event"])
                self.fail_all(
                    "unauthorized",
                    f"the worker at {self.link.endpoint} refused the connection: check the CURVE keys "
                    "(client key in the worker's --curve-public-keys folder, the worker's public key here)",
                )

    def on_tick(self, now: float) -> None:
        if self.socket is None:
            if now >= self.reconnect_at:
                self.connect()
            return
        if now >= self.next_beat:
            self.send(self.heartbeat)
            self.next_beat = now + self.link.heartbeat_s
        silent = now - max(self.last_heard, self.connected_at)
        if silent > self.link.silence_limit_s:
            log.warning("link to %s: no answer for %.1f s; reconnecting", self.link.endpoint, silent)
            if self.last_heard < self.connected_at:
                message = f"no worker answered at {self.link.endpoint} within {silent:.1f} s; is it running?"
            else:
                message = (
                    f"the worker at {self.link.endpoint} stopped answering ({silent:.1f} s, "
                    f"{round(silent / self.link.heartbeat_s)} heartbeats); its jobs are lost"
                )
            self.fail_all("worker_lost", message)
            self.disconnect()
            self.link._state = "lost"
            self.reconnect_at = now + self.backoff_s
            self.backoff_s = min(self.backoff_s * 2, BACKOFF_MAX_S)

    def heard(self) -> None:
        self.last_heard = time.monotonic()
        self.backoff_s = self.link.heartbeat_s
        self.link._state = "ready"

    def connect(self) -> None:
        self.disconnect()
        sock = self.link._ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.routing_id = self.link._routing_id
        sock.reconnect_ivl = ZMQ_RECONNECT_IVL_MS
        if self.link._curve is not None:
            self.link._curve.apply(sock)
        self.monitor = sock.get_monitor_socket(HANDSHAKE_FAILURES)
        sock.connect(self.link.endpoint)
        self.socket = sock
        self.poller.register(sock, zmq.POLLIN)
        self.poller.register(self.monitor, zmq.POLLIN)
        now = time.monotonic()
        self.connected_at = now
        self.next_beat = now
        if self.link._state == "ready":
            self.link._state = "connecting"
        pending, self.pending = self.pending, []
        for frame in pending:
            self.send(frame)

    def disconnect(self) -> None:
        if self.socket is None:
            return
        self.poller.unregister(self.socket)
        self.socket.disable_monitor()
        if self.monitor is not None:
            self.poller.unregister(self.monitor)
            self.monitor.close(linger=0)
            self.monitor = None
        self.socket.close(linger=0)
        self.socket = None

    def fail_all(self, reason: str, message: str) -> None:
        inflight, self.inflight = self.inflight, set()
        self.pending = []
        for rid in sorted(inflight, key=lambda r: (len(r), r)):
            self.link._deliver(rid, Failed(reason, message))  # type: ignore[arg-type]

    def close(self) -> None:
        self.disconnect()
