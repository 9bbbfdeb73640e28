"""The hashes and sizes the Hub published for the files a pull fetched, kept beside the cached repository.

Blob names already carry these hashes where the cache uses symlinks; this record covers caches made of copies
(Windows without symlink rights) and says which commit and files a pull chose. It lives in
`models--org--name/.cuesteer/<commit>.json`, a hidden folder like huggingface_hub's own `.no_exist/`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from worker.models import cache
from worker.models.checksums import Expected
from worker.models.manifest import ModelSpec

FOLDER = ".cuesteer"
FORMAT = 1


def manifest_path(spec: ModelSpec, commit: str, hub_cache: Path | None = None) -> Path:
    return cache.repo_dir(spec.repo_id, hub_cache) / FOLDER / f"{commit}.json"


def build_manifest(spec: ModelSpec, commit: str, files: dict[str, tuple[int, Expected | None]]) -> dict:
    """name → (size, published hash) as one JSON-ready document."""
    return {"format": FORMAT, "model": spec.name, "repo_id": spec.repo_id, "commit": commit,
            "files": {name: {"size": size, "hash": None if h is None else {"kind": h.kind, "value": h.value}}
                      for name, (size, h) in sorted(files.items())}}


def write_manifest(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(document, f, indent=1)
    os.replace(tmp, path)


def read_manifest(spec: ModelSpec, commit: str, hub_cache: Path | None = None) -> dict[str, Expected]:
    """name → published hash from a previous pull of this commit; empty when there was none (or it is unreadable)."""
    path = manifest_path(spec, commit, hub_cache)
    try:
        files = json.loads(path.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {name: Expected(entry["hash"]["kind"], entry["hash"]["value"])
            for name, entry in files.items() if isinstance(entry, dict) and entry.get("hash")}
