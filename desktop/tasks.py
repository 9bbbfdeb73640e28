"""Local background work for the GUI (decoding a waveform thumbnail, reading audio to audition): `run_task(fn,
on_done)` runs `fn()` on Qt's thread pool and calls `on_done(result, error)` back on the GUI thread — Picard's
`run_task`/`to_main`. Worker jobs go through `desktop.bridge` instead; this is for work on the desktop's side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

OnDone = Callable[[Any, "BaseException | None"], None]


@dataclass(frozen=True)
class _Outcome:
    """One Python object per finished task: queued signals carry it whole (never a bare None argument, which
    PySide6's queued marshalling has been seen to mis-count at interpreter exit)."""

    on_done: OnDone
    result: Any
    error: BaseException | None


class _ToMain(QObject):
    """Lives on the GUI thread; its queued signal carries a finished task's callback and outcome there."""

    done = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _deliver(self, outcome: _Outcome) -> None:
        try:
            outcome.on_done(outcome.result, outcome.error)
        except Exception:
            log.exception("task callback raised")


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], on_done: OnDone, to_main: _ToMain):
        super().__init__()
        self.fn, self.on_done, self.to_main = fn, on_done, to_main

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except BaseException as exc:  # handed to the GUI thread, never lost
            result, error = None, exc
        self.to_main.done.emit(_Outcome(self.on_done, result, error))


_to_main: _ToMain | None = None


def run_task(fn: Callable[[], Any], on_done: OnDone) -> None:
    """Call from the GUI thread. `fn` must not touch widgets; copy what it needs before calling."""
    global _to_main
    if _to_main is None:
        _to_main = _ToMain()
    QThreadPool.globalInstance().start(_Task(fn, on_done, _to_main))
