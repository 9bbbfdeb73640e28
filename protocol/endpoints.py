"""Where a worker listens: the default endpoint for a library, and whether an endpoint stays on this machine."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

IPC_SOCKET_FILE = "worker.sock"
DEFAULT_TCP_PORT = 47631
MAX_IPC_PATH = 100  # sockaddr_un.sun_path holds 108 bytes on Linux, 104 on macOS; keep a margin
LOOPBACK_NAMES = frozenset({"localhost", "lo", "lo0", "ip6-localhost"})


def default_endpoint(library_dir: str | os.PathLike[str]) -> str:
    """`ipc://<library>/worker.sock` where Unix sockets fit, else `tcp://127.0.0.1:DEFAULT_TCP_PORT`."""
    path = Path(library_dir).expanduser().absolute() / IPC_SOCKET_FILE
    if sys.platform != "win32" and len(os.fsencode(path)) <= MAX_IPC_PATH:
        return f"ipc://{path}"
    return f"tcp://127.0.0.1:{DEFAULT_TCP_PORT}"


def is_local(endpoint: str) -> bool:
    """True for ipc://, inproc:// and tcp:// on a loopback address; `tcp://*`, 0.0.0.0 or a LAN address is not."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        return False
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = rest.rsplit(":", 1)[0]
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
