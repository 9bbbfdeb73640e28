"""What every long job receives: a progress callback and a cancel flag, so math never does I/O itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ProgressFn = Callable[[str, float, str], None]
"""progress(stage, fraction in [0, 1], message)."""


class Cancelled(Exception):
    """Raised at a checkpoint after a cancel was requested; what was committed stays committed."""


class JobFailed(Exception):
    """A job could not do what was asked; the message is shown to the user as it is."""


def _no_progress(stage: str, fraction: float, message: str) -> None:
    return None


@dataclass
class Job:
    """The context a service method runs in: where progress goes and whether to stop."""

    progress_fn: ProgressFn = _no_progress
    cancel_event: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    def progress(self, stage: str, fraction: float, message: str = "") -> None:
        self.progress_fn(stage, min(max(fraction, 0.0), 1.0), message)

    def checkpoint(self) -> None:
        """Stop here if a cancel was requested."""
        if self.cancel_event.is_set():
            raise Cancelled("cancelled")

    def cancel(self) -> None:
        self.cancel_event.set()

    def eta(self, fraction: float) -> float | None:
        """Seconds left, extrapolated from the time spent so far."""
        if fraction <= 0.0:
            return None
        spent = time.monotonic() - self.started
        return spent * (1.0 - fraction) / fraction
