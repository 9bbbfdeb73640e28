"""Progress on stderr: a redrawn bar on a terminal, a line every few seconds otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time

BAR_WIDTH = 28
LOG_INTERVAL_S = 5.0
QUIET_FOR_S = 1.0  # jobs shorter than this print nothing


class StderrProgress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.started < QUIET_FOR_S:
            return
        if self.tty:
            if now - self.last < 0.1 and fraction < 1.0:
                return
            filled = int(BAR_WIDTH * fraction)
            line = f"\r{stage:>7} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction * 100:5.1f}% {message}"
            self.stream.write(line[:160].ljust(100))
            self.drawn = True
        else:
            if now - self.last < LOG_INTERVAL_S and fraction < 1.0:
                return
            self.stream.write(f"{stage}: {fraction * 100:.0f}% {message}\n")
        self.stream.flush()
        self.last = now

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
