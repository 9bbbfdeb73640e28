"""Keep None (and True/False) alive under PySide6 builds that forget to take a reference when a method returns.

PySide6/shiboken6 6.12.0 on Python 3.11 drops one reference to None per call of any void method
(`QPainter.drawLine`, `QLabel.setText`, …): Python ≥ 3.12 makes None immortal so the bug is invisible there, but
on 3.11 the count reaches zero after some tens of thousands of calls — a few seconds of painting — and the
interpreter aborts with "Fatal Python error: none_dealloc". 6.11.3 does not leak (pyproject pins <6.12).
`guard()` measures the leak and, only if there is one, gives None, True and False reference counts no session
can exhaust. Call it once after importing Qt.
"""

from __future__ import annotations

import ctypes
import sys

PROBE_CALLS = 64
BALLAST = 2**48  # references: at one leak per call, centuries of painting


def none_leak_per_call() -> float:
    """References to None lost per void PySide call (0 on a correct build)."""
    from PySide6.QtGui import QPainterPath

    path = QPainterPath()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        path.closeSubpath()
    return (before - sys.getrefcount(None)) / PROBE_CALLS


_guarded = False


def guard() -> bool:
    """Make None's reference count unreachable if this PySide leaks it; True if the ballast was needed."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12) or none_leak_per_call() <= 0:
        return _guarded
    for singleton in (None, True, False):  # the same build also drops True on emits and slot calls
        ctypes.c_ssize_t.from_address(id(singleton)).value += BALLAST  # ob_refcnt is PyObject's first field
    _guarded = True
    return True
