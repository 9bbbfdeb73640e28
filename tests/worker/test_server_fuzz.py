"""A live worker under a stream of broken frames (hypothesis): every one gets a typed answer or is handled, the
worker never crashes or hangs, and its log says what it refused without flooding."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.codec import decode, encode
from protocol.link import Link
from protocol.messages import MAX_FRAME_BYTES, WORKER_KINDS, ErrorReply, Ping, Pong
from tests.protocol.frames import client_seeds, mutations
from tests.protocol.live_worker import Worker, running_worker
from worker.server import SOCKET_MAX_BYTES

FUZZ_EXAMPLES = 100
FRAMES_PER_EXAMPLE = 100  # 100 × 100 = 10,000 frames at a live worker
REPLY_TIMEOUT_S = 10.0
POLL_MS = 100
ERROR_CODES = {"malformed", "version", "unknown_kind", "invalid", "unexpected", "oversized", "duplicate"}


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with running_worker(tmp_path_factory.mktemp("fuzz") / "library") as worker:
        yield worker


@pytest.fixture(scope="module")
def raw(worker: Worker) -> Iterator[zmq.Socket]:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(worker.endpoint)
    yield sock
    sock.close()
    ctx.term()


def probe(sock: zmq.Socket, worker: Worker, request_id: str) -> list[object]:
    """Ping and read until its Pong: everything that came back on the way, decoded. Fails on a crash or hang."""
    sock.send(encode(request_id, Ping()))
    replies: list[object] = []
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert worker.process.poll() is None, f"the worker died:\n{worker.log()[-3000:]}"
        if not sock.poll(POLL_MS):
            continue
        message = decode(sock.recv(), accept=WORKER_KINDS)  # the worker itself only sends valid frames
        if message.request_id == request_id and isinstance(message.body, Pong):
            return replies
        replies.append(message.body)
    raise AssertionError(f"no pong within {REPLY_TIMEOUT_S} s: the worker hangs")


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed_frame=client_seeds, rng_seed=st.integers(0, 2**32), split=st.booleans())
def test_the_worker_survives_and_answers_any_frames(
    raw: zmq.Socket, worker: Worker, seed_frame: bytes, rng_seed: int, split: bool
) -> None:
    frames = list(mutations(seed_frame, random.Random(rng_seed), FRAMES_PER_EXAMPLE))
    for frame in frames:
        if split and len(frame) > 1:  # the same bytes as a two-part message
            raw.send_multipart([frame[:1], frame[1:]])
        else:
            raw.send(frame)
    replies = probe(raw, worker, f"probe-{rng_seed}")
    codes = {reply.code for reply in replies if isinstance(reply, ErrorReply)}
    assert codes <= ERROR_CODES
    if split:
        assert "malformed" in codes
    assert worker.process.poll() is None
    assert "Traceback" not in worker.log()


def test_oversized_frames_get_a_reply_or_a_disconnect_never_a_crash(raw: zmq.Socket, worker: Worker) -> None:
    raw.send(encode("big", Ping()) + b"\x00" * MAX_FRAME_BYTES)
    replies = probe(raw, worker, "after-big")
    assert any(isinstance(r, ErrorReply) and r.code == "oversized" for r in replies)
    raw.send(b"\x00" * (SOCKET_MAX_BYTES + 1))  # libzmq drops this peer; the worker carries on
    with Link(worker.endpoint, heartbeat_s=0.5) as link:
        assert link.call("echo", {"value": "fine"}, timeout=20)["value"] == "fine"
    assert worker.process.poll() is None


def test_the_log_names_bad_frames_without_flooding(raw: zmq.Socket, worker: Worker) -> None:
    for _ in range(500):
        raw.send(b"\xc1")
    probe(raw, worker, "after-flood")
    log = worker.log()
    assert "bad frame from" in log and "malformed" in log
    assert "more bad frames" in log  # the rest were counted, not printed
    assert log.count("bad frame from") < 500
    assert "Traceback" not in log
