"""`cuesteer-worker`: the service behind a ZeroMQ ROUTER socket (DESIGN §3).

One thread owns the socket and never runs a job: it answers Ping and Heartbeat itself, turns each Call into a
`JobRecord` on its method's lane (answering Accepted at once), and forwards what the lane threads post to its
outbox (Progress, then exactly one Result or Failed). Bad frames get an ErrorReply and a log line. A client that
stops heartbeating is forgotten and its jobs are cancelled; indexing commits per batch, so nothing is lost.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from protocol.codec import ProtocolError, decode, encode
from protocol.curve import ServerKeys, create_key_pair
from protocol.endpoints import default_endpoint, is_local
from protocol.messages import (
    CLIENT_KINDS,
    HEARTBEAT_LIVENESS,
    HEARTBEAT_S,
    MAX_FRAME_BYTES,
    Accepted,
    Body,
    Call,
    ErrorReply,
    Failed,
    Heartbeat,
    Pong,
    Progress,
    Result,
)
from worker import curve, settings
from worker.jobs import Cancelled, Job, JobFailed
from worker.lanes import LANE_THREADS, QUEUED, RUNNING, JobRecord, Lane
from worker.library.lock import LibraryBusy

log = logging.getLogger("worker.server")

DEFAULT_SERVICE = "worker.service:Service"
ENDPOINT_FILE = "worker.json"  # where clients find a running worker of a library
TICK_S = 0.1  # longest the socket loop waits before it looks at timers and the stop flag
PROGRESS_INTERVAL_S = 0.1  # per job; stage changes and completion always go through
CLIENT_GRACE_S = 1.0  # on top of HEARTBEAT_LIVENESS client intervals before a silent client is dropped
SHUTDOWN_GRACE_S = 5.0  # running jobs get this long to reach a checkpoint after a stop signal
SOCKET_MAX_BYTES = 4 * MAX_FRAME_BYTES  # above this libzmq drops the peer; between the two we reply `oversized`
ROUTER_HWM = 100_000
RECV_BATCH = 256  # frames taken per wake-up before the outbox gets a turn
BAD_FRAME_LOG_BURST = 20  # log lines per second about bad frames; the rest are counted
EXIT_FAILED, EXIT_USAGE = 1, 2
PARENT_CHECK_S = 0.5


@dataclass
class _Client:
    last_seen: float
    interval_s: float = HEARTBEAT_S


class WorkerServer:
    """Serve `service` (an object with `LANES: dict[method, lane]`) on a bound ROUTER socket."""

    def __init__(
        self,
        service: Any,
        endpoint: str,
        *,
        keys: ServerKeys | None = None,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
        lane_threads: dict[str, int] | None = None,
    ):
        if not is_local(endpoint) and keys is None:
            raise PermissionError(
                f"refusing to listen on {endpoint} without CURVE keys: anyone who can reach it could read and "
                "change the library. Pass --curve-secret-key and --curve-public-keys (docs/remote-worker.md), "
                "or listen on ipc:// or tcp://127.0.0.1"
            )
        self.service = service
        self.progress_interval_s = progress_interval_s
        self._methods = _callable_methods(service)
        threads = {**LANE_THREADS, **(lane_threads or {})}
        self._lanes = {name: Lane(name, threads[name], self._run) for name in sorted(set(service.LANES.values()))}
        self._jobs: dict[tuple[bytes, str], JobRecord] = {}
        self._jobs_lock = threading.Lock()
        self._clients: dict[bytes, _Client] = {}
        self._bad_frames = _RateLimitedLog(BAD_FRAME_LOG_BURST)
        self._stop = threading.Event()

        self._ctx = zmq.Context()
        self._auth = curve.start_authenticator(self._ctx, keys) if keys else None
        self._router = self._ctx.socket(zmq.ROUTER)
        self._router.linger = 0
        self._router.router_handover = 1  # a reconnecting client (same routing id) takes over its old pipe
        self._router.sndhwm = self._router.rcvhwm = ROUTER_HWM
        self._router.maxmsgsize = SOCKET_MAX_BYTES
        self._monitor = curve.secure(self._router, keys) if keys else None
        self._router.bind(endpoint)
        self.endpoint: str = self._router.last_endpoint.decode()
        outbox = f"inproc://outbox-{id(self)}"
        self._outbox_rx = self._ctx.socket(zmq.PULL)
        self._outbox_rx.bind(outbox)
        self._outbox_tx = self._ctx.socket(zmq.PUSH)
        self._outbox_tx.sndhwm = 0  # lane threads never block on the socket loop
        self._outbox_tx.connect(outbox)
        self._outbox_lock = threading.Lock()

    # ---- the socket loop ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask `serve_forever` to return (safe from signal handlers and other threads)."""
        self._stop.set()

    def serve_forever(self) -> None:
        poller = zmq.Poller()
        poller.register(self._router, zmq.POLLIN)
        poller.register(self._outbox_rx, zmq.POLLIN)
        if self._monitor is not None:
            poller.register(self._monitor, zmq.POLLIN)
        log.info("listening on %s (lanes: %s)", self.endpoint, ", ".join(self._lanes))
        try:
            while not self._stop.is_set():
                ready = dict(poller.poll(int(TICK_S * 1000)))
                if self._router in ready:
                    self._receive()
                if self._outbox_rx in ready:
                    self._forward_outbox()
                if self._monitor is not None and self._monitor in ready:
                    curve.log_refusals(self._monitor)
                self._expire_clients(time.monotonic())
                self._bad_frames.flush()
            self._shutdown(poller)
        finally:
            self._close()

    def _receive(self) -> None:
        for _ in range(RECV_BATCH):
            try:
                frames = self._router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            client = frames[0]
            if len(frames) != 2:
                self._refuse(client, ProtocolError("malformed", f"expected 1 frame per message, got {len(frames) - 1}"))
                continue
            try:
                message = decode(frames[1], accept=CLIENT_KINDS)
                self._handle(client, message.request_id, message.kind, message.body)
            except ProtocolError as exc:
                self._refuse(client, exc)
            except Exception:  # a bug here must cost one message, not the worker
                log.exception("could not handle a message from %r", client)

    def _handle(self, client: bytes, request_id: str, kind: str, body: Body) -> None:
        now = time.monotonic()
        known = self._clients.get(client)
        if known is None:
            known = self._clients[client] = _Client(now)
        known.last_seen = now
        if isinstance(body, Heartbeat):
            known.interval_s = body.interval_s
            self._send(client, "", body)
        elif kind == "ping":
            self._send(client, request_id, Pong(pid=os.getpid(), running=self._depths()))
        elif kind == "cancel":
            self._cancel(client, request_id)
        elif isinstance(body, Call):
            self._accept(client, request_id, body)

    def _accept(self, client: bytes, request_id: str, call: Call) -> None:
        problem = self._check_call(call)
        if problem:
            self._send(client, request_id, Failed("bad_request", problem))
            return
        record = JobRecord(client, request_id, call.method, call.params, self.service.LANES[call.method])
        record.job = Job(progress_fn=self._progress_fn(record))
        with self._jobs_lock:
            if record.key in self._jobs:
                duplicate = ProtocolError("duplicate", f"request {request_id} is still running", request_id)
                self._refuse(client, duplicate)
                return
            self._jobs[record.key] = record
        lane = self._lanes[record.lane]
        self._send(client, request_id, Accepted(lane=lane.name, queued=lane.depth))  # before any Progress
        lane.put(record)

    def _check_call(self, call: Call) -> str:
        signature = self._methods.get(call.method)
        if signature is None:
            return f"unknown method {call.method!r}; this worker offers: {', '.join(sorted(self._methods))}"
        if "job" in call.params:
            return f"{call.method}: 'job' is supplied by the worker, not by the caller"
        try:
            signature.bind(job=None, **call.params)
        except TypeError as exc:
            return f"{call.method}: {exc}"
        return ""

    def _cancel(self, client: bytes, request_id: str) -> None:
        with self._jobs_lock:
            record = self._jobs.get((client, request_id))
        if record is None:
            log.debug("cancel for unknown or finished request %s", request_id)
            return
        log.info("cancel %s (%s, %s)", request_id, record.method, record.state)
        record.job.cancel()
        if record.state == QUEUED:
            self._finish(record, Failed("cancelled", "cancelled before it started"))

    def _expire_clients(self, now: float) -> None:
        gone = [
            client
            for client, info in self._clients.items()
            if now - info.last_seen > HEARTBEAT_LIVENESS * info.interval_s + CLIENT_GRACE_S
        ]
        for client in gone:
            del self._clients[client]
            with self._jobs_lock:
                orphans = [record for record in self._jobs.values() if record.client == client]
            for record in orphans:
                log.info("client %r went silent: cancelling %s (%s)", client, record.request_id, record.method)
                record.job.cancel()
                if record.state == QUEUED:
                    self._finish(record, Failed("cancelled", "the client went away"))

    def _shutdown(self, poller: zmq.Poller) -> None:
        with self._jobs_lock:
            records = list(self._jobs.values())
        for record in records:
            record.job.cancel()
            if record.state == QUEUED:
                self._finish(record, Failed("shutdown", "the worker is shutting down"))
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        while any(r.state == RUNNING for r in records) and time.monotonic() < deadline:
            if dict(poller.poll(int(TICK_S * 1000))).get(self._outbox_rx):
                self._forward_outbox()
        for lane in self._lanes.values():
            lane.stop(timeout=0.0)
        self._forward_outbox()
        log.info("stopped")

    def _close(self) -> None:
        if self._monitor is not None:
            self._router.disable_monitor()
            self._monitor.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
        for sock in (self._router, self._outbox_rx):
            sock.close(linger=0)
        with self._outbox_lock:
            self._outbox_tx.close(linger=0)
        self._ctx.term()

    # ---- sending -----------------------------------------------------------------------------------------

    def _send(self, client: bytes, request_id: str, body: Body) -> None:
        self._transmit(client, encode(request_id, body))

    def _transmit(self, client: bytes, frame: bytes) -> None:
        try:
            self._router.send_multipart([client, frame], zmq.NOBLOCK)
        except zmq.Again:
            log.warning("client %r is not reading; dropped a reply", client)

    def _post(self, client: bytes, frame: bytes) -> None:
        """From any thread: queue a frame for the socket loop to send."""
        with self._outbox_lock:
            if not self._outbox_tx.closed:
                self._outbox_tx.send_multipart([client, frame])

    def _forward_outbox(self) -> None:
        while True:
            try:
                client, frame = self._outbox_rx.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._transmit(client, frame)

    def _refuse(self, client: bytes, error: ProtocolError) -> None:
        self._bad_frames.log("bad frame from %r: %s", client, error)
        self._send(client, error.request_id, ErrorReply(error.code, error.message[:500]))

    def _depths(self) -> dict[str, int]:
        return {name: lane.depth for name, lane in self._lanes.items()}

    # ---- the lane threads --------------------------------------------------------------------------------

    def _run(self, record: JobRecord) -> None:
        if not record.start():
            return
        record.job.started = time.monotonic()  # ETA from when it ran, not from when it queued
        method = getattr(self.service, record.method)
        try:
            value = method(job=record.job, **record.params)
        except Cancelled:
            body: Body = Failed("cancelled", "cancelled")
        except JobFailed as exc:
            body = Failed("error", str(exc))
        except Exception as exc:
            log.exception("%s failed", record.method)
            body = Failed("error", f"{type(exc).__name__}: {exc}")
        else:
            if isinstance(value, dict):
                body = Result(value)
            else:
                body = Failed("error", f"{record.method} returned {type(value).__name__}, not a dict")
        self._finish(record, body)

    def _finish(self, record: JobRecord, body: Body) -> None:
        """Send the one final reply (from whichever thread gets here first) and forget the job."""
        if not record.finish():
            return
        with self._jobs_lock:
            self._jobs.pop(record.key, None)
        try:
            frame = encode(record.request_id, body)
        except (ProtocolError, TypeError, ValueError, OverflowError) as exc:
            log.error("%s: result cannot be sent: %s", record.method, exc)
            frame = encode(record.request_id, Failed("error", f"the result could not be sent: {exc}"[:500]))
        self._post(record.client, frame)

    def _progress_fn(self, record: JobRecord) -> Callable[[str, float, str], None]:
        def progress(stage: str, fraction: float, message: str = "") -> None:
            if record.state != RUNNING:
                return
            now = time.monotonic()
            fraction = fraction if math.isfinite(fraction) else 0.0
            if (
                stage == record.last_stage
                and fraction < 1.0
                and now - record.last_progress_at < self.progress_interval_s
            ):
                return
            record.last_stage, record.last_progress_at = stage, now
            eta = record.job.eta(fraction)
            event = Progress(
                str(stage), fraction, str(message), eta if eta is not None and math.isfinite(eta) else None
            )
            self._post(record.client, encode(record.request_id, event))

        return progress


