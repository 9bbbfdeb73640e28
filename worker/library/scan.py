"""Recursive scan of library folders: media files with size and mtime, and a readable error for every folder or
file that cannot be visited. Survives symlink loops, permission errors and non-UTF-8 names."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from worker.library.decode import MEDIA_EXTENSIONS


@dataclass(frozen=True)
class Found:
    path: str  # absolute, as the OS spells it (may hold surrogate escapes for non-UTF-8 bytes)
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class ScanError:
    path: str
    reason: str


def scan(roots: Iterable[str | os.PathLike[str]]) -> Iterator[Found | ScanError]:
    """Yield every media file under `roots` once (by real path), and a ScanError for what cannot be read."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for root in roots:
        root_path = Path(root).expanduser().absolute()
        try:
            st = root_path.stat()
        except OSError as exc:
            yield ScanError(str(root_path), f"cannot open: {exc.strerror or exc}")
            continue
        if stat.S_ISREG(st.st_mode):
            if str(root_path) not in seen_files:
                seen_files.add(str(root_path))
                yield Found(str(root_path), st.st_size, st.st_mtime_ns)
            continue
        yield from _walk(root_path, seen_dirs, seen_files)


def _walk(top: Path, seen_dirs: set[tuple[int, int]], seen_files: set[str]) -> Iterator[Found | ScanError]:
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            yield ScanError(folder, f"cannot open folder: {exc.strerror or exc}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:  # symlink loop or a folder reached twice
            continue
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield ScanError(folder, f"cannot list folder: {exc.strerror or exc}")
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=True):
                    subdirs.append(entry.path)
                    continue
                if not entry.is_file(follow_symlinks=True):
                    continue
                if os.path.splitext(entry.name)[1].lower() not in MEDIA_EXTENSIONS:
                    continue
                real = os.path.realpath(entry.path)
                if real in seen_files:
                    continue
                seen_files.add(real)
                fst = entry.stat(follow_symlinks=True)
                yield Found(entry.path, fst.st_size, fst.st_mtime_ns)
            except OSError as exc:
                yield ScanError(entry.path, f"cannot read: {exc.strerror or exc}")
        stack.extend(reversed(subdirs))
