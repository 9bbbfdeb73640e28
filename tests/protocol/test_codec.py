"""Frames ↔ messages: every kind round-trips, every way a frame can be wrong gets its own code, and no input at
all makes the decoder raise anything but ProtocolError (hypothesis, > 10k frames)."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.codec import ProtocolError, decode, encode
from protocol.messages import (
    CLIENT_KINDS,
    KINDS,
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    WORKER_KINDS,
    Call,
    Failed,
    Result,
)
from tests.protocol.frames import bodies, mutations, raw_frame, request_ids, seeds

FUZZ_EXAMPLES = 200
FRAMES_PER_EXAMPLE = 60  # 200 × 60 = 12,000 frames through the decoder


@given(request_id=request_ids, body=bodies)
def test_every_kind_round_trips(request_id: str, body: object) -> None:
    message = decode(encode(request_id, body))  # type: ignore[arg-type]
    assert (message.request_id, message.body) == (request_id, body)
    assert KINDS[message.kind] is type(body)


@pytest.mark.parametrize(
    ("frame", "code", "request_id"),
    [
        (b"", "malformed", ""),
        (b"\xc1", "malformed", ""),  # a byte msgpack never uses
        (encode("7", Call("search", {"text": "rain"}))[:-3], "malformed", ""),  # truncated
        (raw_frame(PROTOCOL_VERSION, "7", "call"), "invalid", "7"),  # three fields, not four
        (raw_frame("1", "7", "call", {}), "invalid", "7"),  # version is not an int
        (raw_frame(PROTOCOL_VERSION, 7, "call", {}), "invalid", ""),  # request id is not a string
        (raw_frame(PROTOCOL_VERSION, "x" * 65, "ping", {}), "invalid", "x" * 64),  # request id too long
        (msgspec.msgpack.encode({"v": 1}), "invalid", ""),  # a map, not an envelope
        (raw_frame(PROTOCOL_VERSION + 1, "7", "call", {"method": "x"}), "version", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "teleport", {}), "unknown_kind", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "call", {"params": {}}), "invalid", "7"),  # no method
        (raw_frame(PROTOCOL_VERSION, "7", "call", {"method": ""}), "invalid", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "call", {"method": "x", "params": [1]}), "invalid", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "call", {"method": "x", "params": {1: 2}}), "invalid", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "heartbeat", {"interval_s": -1.0}), "invalid", "7"),
        (raw_frame(PROTOCOL_VERSION, "7", "call", 5), "invalid", "7"),
        (encode("7", Result({})), "unexpected", "7"),  # a worker's kind sent to a worker
        (raw_frame(PROTOCOL_VERSION, "7", "ping", {}) + b"\x00" * MAX_FRAME_BYTES, "oversized", ""),
    ],
)
def test_each_kind_of_bad_frame_gets_its_code(frame: bytes, code: str, request_id: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(frame, accept=CLIENT_KINDS)
    assert (caught.value.code, caught.value.request_id) == (code, request_id)
    assert caught.value.message


def test_worker_side_values_are_validated_too() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(raw_frame(PROTOCOL_VERSION, "3", "progress", {"stage": "s", "fraction": 1.5}), accept=WORKER_KINDS)
    assert caught.value.code == "invalid" and "fraction" in caught.value.message
    with pytest.raises(ProtocolError, match="unexpected"):
        decode(encode("3", Call("x")), accept=WORKER_KINDS)
    assert decode(raw_frame(PROTOCOL_VERSION, "3", "failed", {"reason": "error", "later_field": 1})).body == Failed(
        "error"
    )


def test_encode_refuses_frames_the_peer_would_refuse() -> None:
    with pytest.raises(ProtocolError) as caught:
        encode("9", Result({"blob": b"\x00" * MAX_FRAME_BYTES}))
    assert caught.value.code == "oversized" and caught.value.request_id == "9"
    with pytest.raises(TypeError):
        encode("9", Call("x", {"value": object()}))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed_frame=seeds, rng_seed=st.integers(0, 2**32), accept=st.sampled_from([None, CLIENT_KINDS, WORKER_KINDS]))
def test_the_decoder_never_raises_anything_but_protocol_error(
    seed_frame: bytes, rng_seed: int, accept: frozenset | None
) -> None:
    for frame in mutations(seed_frame, random.Random(rng_seed), FRAMES_PER_EXAMPLE):
        try:
            message = decode(frame, accept=accept)
        except ProtocolError as exc:
            assert exc.code in ("malformed", "version", "unknown_kind", "invalid", "unexpected")
            assert len(exc.request_id) <= 64
        else:
            assert type(message.body) is KINDS[message.kind]
            assert accept is None or message.kind in accept
            assert decode(encode(message.request_id, message.body)) == message  # what decodes re-encodes
