"""Round trips through the worker protocol, against raw pyzmq REQ/REP measured in the same run.

Prints p50/p99 of: a Ping (answered by the worker's socket loop), `status` and a small `search` (the real Service
on a tiny library, descriptor encoder, interactive lane), an `echo` through the toy service, a raw REQ/REP echo
of a same-sized frame (the floor: one process hop each way, no threads, no validation) and the ratio; then the
progress events per second one job can stream (rate limit off, and the default limit).

    python bench/protocol_latency.py [--n 2000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protocol.link import Link  # noqa: E402
from protocol.messages import Progress, Result  # noqa: E402
from tests.media import clicks, tone, write  # noqa: E402
from tests.protocol.live_worker import REAL_SERVICE, running_worker  # noqa: E402

LIBRARY_TRACKS = 12
PROGRESS_CALLBACKS = 200_000
LIMITED_CALLBACKS, LIMITED_STEP_S = 300, 0.01  # a ~3 s job under the default limit (PROGRESS_INTERVAL_S)
REP_SERVER = """
import sys, zmq
ctx = zmq.Context(); sock = ctx.socket(zmq.REP); sock.bind("tcp://127.0.0.1:*")
print(sock.last_endpoint.decode(), flush=True)
while True:
    msg = sock.recv()
    if msg == b"stop":
        sock.send(b""); break
    sock.send(msg)
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    us = np.asarray(samples) * 1e6
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)), "n": len(samples)}


def timed(fn: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def raw_req_rep(n: int, payload: bytes) -> list[float]:
    import zmq

    server = subprocess.Popen([sys.executable, "-c", REP_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        endpoint = server.stdout.readline().strip()
        ctx = zmq.Context()
        sock = ctx.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(endpoint)

        def once() -> None:
            sock.send(payload)
            sock.recv()

        samples = timed(once, n)
        sock.send(b"stop")
        sock.recv()
        sock.close()
        ctx.term()
        return samples
    finally:
        server.wait(10)


def progress_rate(link: Link, callbacks: int, step_s: float = 0.0) -> tuple[float, int, float]:
    """(events per second received, events, seconds) for one `count` job."""
    rid = link.submit("count", {"n": callbacks, "step_s": step_s})
    start = time.perf_counter()
    events = 0
    for event in link.events(rid, timeout=120):
        if isinstance(event, Progress):
            events += 1
        elif isinstance(event, Result):
            break
    seconds = time.perf_counter() - start
    return events / seconds, events, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="round trips per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="cuesteer-latency-") as tmp:
        root = Path(tmp)
        music = root / "music"
        tracks = [
            write(music / f"t{i}.wav", tone(4.0, 22050, 110.0 * (i + 1)) + clicks(4.0, 80 + 7 * i))
            for i in range(LIBRARY_TRACKS)
        ]
        with (
            running_worker(root / "library", "--encoder", "descriptor", service=REAL_SERVICE) as worker,
            Link(worker.endpoint) as link,
        ):
            link.call("index", {"paths": [str(music)]}, timeout=300)
            figures["ping"] = percentiles(timed(lambda: link.ping(timeout=10), args.n))
            figures["status"] = percentiles(timed(lambda: link.call("status", timeout=10), args.n // 4))
            query = {"like": str(tracks[3]), "k": 5}
            figures["search"] = percentiles(timed(lambda: link.call("search", query, timeout=10), args.n // 4))
        with running_worker(root / "toy", "--progress-interval", "0") as worker, Link(worker.endpoint) as link:
            figures["echo"] = percentiles(timed(lambda: link.call("echo", {"value": 1}, timeout=10), args.n))
            rate, events, seconds = progress_rate(link, PROGRESS_CALLBACKS)
            figures["progress_unlimited"] = {"events_per_s": rate, "events": events, "seconds": seconds}
        with running_worker(root / "toy2") as worker, Link(worker.endpoint) as link:
            rate, events, seconds = progress_rate(link, LIMITED_CALLBACKS, LIMITED_STEP_S)
            figures["progress_default_limit"] = {"events_per_s": rate, "events": events, "seconds": seconds}
    ping_frame_size = len(b"\x94\x01\xa41234\xa4ping\x80")
    figures["raw_req_rep"] = percentiles(raw_req_rep(args.n, b"x" * ping_frame_size))
    raw = figures["raw_req_rep"]
    for name in ("ping", "echo", "status", "search"):
        figures[name]["ratio_to_raw_p50"] = figures[name]["p50_us"] / raw["p50_us"]  # type: ignore[index]

    print(f"{'round trip (tcp loopback)':32s} {'p50 µs':>9s} {'p99 µs':>9s} {'× raw p50':>10s}")
    for name, label in [
        ("raw_req_rep", "raw pyzmq REQ/REP (peer)"),
        ("ping", "Link.ping"),
        ("echo", "Link.call echo (toy service)"),
        ("status", "Link.call status"),
        ("search", f"Link.call search ({LIBRARY_TRACKS} tracks)"),
    ]:
        f = figures[name]
        ratio = f"{f.get('ratio_to_raw_p50', 1.0):10.1f}"  # type: ignore[union-attr]
        print(f"{label:32s} {f['p50_us']:9.0f} {f['p99_us']:9.0f} {ratio}")  # type: ignore[index]
    for name in ("progress_unlimited", "progress_default_limit"):
        f = figures[name]
        print(f"{name:32s} {f['events_per_s']:9.0f} events/s ({f['events']} events in {f['seconds']:.2f} s)")  # type: ignore[index]
    print(f"n={args.n} round trips per line; load average (1 min) {_loadavg():.1f} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def _loadavg() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


if __name__ == "__main__":
    main()
