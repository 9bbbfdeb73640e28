"""Frames ↔ messages. `decode` validates everything a peer could get wrong and raises `ProtocolError` with a
code the receiver can send back as an `ErrorReply`; no input makes it raise anything else."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

import msgspec

from protocol.messages import (
    KIND_OF,
    KINDS,
    MAX_FRAME_BYTES,
    MAX_REQUEST_ID,
    PROTOCOL_VERSION,
    Body,
    ErrorCode,
)


class ProtocolError(Exception):
    """A frame that cannot be accepted; `request_id` is filled in when it could be read, so the reply can be
    routed to the request that caused it."""

    def __init__(self, code: ErrorCode, message: str, request_id: str = ""):
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message
        self.request_id = request_id


class Message(NamedTuple):
    request_id: str
    kind: str
    body: Body


class _Envelope(msgspec.Struct, array_like=True, frozen=True):
    version: int
    request_id: Annotated[str, msgspec.Meta(max_length=MAX_REQUEST_ID)]
    kind: str
    body: msgspec.Raw


# msgspec raises DecodeError/ValidationError, but invalid UTF-8 surfaces as UnicodeDecodeError (a ValueError) and
# absurd nesting as RecursionError; the fuzz tests found both.
_DECODE_ERRORS = (ValueError, RecursionError)
_encoder = msgspec.msgpack.Encoder()
_envelope_decoder = msgspec.msgpack.Decoder(_Envelope)
_any_decoder = msgspec.msgpack.Decoder()
_body_decoders = {kind: msgspec.msgpack.Decoder(cls) for kind, cls in KINDS.items()}


def encode(request_id: str, body: Body) -> bytes:
    """One frame; raises ProtocolError(oversized) rather than produce a frame the peer must refuse."""
    frame = _encoder.encode((PROTOCOL_VERSION, request_id, KIND_OF[type(body)], body))
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError("oversized", f"{len(frame)} bytes > {MAX_FRAME_BYTES}", request_id)
    return frame


def decode(frame: bytes | memoryview, accept: frozenset[str] | None = None) -> Message:
    """Validate `frame`; `accept` limits the kinds this side takes (a worker never takes a Result)."""
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError("oversized", f"{len(frame)} bytes > {MAX_FRAME_BYTES}", _salvage_request_id(frame))
    try:
        envelope = _envelope_decoder.decode(frame)
    except _DECODE_ERRORS as exc:
        code: ErrorCode = "invalid" if isinstance(exc, msgspec.ValidationError) else "malformed"
        raise ProtocolError(code, f"not a protocol envelope: {exc}", _salvage_request_id(frame)) from None
    rid = envelope.request_id
    if envelope.version != PROTOCOL_VERSION:
        raise ProtocolError(
            "version",
            f"this peer speaks protocol {PROTOCOL_VERSION}, the frame is version {envelope.version}; "
            "run the same cuesteer version on both ends",
            rid,
        )
    decoder = _body_decoders.get(envelope.kind)
    if decoder is None:
        raise ProtocolError("unknown_kind", f"unknown message kind {envelope.kind[:40]!r}", rid)
    if accept is not None and envelope.kind not in accept:
        raise ProtocolError("unexpected", f"{envelope.kind!r} is not accepted here", rid)
    try:
        body = decoder.decode(envelope.body)
    except _DECODE_ERRORS as exc:
        raise ProtocolError("invalid", f"bad {envelope.kind} body: {exc}", rid) from None
    return Message(rid, envelope.kind, body)


def _salvage_request_id(frame: bytes | memoryview) -> str:
    """Best effort: the request id of a frame whose envelope failed validation, or ""."""
    if len(frame) > MAX_FRAME_BYTES:
        frame = frame[:4096]  # the id sits near the start; a truncated tail just fails the decode below
    try:
        value: Any = _any_decoder.decode(frame)
    except _DECODE_ERRORS:
        return ""
    if isinstance(value, list) and len(value) > 1 and isinstance(value[1], str):
        return value[1][:MAX_REQUEST_ID]
    return ""
