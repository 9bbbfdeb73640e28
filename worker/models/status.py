"""Is a model on this machine, where, how big, and do its files still match their published hashes?"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from worker.encoders.hf import DEFAULT_REVISION, hub_cache_dir
from worker.models import cache, checksums, torch_hub
from worker.models.http_download import partial_path
from worker.models.manifest import BUNDLED, HF, TORCH_HUB, ModelSpec
from worker.models.pull_manifest import read_manifest

PRESENT, MISSING, INCOMPLETE = "present", "missing", "incomplete"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding worker/ (the bundle's _internal/)


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str  # PRESENT, MISSING or INCOMPLETE
    path: str  # snapshot folder / checkpoint file when present, else where it would go
    bytes_on_disk: int
    files: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # descriptions of the missing file groups
    commit: str = ""
    partial_bytes: int = 0  # unfinished download waiting to be resumed
    package_missing: str = ""  # the optional package its code path needs, when not installed

    @property
    def present(self) -> bool:
        return self.state == PRESENT


@dataclass
class FileCheck:
    path: str
    status: str  # checksums.OK / CORRUPT / MISSING / UNVERIFIED
    detail: str


@dataclass
class Verification:
    name: str
    state: str
    files: list[FileCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == PRESENT and all(f.status in (checksums.OK, checksums.UNVERIFIED) for f in self.files)

    @property
    def problems(self) -> list[FileCheck]:
        return [f for f in self.files if f.status in (checksums.CORRUPT, checksums.MISSING)]


def bundled_path(spec: ModelSpec) -> Path:
    return PACKAGE_ROOT / spec.repo_id


def model_status(spec: ModelSpec, revision: str = DEFAULT_REVISION, hub_cache: Path | None = None) -> ModelStatus:
    """Reads directory listings and sizes only (no hashing): cheap enough for `list`, `doctor` and the app."""
    package = spec.needs_package if spec.needs_package and not _importable(spec.needs_package) else ""
    if spec.source == BUNDLED or spec.source == TORCH_HUB:
        path = bundled_path(spec) if spec.source == BUNDLED else torch_hub.checkpoint_path(spec.repo_id)
        partial = partial_path(path)
        present = path.is_file()
        return ModelStatus(spec.name, PRESENT if present else MISSING, str(path),
                           path.stat().st_size if present else 0, files=(path.name,) if present else (),
                           missing=() if present else (path.name,),
                           partial_bytes=partial.stat().st_size if partial.exists() else 0, package_missing=package)
    hub = hub_cache or hub_cache_dir()
    snapshot = cache.snapshot_dir(spec.repo_id, revision, hub)
    partial = cache.partial_bytes(spec.repo_id, hub)
    if snapshot is None:
        return ModelStatus(spec.name, MISSING, str(cache.repo_dir(spec.repo_id, hub)), 0,
                           missing=tuple(g.describe() for g in spec.groups), partial_bytes=partial,
                           package_missing=package)
    found = cache.snapshot_files(snapshot)
    plan = cache.plan(spec.groups, found, spec.extras)
    size = sum(found[name].stat().st_size for name in plan.files)
    return ModelStatus(spec.name, PRESENT if plan.complete else INCOMPLETE, str(snapshot), size, files=plan.files,
                       missing=tuple(g.describe() for g in plan.missing), commit=snapshot.name,
                       partial_bytes=partial, package_missing=package)


def verify(spec: ModelSpec, revision: str = DEFAULT_REVISION, hub_cache: Path | None = None,
           on_bytes: Callable[[int], None] | None = None) -> Verification:
    """Hash every file the model uses against the Hub's published hash (blob name or pull manifest)."""
    status = model_status(spec, revision, hub_cache)
    result = Verification(spec.name, status.state)
    if spec.source == HF:
        snapshot = Path(status.path)
        recorded = read_manifest(spec, status.commit, hub_cache) if status.commit else {}
        for name in status.files:
            path = snapshot / name
            expected = checksums.expected_from_blob(path) or recorded.get(name)
            result.files.append(FileCheck(name, *checksums.check(path, expected, on_bytes)))
        for description in status.missing:
            result.files.append(FileCheck(description, checksums.MISSING, "required file not in the snapshot"))
    elif status.present:
        path = Path(status.path)
        expected = torch_hub.expected_hash(path.name) if spec.source == TORCH_HUB else None
        result.files.append(FileCheck(path.name, *checksums.check(path, expected, on_bytes)))
    return result


def _importable(package: str) -> bool:
    return importlib.util.find_spec(package) is not None
