"""Reading the Hugging Face hub cache as `huggingface_hub` lays it out, without importing it.

    <cache>/models--org--name/refs/main              the commit that `main` pointed to when last fetched
    <cache>/models--org--name/snapshots/<commit>/F    a symlink to ../../blobs/<etag> (a copy on Windows
                                                      without symlink rights)
    <cache>/models--org--name/blobs/<etag>            the file; etag = sha256 for LFS files, git blob sha1 else
    <cache>/models--org--name/blobs/<etag>.incomplete a download in progress (resumed by the next pull)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from worker.encoders.hf import DEFAULT_REVISION, hub_cache_dir
from worker.models.manifest import FileGroup

INCOMPLETE_SUFFIX = ".incomplete"


def repo_dir(repo_id: str, cache: Path | None = None) -> Path:
    return (cache or hub_cache_dir()) / ("models--" + repo_id.replace("/", "--"))


def snapshot_dir(repo_id: str, revision: str = DEFAULT_REVISION, cache: Path | None = None) -> Path | None:
    """The snapshot folder `revision` (a branch name or a commit) resolves to, or None when nothing is cached."""
    root = repo_dir(repo_id, cache)
    ref = root / "refs" / revision
    commit = ref.read_text().strip() if ref.is_file() else revision
    snapshot = root / "snapshots" / commit
    return snapshot if snapshot.is_dir() else None


def snapshot_files(snapshot: Path) -> dict[str, Path]:
    """Relative POSIX name → path of every readable file in a snapshot (a dangling symlink is not a file)."""
    return {p.relative_to(snapshot).as_posix(): p for p in sorted(snapshot.rglob("*")) if p.is_file()}


def partial_bytes(repo_id: str, cache: Path | None = None) -> int:
    """Bytes of unfinished downloads waiting to be resumed."""
    blobs = repo_dir(repo_id, cache) / "blobs"
    return sum(p.stat().st_size for p in blobs.glob("*" + INCOMPLETE_SUFFIX)) if blobs.is_dir() else 0


@dataclass(frozen=True)
class Plan:
    """The files that satisfy a model's groups, and the groups nothing satisfies."""

    files: tuple[str, ...]
    missing: tuple[FileGroup, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def plan(groups: Sequence[FileGroup], names: Iterable[str], extras: Sequence[str] = ()) -> Plan:
    """For each group, the first alternative whose patterns all match some of `names`, plus the extras present.

    Used on a repository's file list (what to download) and on a snapshot's (is it complete)."""
    names = sorted(set(names))
    chosen: list[str] = []
    missing: list[FileGroup] = []
    for group in groups:
        for alternative in group.alternatives:
            matches = [fnmatch.filter(names, pattern) for pattern in alternative]
            if all(matches):
                chosen.extend(name for found in matches for name in found)
                break
        else:
            missing.append(group)
    chosen.extend(name for name in extras if name in names)
    return Plan(files=tuple(dict.fromkeys(chosen)), missing=tuple(missing))
