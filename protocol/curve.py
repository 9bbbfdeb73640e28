"""CURVE key files for a worker that listens beyond loopback (see docs/remote-worker.md).

Keys are the Z85 certificate files `zmq.auth.create_certificates` writes: `NAME.key` (public only, safe to copy)
and `NAME.key_secret` (public + secret, stays on its machine).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth


@dataclass(frozen=True)
class ClientKeys:
    """What a client needs: its own key pair and the worker's public key."""

    public: bytes
    secret: bytes
    server_public: bytes

    @classmethod
    def load(cls, secret_file: str | os.PathLike[str], server_public_file: str | os.PathLike[str]) -> ClientKeys:
        public, secret = zmq.auth.load_certificate(secret_file)
        server_public, _ = zmq.auth.load_certificate(server_public_file)
        if secret is None:
            raise ValueError(f"{secret_file} holds no secret key; pass the NAME.key_secret file")
        return cls(public, secret, server_public)

    def apply(self, socket: zmq.Socket) -> None:
        socket.curve_secretkey = self.secret
        socket.curve_publickey = self.public
        socket.curve_serverkey = self.server_public


@dataclass(frozen=True)
class ServerKeys:
    """What a worker needs: its own key pair and the folder of client public keys it admits."""

    public: bytes
    secret: bytes
    clients_dir: Path

    @classmethod
    def load(cls, secret_file: str | os.PathLike[str], clients_dir: str | os.PathLike[str]) -> ServerKeys:
        public, secret = zmq.auth.load_certificate(secret_file)
        if secret is None:
            raise ValueError(f"{secret_file} holds no secret key; pass the NAME.key_secret file")
        clients = Path(clients_dir)
        if not clients.is_dir() or not any(clients.glob("*.key")):
            raise ValueError(f"{clients} holds no client public keys (*.key); nobody could connect")
        return cls(public, secret, clients)

    def apply(self, socket: zmq.Socket) -> None:
        socket.curve_server = True
        socket.curve_secretkey = self.secret
        socket.curve_publickey = self.public


def create_key_pair(folder: str | os.PathLike[str], name: str) -> tuple[Path, Path]:
    """Write NAME.key and NAME.key_secret (readable by its owner only) into `folder`; returns (public, secret).
    Never overwrites: replacing a worker's key would lock every client out."""
    target = Path(folder)
    for existing in (target / f"{name}.key", target / f"{name}.key_secret"):
        if existing.exists():
            raise FileExistsError(f"{existing} exists; pick another name or remove it first")
    target.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(os.fspath(target), name)
    os.chmod(secret, 0o600)
    return Path(public), Path(secret)
