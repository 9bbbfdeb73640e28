"""A Hugging Face hub cache laid out exactly as `huggingface_hub` writes it, built from a flat snapshot.

`tests/worker/encoders/tiny_models.save_to_hub_cache` writes real files into `snapshots/<commit>/`; the real
cache keeps each file once in `blobs/<etag>` (sha256 for LFS files such as weights, git blob sha1 for small
text files) with a relative symlink in the snapshot. `to_blob_layout` turns the first into the second.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".th", ".model", ".h5", ".msgpack", ".onnx")


def etag(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(LFS_SUFFIXES):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def to_blob_layout(snapshot: Path) -> dict[str, Path]:
    """Move every file of `snapshot` into `../../blobs/<etag>` and link it back; name → blob path."""
    blobs = snapshot.parent.parent / "blobs"
    blobs.mkdir(exist_ok=True)
    out = {}
    for path in sorted(p for p in snapshot.rglob("*") if p.is_file() and not p.is_symlink()):
        blob = blobs / etag(path)
        os.replace(path, blob)
        path.symlink_to(os.path.relpath(blob, path.parent))
        out[path.relative_to(snapshot).as_posix()] = blob
    return out