class _RateLimitedLog:
    """At most `burst` warnings per second; the rest are counted and summarised, so a flood can't fill a disk."""

    def __init__(self, burst: int):
        self.burst = burst
        self.window_start = time.monotonic()
        self.logged = 0
        self.suppressed = 0

    def log(self, fmt: str, *args: object) -> None:
        self.flush()
        if self.logged < self.burst:
            self.logged += 1
            log.warning(fmt, *args)
        else:
            self.suppressed += 1

    def flush(self) -> None:
        now = time.monotonic()
        if now - self.window_start < 1.0:
            return
        if self.suppressed:
            log.warning("... and %d more bad frames", self.suppressed)
        self.window_start, self.logged, self.suppressed = now, 0, 0


def _callable_methods(service: Any) -> dict[str, inspect.Signature]:
    """The methods named in `service.LANES` with their signatures (checked against each Call's params)."""
    methods = {}
    for name, lane in service.LANES.items():
        if lane not in LANE_THREADS:
            raise ValueError(f"{type(service).__name__}.LANES[{name!r}] = {lane!r}; lanes are {sorted(LANE_THREADS)}")
        methods[name] = inspect.signature(getattr(service, name))
    return methods


# ---- the command ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cuesteer-worker", description="Serve a cuesteer library over ZeroMQ.")
    parser.add_argument("--endpoint", help="ipc://PATH or tcp://HOST:PORT (default: ipc:// in the library folder)")
    parser.add_argument("--library", help="library folder (default: $CUESTEER_LIBRARY or the platform data dir)")
    parser.add_argument("--encoder", help="encoder name for new vectors")
    parser.add_argument("--curve-secret-key", metavar="FILE", help="this worker's NAME.key_secret (CURVE)")
    parser.add_argument("--curve-public-keys", metavar="DIR", help="folder of client NAME.key files admitted")
    parser.add_argument(
        "--create-keys", metavar="DIR", help="write a CURVE key pair NAME.key + NAME.key_secret into DIR and exit"
    )
    parser.add_argument("--key-name", default="worker", metavar="NAME", help="file name for --create-keys")
    parser.add_argument(
        "--progress-interval",
        type=float,
        default=PROGRESS_INTERVAL_S,
        metavar="S",
        help="minimum seconds between progress events of one job (default %(default)s)",
    )
    parser.add_argument("--exit-with-parent", type=int, metavar="PID",
                        help="stop (cleanly, releasing the library) when process PID is gone — the app passes its own")
    parser.add_argument("--service", default=DEFAULT_SERVICE, metavar="MODULE:CLASS", help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.create_keys:
        try:
            public, secret = create_key_pair(args.create_keys, args.key_name)
        except OSError as exc:
            print(f"cuesteer-worker: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"public key (copy it to the other side): {public}\nsecret key (stays here, private): {secret}")
        return 0
    library = settings.library_dir(args.library)
    endpoint = args.endpoint or default_endpoint(library)
    if bool(args.curve_secret_key) != bool(args.curve_public_keys):
        print("cuesteer-worker: --curve-secret-key and --curve-public-keys go together", file=sys.stderr)
        return EXIT_USAGE
    if not is_local(endpoint) and not args.curve_secret_key:
        print(
            f"cuesteer-worker: refusing to listen on {endpoint} without CURVE keys; pass --curve-secret-key "
            "and --curve-public-keys (see docs/remote-worker.md) or use ipc:// or tcp://127.0.0.1",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        keys = ServerKeys.load(args.curve_secret_key, args.curve_public_keys) if args.curve_secret_key else None
    except (OSError, ValueError) as exc:
        print(f"cuesteer-worker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:  # the service holds the library's write lock for as long as this process lives
        service = _load_service(args.service)(library_dir=str(library), encoder=args.encoder, hold_write_lock=True)
    except LibraryBusy as exc:
        print(f"cuesteer-worker: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        log.exception("cannot start")
        print(f"cuesteer-worker: cannot start the service: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        server = WorkerServer(service, endpoint, keys=keys, progress_interval_s=args.progress_interval)
    except (zmq.ZMQError, PermissionError, ValueError) as exc:
        print(f"cuesteer-worker: cannot listen on {endpoint}: {exc}", file=sys.stderr)
        _close(service)
        return EXIT_FAILED
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: server.stop())
    if args.exit_with_parent:
        watch_parent(args.exit_with_parent, server.stop)
    info_file = write_endpoint_file(library, server.endpoint, keys)
    print(f"cuesteer-worker listening on {server.endpoint} pid {os.getpid()} library {library}", flush=True)
    try:
        server.serve_forever()
    finally:
        info_file.unlink(missing_ok=True)
        if server.endpoint.startswith("ipc://"):  # a file left by a kill -9 is harmless: the next bind replaces it
            Path(server.endpoint.removeprefix("ipc://")).unlink(missing_ok=True)
        _close(service)
    return 0


def watch_parent(pid: int, stop: Callable[[], None], interval_s: float = PARENT_CHECK_S) -> threading.Thread:
    """Call `stop` once process `pid` has gone: an app killed with -9 never gets to stop its worker, and an
    orphaned worker would keep the library's write lock."""
    is_our_parent = os.getppid() == pid

    def alive() -> bool:
        if is_our_parent and os.getppid() != pid:  # we were re-parented: it died (and its pid may be reused)
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    def watch() -> None:
        while alive():
            time.sleep(interval_s)
        log.warning("parent process %d is gone: stopping", pid)
        stop()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def write_endpoint_file(library: Path, endpoint: str, keys: ServerKeys | None) -> Path:
    """Tell clients of this library where the worker listens (atomic write)."""
    info = {"endpoint": endpoint, "pid": os.getpid(), "curve_public_key": keys.public.decode() if keys else None}
    path = library / ENDPOINT_FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)
    return path


def _close(service: Any) -> None:
    close = getattr(service, "close", None)
    if close is not None:
        close()


def _load_service(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


if __name__ == "__main__":
    sys.exit(main())
