"""A worker listening beyond loopback with CURVE: admitted keys work, every other client is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from protocol.curve import ClientKeys, create_key_pair
from protocol.link import Link, RemoteError
from tests.protocol.live_worker import Worker, run_worker_until_exit, running_worker

HEARTBEAT_S = 0.3
REFUSAL_WITHIN_S = 3 * HEARTBEAT_S + 1.0


@dataclass
class Keys:
    server_public: Path
    server_secret: Path
    admitted: Path  # folder of admitted client public keys
    client_secret: Path
    rogue_secret: Path
    rogue_public: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("keys")
    server_public, server_secret = create_key_pair(root / "server", "worker")
    client_public, client_secret = create_key_pair(root / "client", "editor")
    rogue_public, rogue_secret = create_key_pair(root / "rogue", "rogue")
    admitted = root / "admitted"
    admitted.mkdir()
    (admitted / client_public.name).write_bytes(client_public.read_bytes())
    return Keys(server_public, server_secret, admitted, client_secret, rogue_secret, rogue_public)


@pytest.fixture(scope="module")
def worker(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    library = tmp_path_factory.mktemp("curve") / "library"
    args = ("--curve-secret-key", str(keys.server_secret), "--curve-public-keys", str(keys.admitted))
    with running_worker(library, *args, endpoint="tcp://0.0.0.0:*") as worker:  # all interfaces: allowed now
        yield worker


def loopback(worker: Worker) -> str:
    return worker.endpoint.replace("0.0.0.0", "127.0.0.1")


def test_an_admitted_client_gets_answers(worker: Worker, keys: Keys) -> None:
    curve = ClientKeys.load(keys.client_secret, keys.server_public)
    with Link(loopback(worker), curve=curve, heartbeat_s=HEARTBEAT_S) as link:
        assert link.call("echo", {"value": "over curve"}, timeout=20)["value"] == "over curve"
    info = json.loads((Path(worker.log_path).parent / "library" / "worker.json").read_text())
    assert info["curve_public_key"] == curve.server_public.decode()


@pytest.mark.parametrize("who", ["unknown key", "no curve", "wrong worker key"])
def test_other_clients_are_refused(worker: Worker, keys: Keys, who: str) -> None:
    curve = {
        "unknown key": ClientKeys.load(keys.rogue_secret, keys.server_public),
        "no curve": None,
        "wrong worker key": ClientKeys.load(keys.client_secret, keys.rogue_public),
    }[who]
    with Link(loopback(worker), curve=curve, heartbeat_s=HEARTBEAT_S) as link:
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            link.call("echo", {"value": "let me in"}, timeout=20)
        assert time.monotonic() - started < REFUSAL_WITHIN_S
    assert caught.value.reason in ("unauthorized", "worker_lost")
    if who == "unknown key":  # the worker's authenticator says no in so many words
        # the client hears of the refusal from its socket monitor, unless three silent heartbeats come first
        assert caught.value.reason == "worker_lost" or "CURVE" in str(caught.value)
        deadline = time.monotonic() + REFUSAL_WITHIN_S  # the worker logs it from its own loop: give it a moment
        while "refused a client handshake" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "refused a client handshake" in worker.log()
    assert "let me in" not in worker.log()


def test_curve_options_are_checked_before_starting(keys: Keys, tmp_path: Path) -> None:
    empty = tmp_path / "nobody"
    empty.mkdir()
    alone = run_worker_until_exit(tmp_path / "lib", "--curve-secret-key", str(keys.server_secret))
    assert alone.returncode == 2 and "go together" in alone.stderr
    nobody = run_worker_until_exit(
        tmp_path / "lib",
        "--endpoint",
        "tcp://0.0.0.0:*",
        "--curve-secret-key",
        str(keys.server_secret),
        "--curve-public-keys",
        str(empty),
    )
    assert nobody.returncode == 2 and "holds no client public keys" in nobody.stderr
    public_only = run_worker_until_exit(
        tmp_path / "lib",
        "--endpoint",
        "tcp://0.0.0.0:*",
        "--curve-secret-key",
        str(keys.server_public),
        "--curve-public-keys",
        str(keys.admitted),
    )
    assert public_only.returncode == 2 and "no secret key" in public_only.stderr


def test_create_keys_writes_a_private_secret_and_never_overwrites(tmp_path: Path) -> None:
    made = run_worker_until_exit(tmp_path / "lib", "--create-keys", str(tmp_path / "keys"), "--key-name", "studio")
    assert made.returncode == 0, made.stderr
    secret = tmp_path / "keys" / "studio.key_secret"
    assert (secret.stat().st_mode & 0o777) == 0o600
    assert ClientKeys.load(secret, tmp_path / "keys" / "studio.key").public in secret.read_bytes()
    before = secret.read_bytes()
    again = run_worker_until_exit(tmp_path / "lib", "--create-keys", str(tmp_path / "keys"), "--key-name", "studio")
    assert again.returncode == 1 and "exists" in again.stderr and secret.read_bytes() == before
