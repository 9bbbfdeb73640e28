"""Start a worker command, wait for its first ping reply, print the seconds it took; leave the worker running.

    python3 installer/ping_worker.py --endpoint ipc:///tmp/x.sock --pid-file W.pid --log W.log -- CMD ARGS...

Used by installer/smoke_test.sh to measure the bundled worker's cold start (process start → first Pong over
the real protocol). Imports only `protocol/` (no torch), so the client side adds little to the measurement.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol.link import Link  # noqa: E402

PING_TIMEOUT_S = 1.0
DEFAULT_DEADLINE_S = 300.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.monotonic()
    with open(args.log, "wb") as log:
        worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    Path(args.pid_file).write_text(str(worker.pid))
    link = Link(args.endpoint)
    try:
        while time.monotonic() - started < args.deadline:
            if worker.poll() is not None:
                print(f"ping: the worker exited with code {worker.returncode} (see {args.log})", file=sys.stderr)
                return 1
            try:
                link.ping(timeout=PING_TIMEOUT_S)
            except Exception:
                continue
            print(f"{time.monotonic() - started:.2f}")
            return 0
    finally:
        link.close()
    print(f"ping: no reply within {args.deadline:.0f} s (see {args.log})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
