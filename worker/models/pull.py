"""Fetching a model once, with progress and resume, so everything after runs offline.

Hugging Face models: the repository's file list (with sizes and hashes) decides which files to fetch (see
`cache.plan`); each is fetched into the user's hub cache in huggingface_hub's layout (`hub_download`), checked
against its published hash, and an unfinished `blobs/<etag>.incomplete` is resumed by the next pull. Demucs:
torch hub's checkpoint folder, resumed the same way.
`HF_HUB_OFFLINE` set means no download at all: a pull refuses and says how to run it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from worker.encoders.hf import DEFAULT_REVISION, OFFLINE_ENV, hub_cache_dir, hub_offline
from worker.models import cache, status, torch_hub
from worker.models.checksums import Expected, check
from worker.models.http_download import download
from worker.models.hub_download import DEFAULT_ENDPOINT, DamagedDownload, fetch_file, write_ref
from worker.models.manifest import BUNDLED, TORCH_HUB, ModelSpec
from worker.models.pull_manifest import build_manifest, manifest_path, write_manifest

Progress = Callable[[str, float, str], None]  # (stage, fraction, message), like Job.progress
STAGE = "pull"
ENDPOINT_ENV = "HF_ENDPOINT"  # a mirror or a private Hub


class PullError(RuntimeError):
    """A pull that cannot happen or did not complete; the message says what to do."""


@dataclass(frozen=True)
class PullResult:
    name: str
    path: str
    bytes: int
    files: int
    commit: str


def offline_refusal(spec: ModelSpec) -> str:
    return (f"cannot download {spec.label} (`{spec.repo_id}`): {OFFLINE_ENV} is set, so cuesteer stays offline. "
            f"Run `{OFFLINE_ENV}=0 {spec.pull_command}` once on a machine with internet (or copy a Hugging Face "
            f"cache that holds it to {hub_cache_dir()}); after that it loads offline.")


def pull(spec: ModelSpec, *, revision: str = DEFAULT_REVISION, on_progress: Progress | None = None,
         check_cancel: Callable[[], None] | None = None) -> PullResult:
    """Download `spec` (only what is missing) and record its published hashes; raises PullError."""
    if spec.source == BUNDLED:
        raise PullError(f"{spec.label} ships inside cuesteer ({status.bundled_path(spec)}); nothing to download. "
                        "If it is missing, reinstall cuesteer.")
    if hub_offline():
        raise PullError(offline_refusal(spec))
    progress = _ByteProgress(spec, on_progress, check_cancel)
    if spec.source == TORCH_HUB:
        return _pull_torch_hub(spec, progress)
    return _pull_hf(spec, revision, progress)


def _pull_hf(spec: ModelSpec, revision: str, progress: _ByteProgress) -> PullResult:
    from huggingface_hub import HfApi

    hub = hub_cache_dir()
    endpoint = os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT  # read now, like the cache and offline settings
    try:
        info = HfApi(endpoint=endpoint).model_info(spec.repo_id, revision=revision, files_metadata=True)
    except Exception as exc:  # network, auth, rate limits: all "cannot reach the Hub"
        raise PullError(f"cannot reach the Hugging Face Hub for `{spec.repo_id}` ({exc}). Check the connection "
                        f"and run `{spec.pull_command}` again; finished files are kept.") from exc
    siblings = {s.rfilename: s for s in info.siblings or ()}
    plan = cache.plan(spec.groups, siblings, spec.extras)
    if not plan.complete:
        raise PullError(f"`{spec.repo_id}` at {info.sha} lacks "
                        f"{'; '.join(g.describe() for g in plan.missing)}: cuesteer cannot load it.")
    published = {name: (siblings[name].size or 0, _published_hash(siblings[name])) for name in plan.files}
    progress.total = sum(size for size, _ in published.values())
    for name in plan.files:
        size, expected = published[name]
        if expected is None:
            raise PullError(f"the Hub published no hash for {name} of `{spec.repo_id}`; cannot verify it")
        progress.start_file(name, size)
        try:
            fetch_file(endpoint, spec.repo_id, info.sha, name, expected, size or None, hub, progress.absolute)
        except DamagedDownload as exc:
            raise PullError(f"{exc} — the damaged file was removed; run `{spec.pull_command}` again.") from exc
        except OSError as exc:  # URLError, HTTPError, timeouts, disk full
            raise PullError(f"downloading {name} of `{spec.repo_id}` failed ({exc}). Run `{spec.pull_command}` "
                            "again: it resumes where it stopped.") from exc
        progress.end_file()
    write_ref(spec.repo_id, revision, info.sha, hub)
    write_manifest(build_manifest(spec, info.sha, published), manifest_path(spec, info.sha, hub))
    done = status.model_status(spec, revision, hub)
    if not done.present:
        raise PullError(f"downloaded `{spec.repo_id}` but the cache at {hub} still lacks "
                        f"{'; '.join(done.missing)}")
    progress.finish()
    return PullResult(spec.name, done.path, done.bytes_on_disk, len(done.files), done.commit)


def _pull_torch_hub(spec: ModelSpec, progress: _ByteProgress) -> PullResult:
    target = torch_hub.checkpoint_path(spec.repo_id)
    if not target.is_file():
        progress.start_file(spec.repo_id, spec.approx_bytes)
        try:
            download(spec.url, target, on_bytes=progress.absolute)
        except OSError as exc:
            raise PullError(f"downloading {spec.url} failed ({exc}). Run `{spec.pull_command}` again: it resumes "
                            "where it stopped.") from exc
    state, detail = check(target, torch_hub.expected_hash(target.name))
    if state != "ok":
        bad = target.with_name(target.name + ".corrupt")
        target.replace(bad)
        raise PullError(f"{target.name} does not match its checksum ({detail}); moved to {bad}. "
                        f"Run `{spec.pull_command}` again.")
    progress.finish()
    return PullResult(spec.name, str(target), target.stat().st_size, 1, "")


def _published_hash(sibling: Any) -> Expected | None:
    lfs = getattr(sibling, "lfs", None)
    sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
    if sha256:
        return Expected("sha256", sha256)
    blob_id = getattr(sibling, "blob_id", None)
    return Expected("sha1", blob_id) if blob_id else None


class _ByteProgress:
    """Bytes across all files of one pull → (stage, fraction, message); also the cancel point during a file."""

    def __init__(self, spec: ModelSpec, on_progress: Progress | None, check_cancel: Callable[[], None] | None):
        self.spec = spec
        self.on_progress = on_progress
        self.check_cancel = check_cancel
        self.total = 0
        self.finished = 0  # bytes of completed files
        self.current = 0  # bytes of the file in flight (including a resumed head)
        self.name = ""

    def start_file(self, name: str, size: int) -> None:
        self.name, self.current = name, 0
        if self.check_cancel:
            self.check_cancel()
        self.report()

    def end_file(self) -> None:
        self.finished += self.current
        self.current = 0

    def absolute(self, done: int, total: int) -> None:
        self.current = done
        self.total = max(self.total, total)
        if self.check_cancel:
            self.check_cancel()
        self.report()

    def report(self) -> None:
        if self.on_progress is None:
            return
        done = self.finished + self.current
        fraction = min(done / self.total, 1.0) if self.total else 0.0
        self.on_progress(STAGE, fraction, f"{self.spec.name} {self.name} {_mb(done)}/{_mb(self.total)} MB")

    def finish(self) -> None:
        if self.on_progress is not None:
            self.on_progress(STAGE, 1.0, f"{self.spec.name} done")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"
