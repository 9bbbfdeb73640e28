"""Checking cached model files against the hashes the Hub published for them.

The Hub's etag is the file's sha256 for LFS files (all weights) and its git blob sha1 for small text files;
`huggingface_hub` names each cached blob after that etag, so the symlink in the snapshot says what the file
must hash to. Where the cache holds copies instead of symlinks (Windows without developer mode) the manifest
written at pull time (`pull_manifest`) carries the same hashes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")
OK, CORRUPT, MISSING, UNVERIFIED = "ok", "corrupt", "missing", "unverified"


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """git's object id of the file's content: sha1 of `blob <size>\\0` + content (the Hub's etag for non-LFS)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Expected:
    """What a file must hash to: `kind` is "sha256", "sha1" (git blob) or "sha256-prefix" (torch hub names)."""

    kind: str
    value: str


def expected_from_blob(path: Path) -> Expected | None:
    """The hash a snapshot file's blob name promises, when the snapshot links into `blobs/`."""
    if not path.is_symlink():
        return None
    name = path.resolve().name
    if SHA256_HEX.match(name):
        return Expected("sha256", name)
    if SHA1_HEX.match(name):
        return Expected("sha1", name)
    return None


def check(path: Path, expected: Expected | None, on_bytes: Callable[[int], None] | None = None) -> tuple[str, str]:
    """(status, detail) for one file: OK, CORRUPT (with both hashes), MISSING or UNVERIFIED."""
    if not path.is_file():
        return MISSING, "file missing (dangling link or deleted blob)"
    if expected is None:
        return UNVERIFIED, "no published hash recorded for this file"
    if expected.kind == "sha1":
        actual = git_blob_sha1(path)
        if on_bytes:
            on_bytes(path.stat().st_size)
        good = actual == expected.value
    else:
        actual = sha256_file(path, on_bytes)
        good = actual.startswith(expected.value) if expected.kind == "sha256-prefix" else actual == expected.value
    if good:
        return OK, f"{expected.kind} {expected.value[:12]}"
    return CORRUPT, f"{expected.kind} is {actual[:12]}…, expected {expected.value[:12]}…"
