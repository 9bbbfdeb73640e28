"""Output-folder rules for every exporter: stay inside the folder, never overwrite without force, write atomically."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME = 120


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what a plain open() would have given; mkstemp alone gives 0600


class ExportError(Exception):
    """An export that must not proceed; the message tells the user what to change."""


def safe_name(text: str, fallback: str = "cue") -> str:
    """A file-name stem without separators or odd characters ("../x" cannot escape the folder)."""
    name = UNSAFE.sub("_", text).strip(" ._")[:MAX_NAME]
    return name or fallback


def target(out_dir: Path, file_name: str) -> Path:
    """`out_dir/file_name`, refusing anything that would resolve outside `out_dir`."""
    root = out_dir.resolve()
    path = (root / file_name).resolve()
    if path.parent != root:
        raise ExportError(f"refusing to write {file_name!r} outside {root}")
    return path


def check_free(paths: list[Path], force: bool) -> None:
    """Fail before writing anything if one of the files exists and `force` is off."""
    existing = [p.name for p in paths if p.exists()]
    if existing and not force:
        raise ExportError(f"{len(existing)} file(s) already exist in {paths[0].parent} ({', '.join(existing[:5])}); "
                          "use --force to overwrite")


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write a temporary file beside `path`, fsync it, then rename it over `path`."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
