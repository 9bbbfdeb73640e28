"""Hypothesis strategies for protocol frames, and a fast mutator, shared by the decoder and live-server fuzz."""

from __future__ import annotations

import random
from collections.abc import Iterator

import msgspec
from hypothesis import strategies as st

from protocol.codec import encode
from protocol.messages import (
    KINDS,
    Accepted,
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


def raw_frame(*fields: object) -> bytes:
    """An envelope-shaped msgpack array with whatever fields a test wants, right or wrong."""
    return msgspec.msgpack.encode(list(fields))


scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=20)
)
values = st.recursive(
    scalars | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
params = st.dictionaries(st.text(max_size=12), values, max_size=5)
fractions = st.floats(0.0, 1.0)
bodies = st.one_of(
    st.builds(Call, method=st.text(min_size=1, max_size=64), params=params),
    st.builds(Accepted, lane=st.sampled_from(["heavy", "interactive", "background"]), queued=st.integers(0, 10**6)),
    st.builds(Progress, stage=st.text(), fraction=fractions, message=st.text(), eta_s=st.none() | st.floats(0.0, 1e9)),
    st.builds(Result, value=params),
    st.builds(Failed, reason=st.sampled_from(["cancelled", "error", "bad_request", "worker_lost"]), message=st.text()),
    st.just(Cancel()),
    st.just(Ping()),
    st.builds(Pong, pid=st.integers(0, 2**31), running=st.dictionaries(st.text(max_size=12), st.integers(0, 99))),
    st.builds(Heartbeat, interval_s=st.floats(0.001, 3600.0)),
    st.builds(ErrorReply, code=st.sampled_from(["malformed", "version", "invalid"]), message=st.text()),
)
request_ids = st.text(max_size=64)


valid_frames = st.builds(encode, request_ids, bodies)
wrong_envelopes = st.builds(
    raw_frame,
    st.integers(-3, 3) | st.text(max_size=3),
    request_ids | st.integers(-(2**63), 2**64 - 1),
    st.sampled_from(sorted(KINDS)) | st.text(max_size=10),
    values,
)
seeds = st.one_of(valid_frames, wrong_envelopes, values.map(msgspec.msgpack.encode), st.binary(max_size=200))


def mutations(frame: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    """`frame` and `count - 1` damaged copies: bytes flipped, cut, inserted, dropped or spliced from itself."""
    yield frame
    for _ in range(count - 1):
        out = bytearray(frame)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(out) + 1)
            op = rng.randrange(5)
            if op == 0 and at < len(out):
                out[at] = rng.randrange(256)
            elif op == 1:
                del out[at:]
            elif op == 2:
                out[at:at] = rng.randbytes(rng.randint(1, 8))
            elif op == 3:
                del out[at : at + rng.randint(1, 8)]
            else:
                out[at:at] = frame[rng.randrange(len(frame) + 1) :][:16]
        yield bytes(out)


# What a client might send to a live worker: only harmless calls (echo; unknown methods), so a fuzz run never
# queues real work, plus everything a broken or hostile client could send.
client_bodies = st.one_of(
    st.builds(Call, method=st.just("echo"), params=st.fixed_dictionaries({"value": values})),
    st.builds(Call, method=st.text(min_size=1, max_size=12), params=params),
    st.just(Cancel()),
    st.just(Ping()),
    st.builds(Heartbeat, interval_s=st.floats(0.05, 10.0)),
)
client_seeds = st.one_of(
    st.builds(encode, request_ids, client_bodies),
    wrong_envelopes,
    values.map(msgspec.msgpack.encode),
    st.binary(max_size=200),
)
