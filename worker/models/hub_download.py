"""Hub files into the Hugging Face cache in huggingface_hub's own layout (see `cache`), resumably.

Each file is fetched from `<endpoint>/<repo>/resolve/<commit>/<name>` into `blobs/<etag>` (etag = the
published sha256 for LFS files, the git blob sha1 otherwise), checked against that hash, then linked from
`snapshots/<commit>/<name>` by a relative symlink (a copy where symlinks are not allowed); `refs/<revision>`
names the commit last. transformers and huggingface_hub read the result as if they had written it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

from worker.models import cache
from worker.models.checksums import Expected, check
from worker.models.http_download import OnBytes, download, partial_path

DEFAULT_ENDPOINT = "https://huggingface.co"


class DamagedDownload(RuntimeError):
    """A downloaded file does not hash to what the Hub published (removed so the next pull starts fresh)."""


def resolve_url(endpoint: str, repo_id: str, commit: str, name: str) -> str:
    return f"{endpoint.rstrip('/')}/{repo_id}/resolve/{commit}/{quote(name)}"


def blob_path(repo_id: str, expected: Expected, hub: Path) -> Path:
    return cache.repo_dir(repo_id, hub) / "blobs" / expected.value


def fetch_file(endpoint: str, repo_id: str, commit: str, name: str, expected: Expected, size: int | None,
               hub: Path, on_bytes: OnBytes | None = None) -> Path:
    """The file's snapshot path, downloading (or resuming) its blob when it is not already complete."""
    blob = blob_path(repo_id, expected, hub)
    if not blob.is_file():
        download(resolve_url(endpoint, repo_id, commit, name), blob, on_bytes, size)
        status, detail = check(blob, expected)
        if status != "ok":
            blob.unlink()
            raise DamagedDownload(f"{name}: {detail}")
    elif on_bytes:
        on_bytes(blob.stat().st_size, blob.stat().st_size)
    return link_snapshot(repo_id, commit, name, blob, hub)


def link_snapshot(repo_id: str, commit: str, name: str, blob: Path, hub: Path) -> Path:
    target = cache.repo_dir(repo_id, hub) / "snapshots" / commit / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    try:
        target.symlink_to(os.path.relpath(blob, target.parent))
    except OSError:  # Windows without developer mode: a copy, as huggingface_hub does
        shutil.copyfile(blob, target)
    return target


def write_ref(repo_id: str, revision: str, commit: str, hub: Path) -> None:
    if revision == commit:
        return
    ref = cache.repo_dir(repo_id, hub) / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(ref.name + ".tmp")
    tmp.write_text(commit)
    os.replace(tmp, ref)


def partial_size(repo_id: str, expected: Expected, hub: Path) -> int:
    partial = partial_path(blob_path(repo_id, expected, hub))
    return partial.stat().st_size if partial.exists() else 0
