"""The None-refcount guard: after it, void Qt calls cannot run None's reference count down to zero."""

from __future__ import annotations

import subprocess
import sys

from desktop.picture.pyside_guard import guard, none_leak_per_call

CALLS = 50_000  # several times the references None has in a fresh interpreter with Qt loaded


def test_guard_holds_through_many_void_calls() -> None:
    code = (
        "import sys\n"
        "from PySide6.QtGui import QPainterPath\n"
        "from desktop.picture.pyside_guard import guard, none_leak_per_call\n"
        "leak = none_leak_per_call()\n"
        "guarded = guard()\n"
        "path = QPainterPath()\n"
        f"for _ in range({CALLS}): path.closeSubpath()\n"
        "print(leak, guarded, sys.getrefcount(None) > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-500:]
    leak, guarded, alive = out.stdout.split()
    assert alive == "True"
    assert (guarded == "True") == (float(leak) > 0)  # the ballast goes on only where PySide leaks


def test_guard_is_idempotent() -> None:
    first = guard()
    before = sys.getrefcount(None)
    assert guard() == first
    assert abs(sys.getrefcount(None) - before) < 1000  # no second ballast
    assert none_leak_per_call() >= 0
