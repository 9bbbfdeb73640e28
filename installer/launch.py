"""One frozen entry point for the bundle's three programs, chosen by the executable's own name.

PyInstaller analyses this script once (torch and transformers take minutes to analyse) and the spec makes three
small launchers from it: `cuesteer-worker`, `cuesteer` (the CLI) and `cuesteer-app`. They share one folder of
libraries. A launcher also accepts `-m worker.server ...` / `-m worker.cli.main ...`, the way the desktop app
starts its worker from source (`sys.executable -m worker.server`), so the same code works frozen.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

WORKER, CLI, APP = "cuesteer-worker", "cuesteer", "cuesteer-app"
MODULES = {"worker.server": WORKER, "worker.cli.main": CLI, "desktop.app": APP}


def program_name(executable: str) -> str:
    """`cuesteer-worker.exe` / `.../MacOS/cuesteer-app` → the program it stands for (the CLI by default)."""
    stem = Path(executable).name.lower()
    for suffix in (".exe", ".bin"):
        stem = stem.removesuffix(suffix)
    return stem if stem in (WORKER, APP) else CLI


def choose(executable: str, argv: list[str]) -> tuple[str, list[str]]:
    """(program, its arguments): `-m MODULE` first, else the executable's name."""
    if len(argv) >= 2 and argv[0] == "-m" and argv[1] in MODULES:
        return MODULES[argv[1]], argv[2:]
    return program_name(executable), argv


def run(name: str) -> int:
    if name == WORKER:
        from worker.server import main
    elif name == APP:
        from desktop.app import main
    else:
        from worker.cli.main import main
    return int(main() or 0)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # DataLoader/ProcessPool children re-enter here on Windows and macOS
    program, rest = choose(sys.executable, sys.argv[1:])
    sys.argv = [sys.argv[0], *rest]
    sys.exit(run(program))
