"""The installed PySide6 keeps Python's reference counts straight: PySide6 6.12.0 under Python 3.11 dropped a
reference to True on every `emit()` and to None on every Python slot call, so any app aborted ("none_dealloc")
after a few thousand events — pinned out in pyproject; this test catches such a build before users do."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Qt, QTimer, Signal

EMITS = 500


class _Emitter(QObject):
    bare = Signal()
    carrying = Signal(object)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def test_emits_and_slot_calls_keep_singleton_refcounts(qapp) -> None:
    emitter = _Emitter()
    seen: list[object] = []
    emitter.bare.connect(lambda: None)
    emitter.carrying.connect(seen.append, Qt.ConnectionType.QueuedConnection)
    timer = QTimer()
    timer.setInterval(0)
    fired = []
    timer.timeout.connect(lambda: fired.append(1))
    before = _counts()
    for i in range(EMITS):
        emitter.bare.emit()
        emitter.carrying.emit({"value": None, "ok": True, "i": i})
    timer.start()
    while len(fired) < EMITS or len(seen) < EMITS:
        qapp.processEvents()
    timer.stop()
    seen.clear()
    fired.clear()
    qapp.processEvents()
    after = _counts()
    assert all(abs(a - b) < EMITS // 10 for a, b in zip(before, after, strict=True)), (before, after)
