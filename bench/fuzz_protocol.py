"""100k broken frames into the decoder and 100k into a live worker: 0 crashes, 0 hangs.

Seeds are valid client frames, envelopes with wrong fields, random msgpack values and random bytes; each is
damaged many times (bytes flipped, cut, inserted, dropped, spliced; some sent as multi-part messages). The
decoder must raise nothing but ProtocolError; the worker must stay up and answer a Ping after every batch.

    python bench/fuzz_protocol.py [--frames 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import zmq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protocol.codec import ProtocolError, decode, encode  # noqa: E402
from protocol.messages import (  # noqa: E402
    KINDS,
    PROTOCOL_VERSION,
    WORKER_KINDS,
    Call,
    Cancel,
    ErrorReply,
    Heartbeat,
    Ping,
    Pong,
)
from tests.protocol.frames import mutations  # noqa: E402
from tests.protocol.live_worker import running_worker  # noqa: E402

MUTATIONS_PER_SEED = 50
BATCH = 500  # frames between liveness probes
PROBE_TIMEOUT_S = 10.0


def random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**63), 2**64 - 1)
    if kind == 3:
        return rng.uniform(-1e9, 1e9)
    if kind == 4:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(12)))
    if kind == 5:
        return rng.randbytes(rng.randrange(12))
    if kind == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {str(random_value(rng, 3)): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def seed_frame(rng: random.Random) -> bytes:
    """A starting point for mutations: harmless valid client frames (echo, unknown methods), wrong envelopes,
    random msgpack and random bytes."""
    choice = rng.randrange(6)
    rid = str(rng.randrange(10**6))
    if choice == 0:
        return encode(rid, Call("echo", {"value": random_value(rng)}))
    if choice == 1:
        return encode(rid, Call(f"m{rng.randrange(99)}", {"x": random_value(rng)}))
    if choice == 2:
        return encode(rid, rng.choice([Ping(), Cancel(), Heartbeat(interval_s=rng.uniform(0.05, 5.0))]))
    if choice == 3:
        fields = [
            rng.choice([PROTOCOL_VERSION, PROTOCOL_VERSION + 1, "1", -1]),
            rng.choice([rid, 7, None]),
            rng.choice([*KINDS, "nope", 3]),
            random_value(rng),
        ]
        return msgspec.msgpack.encode(fields[: rng.randint(0, 4)])
    if choice == 4:
        return msgspec.msgpack.encode(random_value(rng))
    return rng.randbytes(rng.randrange(200))


def frames(rng: random.Random, count: int):
    made = 0
    while made < count:
        for frame in mutations(seed_frame(rng), rng, min(MUTATIONS_PER_SEED, count - made)):
            made += 1
            yield frame


def fuzz_decoder(count: int, rng: random.Random) -> dict[str, object]:
    outcomes: collections.Counter[str] = collections.Counter()
    crashes = 0
    start = time.perf_counter()
    for frame in frames(rng, count):
        try:
            decode(frame)
            outcomes["valid"] += 1
        except ProtocolError as exc:
            outcomes[exc.code] += 1
        except Exception as exc:  # a crash: what the worker would have died of
            crashes += 1
            print(f"decoder crash: {type(exc).__name__}: {exc} on {frame[:80]!r}", file=sys.stderr)
    return {"frames": count, "crashes": crashes, "seconds": time.perf_counter() - start, "outcomes": dict(outcomes)}


def fuzz_worker(count: int, rng: random.Random) -> dict[str, object]:
    replies: collections.Counter[str] = collections.Counter()
    hangs = 0
    with tempfile.TemporaryDirectory(prefix="cuesteer-fuzz-") as tmp, running_worker(Path(tmp) / "library") as worker:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(worker.endpoint)
        start = time.perf_counter()
        sent = 0
        for i, frame in enumerate(frames(rng, count)):
            if rng.random() < 0.05 and len(frame) > 1:
                sock.send_multipart([frame[:1], frame[1:]])
            else:
                sock.send(frame)
            sent += 1
            if (i + 1) % BATCH == 0 or sent == count:
                if not probe(sock, f"probe-{i}", replies):
                    hangs += 1
                    print(f"no pong after frame {i}", file=sys.stderr)
                if worker.process.poll() is not None:
                    print(f"worker died:\n{worker.log()[-3000:]}", file=sys.stderr)
                    break
        seconds = time.perf_counter() - start
        alive = worker.process.poll() is None
        tracebacks = worker.log().count("Traceback")
        sock.close()
        ctx.term()
    return {
        "frames": sent,
        "crashes": int(not alive),
        "hangs": hangs,
        "tracebacks_in_log": tracebacks,
        "seconds": seconds,
        "replies": dict(replies),
    }


def probe(sock: zmq.Socket, request_id: str, replies: collections.Counter[str]) -> bool:
    sock.send(encode(request_id, Ping()))
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    while time.monotonic() < deadline:
        if not sock.poll(100):
            continue
        message = decode(sock.recv(), accept=WORKER_KINDS)
        body = message.body
        if isinstance(body, Pong) and message.request_id == request_id:
            return True
        replies[f"error:{body.code}" if isinstance(body, ErrorReply) else message.kind] += 1
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    decoder = fuzz_decoder(args.frames, random.Random(args.seed))
    print(
        f"decoder: {decoder['frames']} frames, {decoder['crashes']} crashes, {decoder['seconds']:.1f} s "
        f"({decoder['frames'] / decoder['seconds']:.0f} frames/s)"
    )
    print(f"  outcomes: {decoder['outcomes']}")
    live = fuzz_worker(args.frames, random.Random(args.seed + 1))
    print(
        f"live worker: {live['frames']} frames, {live['crashes']} crashes, {live['hangs']} hangs, "
        f"{live['tracebacks_in_log']} tracebacks in its log, {live['seconds']:.1f} s "
        f"({live['frames'] / live['seconds']:.0f} frames/s)"
    )
    print(f"  replies: {live['replies']}")
    sys.exit(1 if decoder["crashes"] or live["crashes"] or live["hangs"] or live["tracebacks_in_log"] else 0)


if __name__ == "__main__":
    main()
