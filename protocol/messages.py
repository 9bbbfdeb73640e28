"""The message types of the worker protocol, one `msgspec.Struct` per kind, and the frame constants.

A frame is one msgpack array `[version, request_id, kind, body]` (see `protocol.codec`); the body is a map so a
later minor revision can add optional fields that older peers ignore. Anything else is a new protocol version.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 8 * 1024 * 1024  # larger frames get ErrorReply(oversized); search results are far smaller
MAX_REQUEST_ID = 64
MAX_METHOD_NAME = 64

HEARTBEAT_S = 1.0  # client heartbeat interval; the worker echoes each one
HEARTBEAT_LIVENESS = 3  # silent intervals before a peer is declared gone

RequestId = Annotated[str, msgspec.Meta(max_length=MAX_REQUEST_ID)]
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Seconds = Annotated[float, msgspec.Meta(ge=0.0)]

FailReason = Literal["cancelled", "error", "bad_request", "worker_lost", "unauthorized", "timeout", "shutdown"]
"""cancelled: Cancel arrived or the caller gave up; error: the job raised; bad_request: unknown method or bad
params; worker_lost: no answer for HEARTBEAT_LIVENESS heartbeats; unauthorized: CURVE handshake refused;
timeout: the caller's own deadline passed; shutdown: the worker (or the link) closed before the job ended."""

ErrorCode = Literal["malformed", "version", "unknown_kind", "invalid", "oversized", "unexpected", "duplicate"]
"""Why a frame was refused: not msgpack / not an envelope; another protocol version; a kind this peer does not
know; a body that fails validation; larger than MAX_FRAME_BYTES; a kind the receiver never accepts (a client
sending Result); a request id still in flight."""

Lane = Literal["heavy", "interactive", "background"]
"""heavy: one job at a time (index, train, render); interactive: two threads (search, status); background: jobs
that run until cancelled (watch), so they never take a thread from the other two."""


class Call(msgspec.Struct, frozen=True):
    """client → worker: run `method(**params)`; answered by Accepted, Progress*, then one Result or Failed."""

    method: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_METHOD_NAME)]
    params: dict[str, Any] = {}


class Accepted(msgspec.Struct, frozen=True):
    """worker → client, at once: the call is queued on `lane` behind `queued` other jobs."""

    lane: Lane
    queued: Annotated[int, msgspec.Meta(ge=0)] = 0


class Progress(msgspec.Struct, frozen=True):
    stage: str
    fraction: Fraction
    message: str = ""
    eta_s: Seconds | None = None


class Result(msgspec.Struct, frozen=True):
    value: dict[str, Any]


class Failed(msgspec.Struct, frozen=True):
    reason: FailReason
    message: str = ""


class Cancel(msgspec.Struct, frozen=True):
    """client → worker: stop the job with the envelope's request id at its next checkpoint."""


class Ping(msgspec.Struct, frozen=True):
    """client → worker: answered by Pong from the socket loop itself, never queued behind a job."""


class Pong(msgspec.Struct, frozen=True):
    pid: int = 0
    running: dict[str, int] = {}  # lane -> jobs running or queued


class Heartbeat(msgspec.Struct, frozen=True):
    """Both ways, request id "": the client sends one every `interval_s`, the worker echoes it."""

    interval_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)] = HEARTBEAT_S


class ErrorReply(msgspec.Struct, frozen=True):
    """worker → client: a frame was refused before it became a job (never a crash, never silence)."""

    code: ErrorCode
    message: str = ""


Body = Call | Accepted | Progress | Result | Failed | Cancel | Ping | Pong | Heartbeat | ErrorReply

KINDS: dict[str, type[Body]] = {
    "call": Call,
    "accepted": Accepted,
    "progress": Progress,
    "result": Result,
    "failed": Failed,
    "cancel": Cancel,
    "ping": Ping,
    "pong": Pong,
    "heartbeat": Heartbeat,
    "error": ErrorReply,
}
KIND_OF: dict[type[Body], str] = {cls: kind for kind, cls in KINDS.items()}

CLIENT_KINDS = frozenset({"call", "cancel", "ping", "heartbeat"})
WORKER_KINDS = frozenset({"accepted", "progress", "result", "failed", "pong", "heartbeat", "error"})
FINAL_KINDS = frozenset({"result", "failed", "pong", "error"})  # end a request's event stream
