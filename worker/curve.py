"""The worker's side of CURVE: a ZAP authenticator that admits only the client keys in one folder, and a log
line for every handshake it refuses."""

from __future__ import annotations

import logging

import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

from protocol.curve import ServerKeys

log = logging.getLogger(__name__)

ZAP_DOMAIN = b"cuesteer"
HANDSHAKE_FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)


def start_authenticator(ctx: zmq.Context, keys: ServerKeys) -> ThreadAuthenticator:
    """Admit exactly the public keys in `keys.clients_dir` (read once, at start)."""
    auth = ThreadAuthenticator(ctx, log=logging.getLogger("worker.curve.zap"))
    auth.start()
    auth.configure_curve(domain=ZAP_DOMAIN.decode(), location=str(keys.clients_dir))  # "*" only covers no domain
    return auth


def secure(socket: zmq.Socket, keys: ServerKeys) -> zmq.Socket:
    """Make `socket` a CURVE server; returns a monitor socket that reports refused handshakes."""
    keys.apply(socket)
    socket.zap_domain = ZAP_DOMAIN
    return socket.get_monitor_socket(HANDSHAKE_FAILURES)


def log_refusals(monitor: zmq.Socket) -> None:
    while True:
        try:
            event = recv_monitor_message(monitor, zmq.NOBLOCK)
        except zmq.Again:
            return
        log.warning(
            "refused a client handshake from %s (zmq event %s, value %s): wrong or unknown CURVE key",
            event.get("endpoint", b"?").decode(errors="replace"),
            event["event"],
            event["value"],
        )
