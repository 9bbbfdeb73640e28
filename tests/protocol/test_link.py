"""The client link against scripted peers (a plain ROUTER socket in a thread): liveness, backoff, refusals,
garbage from the worker side, closing. Behaviour against the real worker is in tests/worker/test_server*.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from protocol.codec import decode, encode
from protocol.link import Link, RemoteError
from protocol.messages import CLIENT_KINDS, Accepted, Body, ErrorReply, Failed, Heartbeat, Progress, Result

HEARTBEAT_S = 0.1
SLACK_S = 0.5  # scheduling on a busy 2-core machine

Reply = Callable[[str, str, Body], list[bytes]]


class Peer:
    """A ROUTER on a random loopback port that answers each client message with `reply(rid, kind, body)`."""

    def __init__(self, reply: Reply, answer_heartbeats: bool = True):
        self.reply = reply
        self.answer_heartbeats = answer_heartbeats
        self.connections: list[float] = []  # times the link (re)connected
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.ROUTER)
        self._sock.linger = 0
        self._sock.router_handover = 1
        self._sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self._sock.last_endpoint.decode()
        self._monitor = self._sock.get_monitor_socket(zmq.EVENT_ACCEPTED)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._monitor.poll(0):
                recv_monitor_message(self._monitor)
                self.connections.append(time.monotonic())
            if not self._sock.poll(20):
                continue
            client, frame = self._sock.recv_multipart()
            message = decode(frame, accept=CLIENT_KINDS)
            if isinstance(message.body, Heartbeat):
                if self.answer_heartbeats:
                    self._sock.send_multipart([client, frame])
                continue
            for out in self.reply(message.request_id, message.kind, message.body):
                self._sock.send_multipart([client, out])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.disable_monitor()
        self._monitor.close()
        self._sock.close()
        self._ctx.term()


@pytest.fixture
def peer_factory() -> Iterator[Callable[..., Peer]]:
    peers: list[Peer] = []

    def make(reply: Reply, **kwargs: bool) -> Peer:
        peers.append(Peer(reply, **kwargs))
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()


def test_nobody_listening_fails_the_call_after_three_silent_heartbeats() -> None:
    with Link("tcp://127.0.0.1:9", heartbeat_s=HEARTBEAT_S) as link:
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            link.call("status")
        waited = time.monotonic() - started
        assert link.state == "lost"
    assert caught.value.reason == "worker_lost"
    assert "no worker answered at tcp://127.0.0.1:9" in str(caught.value)
    assert 3 * HEARTBEAT_S <= waited <= 3 * HEARTBEAT_S + SLACK_S


def test_garbage_from_the_worker_side_is_ignored_and_the_real_answer_arrives(peer_factory) -> None:
    def reply(rid: str, kind: str, body: Body) -> list[bytes]:
        return [
            b"",
            b"\xc1",
            encode(rid, body),
            encode("nobody-asked", Result({})),  # bad, bad, wrong kind, stale
            encode(rid, Accepted("interactive")),
            encode(rid, Progress("s", 0.5)),
            encode(rid, Result({"ok": 1})),
        ]

    peer = peer_factory(reply)
    with Link(peer.endpoint, heartbeat_s=HEARTBEAT_S) as link:
        rid = link.submit("anything")
        events = list(link.events(rid, timeout=5))
    assert events == [Accepted("interactive"), Progress("s", 0.5), Result({"ok": 1})]


def test_an_error_reply_ends_the_request_as_bad_request(peer_factory) -> None:
    peer = peer_factory(lambda rid, kind, body: [encode(rid, ErrorReply("version", "speak protocol 9"))])
    with Link(peer.endpoint, heartbeat_s=HEARTBEAT_S) as link, pytest.raises(RemoteError) as caught:
        link.call("status", timeout=5)
    assert caught.value.reason == "bad_request"
    assert "(version): speak protocol 9" in str(caught.value)


def test_a_worker_that_stops_answering_mid_job_is_reported_lost(peer_factory) -> None:
    peer = peer_factory(lambda rid, kind, body: [encode(rid, Accepted("heavy"))])
    with Link(peer.endpoint, heartbeat_s=HEARTBEAT_S) as link:
        rid = link.submit("index", {"paths": ["/music"]})
        events = link.events(rid, timeout=5)
        assert next(events) == Accepted("heavy")
        assert link.state == "ready"
        peer.answer_heartbeats = False  # alive socket, dead worker: only liveness can tell
        stopped = time.monotonic()
        final = next(events)
        assert time.monotonic() - stopped <= 3 * HEARTBEAT_S + SLACK_S + HEARTBEAT_S
    assert isinstance(final, Failed) and final.reason == "worker_lost"
    assert "stopped answering" in final.message


def test_reconnects_back_off_exponentially(peer_factory) -> None:
    peer = peer_factory(lambda rid, kind, body: [], answer_heartbeats=False)
    with Link(peer.endpoint, heartbeat_s=HEARTBEAT_S):
        time.sleep(4 * 3 * HEARTBEAT_S + (1 + 2 + 4) * HEARTBEAT_S + SLACK_S)  # 3 losses, 3 back-offs
    cycles = [b - a for a, b in zip(peer.connections, peer.connections[1:], strict=False)]
    assert len(cycles) >= 3, peer.connections
    # each cycle is 3 silent heartbeats plus a back-off of 1, 2, 4 heartbeats
    assert cycles[0] >= 4 * HEARTBEAT_S
    assert cycles[2] - cycles[0] >= 1.5 * HEARTBEAT_S  # 3 expected


def test_close_ends_requests_in_flight_with_shutdown(peer_factory) -> None:
    peer = peer_factory(lambda rid, kind, body: [encode(rid, Accepted("heavy"))])
    link = Link(peer.endpoint, heartbeat_s=HEARTBEAT_S)
    rid = link.submit("index")
    events = link.events(rid, timeout=5)
    assert next(events) == Accepted("heavy")
    link.close()
    assert next(events) == Failed("shutdown", "the link was closed")
    with pytest.raises(RuntimeError, match="closed"):
        link.submit("status")


def test_bad_params_fail_in_the_callers_thread() -> None:
    with Link("tcp://127.0.0.1:9", heartbeat_s=HEARTBEAT_S) as link:
        with pytest.raises(RemoteError, match="cannot be sent") as caught:
            link.submit("search", {"text": object()})
        assert caught.value.reason == "bad_request"
        assert list(link.events("no-such-request")) == [] and link.poll("no-such-request") == []


def test_poll_drains_without_waiting(peer_factory) -> None:
    peer = peer_factory(lambda rid, kind, body: [encode(rid, Accepted("interactive")), encode(rid, Result({"n": 2}))])
    with Link(peer.endpoint, heartbeat_s=HEARTBEAT_S) as link:
        rid = link.submit("status")
        seen: list[object] = []
        deadline = time.monotonic() + 5
        while not seen or not isinstance(seen[-1], Result):
            assert time.monotonic() < deadline
            seen += link.poll(rid)
            time.sleep(0.01)
        assert seen == [Accepted("interactive"), Result({"n": 2})]
        assert link.poll(rid) == []
