"""The in-process API: every job the product can do is one method here.

The CLI calls these directly (or through `--connect`), the ZeroMQ server exposes them to the desktop app.
Each method takes keyword parameters that travel over msgpack, a `Job` for progress and cancel, and returns a
JSON-able dict. `LANES` says which methods are heavy (queued behind each other) and which are interactive.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from worker import settings
from worker.encoders.base import Encoder, EncoderError
from worker.encoders.registry import get_encoder
from worker.jobs import Job, JobFailed
from worker.library.catalogue import Library, LibraryError
from worker.library.decode import DecodeError, decode_mono
from worker.library.indexer import index_folders
from worker.library.lock import LibraryBusy, WriteLock
from worker.retrieval.diversity import diversity_report, result_label
from worker.retrieval.searcher import Searcher

HEAVY = "heavy"
INTERACTIVE = "interactive"
DEFAULT_K = 10


class Service:
    LANES: dict[str, str] = {
        "status": INTERACTIVE,
        "search": INTERACTIVE,
        "embed": INTERACTIVE,
        "index": HEAVY,
    }

    def __init__(self, library_dir: str | os.PathLike[str] | None = None, encoder: str | None = None, *,
                 hold_write_lock: bool = False):
        self.library_dir = settings.library_dir(library_dir)
        self.encoder_name = encoder
        self._library: Library | None = None
        self._searcher: Searcher | None = None
        self._lock = WriteLock(self.library_dir)
        if hold_write_lock:
            self._lock.acquire()

    # -- plumbing -----------------------------------------------------------------------------------
    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = Library(self.library_dir)
        return self._library

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.library)
        return self._searcher

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
        self._lock.release()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the library's write lock for the duration (unless this process holds it already)."""
        if self._lock.held:
            yield
            return
        try:
            self._lock.acquire()
        except LibraryBusy as exc:
            raise JobFailed(str(exc)) from exc
        try:
            yield
        finally:
            self._lock.release()

    def _query_encoder(self) -> Encoder:
        """The encoder the library's vectors were made with: queries must land in the same space."""
        stamped = self.library.encoder
        if stamped is None:
            raise JobFailed(f"the library at {self.library_dir} is empty: run `cuesteer index PATH` first")
        encoder = get_encoder(stamped[0])
        if encoder.version != stamped[1]:
            raise JobFailed(
                f"the library was indexed with {stamped[0]} {stamped[1]} but this build has {encoder.version}; "
                f"re-index with `cuesteer index PATH --reindex`"
            )
        return encoder

    # -- jobs -----------------------------------------------------------------------------------------
    def status(self, *, job: Job) -> dict:
        counts = self.library.counts()
        stamped = self.library.encoder
        return {
            "library": str(self.library_dir),
            "tracks": counts.get("ok", 0),
            "errors": counts.get("error", 0),
            "duplicates": counts.get("duplicate", 0),
            "vectors": counts.get("vectors", 0),
            "encoder": {"id": stamped[0], "version": stamped[1]} if stamped else None,
            "generation": self.library.generation,
            "device": _device(),
        }

    def index(self, *, job: Job, paths: list[str], reindex: bool = False, encoder: str | None = None) -> dict:
        name = encoder or self.encoder_name
        with self._writing():
            try:
                if reindex:
                    self.library.clear_vectors()
                stamped = self.library.encoder
                chosen = get_encoder(name or (stamped[0] if stamped else None))
                report = index_folders(self.library, chosen, paths, job=job)
            except (LibraryError, EncoderError) as exc:
                raise JobFailed(str(exc)) from exc
        out = report.to_dict()
        out["encoder"] = chosen.id
        return out

    def search(self, *, job: Job, text: str | None = None, like: str | None = None, like_at: float | None = None,
               k: int = DEFAULT_K) -> dict:
        if not text and not like:
            raise JobFailed("nothing to search for: give --text or --like")
        try:
            encoder = self._query_encoder()
            query, exclude = self._query_vector(encoder, text=text, like=like, like_at=like_at)
            hits = self.searcher.query(query[None, :], k, exclude_tracks=exclude)
        except (LibraryError, EncoderError, DecodeError, ValueError) as exc:
            raise JobFailed(str(exc)) from exc
        vectors = self.searcher.track_vectors([h.track_id for h in hits])
        labels = [result_label(h.path, h.artist, None) for h in hits]
        return {"results": [h.to_dict() for h in hits], "diversity": diversity_report(vectors, labels),
                "seed": None, "mode": "query", "encoder": encoder.id}

    def embed(self, *, job: Job, texts: list[str] | None = None, audio: list[str] | None = None,
              images: list[str] | None = None, encoder: str | None = None) -> dict:
        try:
            enc = get_encoder(encoder or self.encoder_name)
            rows: list[np.ndarray] = []
            if texts:
                rows.append(enc.embed_text(texts))
            for item in audio or []:
                path, at = _split_at(item)
                rows.append(enc.embed_audio([_clip(path, at, enc.sample_rate)]))
            if images:
                rows.append(enc.embed_image(images))
        except (EncoderError, DecodeError) as exc:
            raise JobFailed(str(exc)) from exc
        if not rows:
            raise JobFailed("nothing to embed: give --text, --audio or --image")
        matrix = np.concatenate(rows).astype(np.float32)
        return {"encoder": enc.id, "version": enc.version, "dim": int(matrix.shape[1]),
                "vectors": matrix.tolist()}

    def _query_vector(self, encoder: Encoder, *, text: str | None, like: str | None,
                      like_at: float | None) -> tuple[np.ndarray, set[int]]:
        parts = []
        exclude: set[int] = set()
        if text:
            parts.append(encoder.embed_text([text])[0])
        if like:
            parts.append(encoder.embed_audio([_clip(like, like_at, encoder.sample_rate)])[0])
            row = self.library.track_by_path(str(Path(like).expanduser().absolute()))
            if row is not None:
                exclude.add(row["id"])  # "more like this" means other tracks
        query = np.mean(parts, axis=0)
        return (query / max(float(np.linalg.norm(query)), 1e-12)).astype(np.float32), exclude


def _clip(path: str, at: float | None, sample_rate: int) -> np.ndarray:
    """The 10-s window of `path` starting at `at` seconds (or the first one)."""
    start = max(at or 0.0, 0.0)
    wave = decode_mono(path, sample_rate, max_seconds=start + settings.WINDOW_SECONDS)
    clip = wave[int(start * sample_rate):]
    if len(clip) < sample_rate // 2:
        raise JobFailed(f"{path} has no audio at {start:g} s (it is {len(wave) / sample_rate:.1f} s long)")
    return clip


def _split_at(spec: str) -> tuple[str, float | None]:
    """FILE@SECONDS → (FILE, SECONDS); a path that merely contains '@' stays whole when it exists."""
    if "@" in spec and not os.path.exists(spec):
        path, _, at = spec.rpartition("@")
        try:
            return path, float(at)
        except ValueError:
            pass
    return spec, None


def _device() -> str:
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
