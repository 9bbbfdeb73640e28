"""Incremental, resumable indexing of music folders into a Library.

Unchanged files (same size and mtime) are skipped; a file whose content hash matches a vanished track is a
move and keeps its vectors; same bytes at two paths are embedded once and both paths are listed; tracks gone
from disk are tombstoned, then compacted. Every batch is one transaction, so a killed indexer resumes where it
stopped. The FAISS file is rebuilt from the catalogue at the end (atomically).

Worker processes start while files are still being hashed, and the largest files go first, so no worker idles
at the start or sits alone on a long file at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worker.encoders.base import Encoder
from worker.jobs import Job
from worker.library.catalogue import KIND_TRACK, KIND_WINDOW, Library, now
from worker.library.embed_file import Embedded
from worker.library.fingerprint import content_hash
from worker.library.pool import FilePool, start_pool, wants_processes
from worker.library.scan import Found, ScanError, scan
from worker.library.tags import read_tags
from worker.library.vector_index import build_index, save_index
from worker.settings import BATCH_TRACKS, PROCESS_POOL_MIN_BYTES

POLL_S = 0.1  # how often a wait for workers checks for a cancel
# (path, (size, mtime_ns) now or None when gone) -> True for a file still being written: left alone this time
Unsettled = Callable[[str, "tuple[int, int] | None"], bool]


@dataclass
class IndexReport:
    indexed: int = 0
    skipped: int = 0
    moved: int = 0
    duplicates: int = 0
    deleted: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    audio_seconds: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {"indexed": self.indexed, "skipped": self.skipped, "moved": self.moved,
                "duplicates": self.duplicates, "deleted": self.deleted, "errors": self.errors,
                "audio_seconds": round(self.audio_seconds, 3), "seconds": round(self.seconds, 3)}


@dataclass
class _Todo:
    found: Found
    hash: str
    existing_id: int | None  # a row at this path whose content changed


def index_folders(library: Library, encoder: Encoder, roots: Sequence[str | os.PathLike[str]], *,
                  job: Job | None = None, workers: int | None = None,
                  batch_tracks: int = BATCH_TRACKS, process_min_bytes: int = PROCESS_POOL_MIN_BYTES,
                  unsettled: Unsettled | None = None) -> IndexReport:
    """Bring the library up to date with `roots`. The caller holds the library's write lock.

    `workers` (default: the cores) files are embedded at once, in worker processes when the encoder is numpy
    code and there are at least `process_min_bytes` to embed, else in threads. Paths `unsettled` says are still
    changing (see watch.py) are neither embedded nor tombstoned this time."""
    job = job or Job()
    started = time.monotonic()
    report = IndexReport()
    library.stamp_encoder(encoder.id, encoder.version, encoder.dim)
    roots = [str(Path(r).expanduser().absolute()) for r in roots]

    job.progress("scan", 0.0, "looking for music files")
    found: list[Found] = []
    for item in scan(roots):
        if isinstance(item, ScanError):
            report.errors.append({"path": item.path, "reason": item.reason})
        else:
            found.append(item)
        if len(found) % 500 == 0:
            job.checkpoint()
    job.progress("scan", 1.0, f"{len(found)} files found")
    held: set[str] = set()
    if unsettled is not None:
        held = {f.path for f in found if unsettled(f.path, (f.size, f.mtime_ns))}
        found = [f for f in found if f.path not in held]

    rows = {os.fsdecode(r["path_bytes"]): r for r in library.tracks() if r["status"] != "deleted"}
    changed = [f for f in found if not _unchanged(rows.get(f.path), f)]
    processes = wants_processes(encoder) and sum(f.size for f in changed) >= process_min_bytes
    starting = start_pool(encoder, min(workers or _cores(), len(changed)), processes=processes) if changed else None
    try:
        todo, duplicates = _plan(library, rows, found, roots, report, job, _held(held, unsettled))
        todo.sort(key=lambda t: t.found.size, reverse=True)  # the longest files must not be the last ones
        _embed_batches(library, todo, report, job, starting, batch_tracks)
    finally:
        if starting is not None:
            _close_when_started(starting)
    _record_duplicates(library, duplicates, report)
    report.deleted += library.compact()
    rebuild_index(library, job)
    report.seconds = time.monotonic() - started
    job.progress("done", 1.0, f"{report.indexed} indexed, {report.skipped} unchanged, {len(report.errors)} errors")
    return report


def rebuild_index(library: Library, job: Job | None = None) -> None:
    """Write the FAISS file for the catalogue's current generation (skipped if it is already current)."""
    from worker.library.vector_index import load_index

    loaded = load_index(library.folder)
    generation = library.generation
    if loaded is not None and loaded[1] == generation:
        return
    if job:
        job.progress("index", 0.0, "building the vector index")
    ids, vectors = library.vectors()
    if not len(ids):
        dim = library.dim or 1
        vectors = np.zeros((0, dim), np.float32)
    save_index(build_index(ids, vectors), library.folder, generation)


def _unchanged(row, item: Found) -> bool:
    return row is not None and row["size"] == item.size and row["mtime_ns"] == item.mtime_ns


def _close_when_started(starting: Future) -> None:
    """Close the pool once it exists (a cancel or an error may come while it is still starting)."""
    try:
        pool = starting.result()
    except Exception:  # noqa: BLE001 - it never started: nothing to close
        return
    pool.close(interrupted=True)


def _held(held: set[str], unsettled: Unsettled | None) -> Callable[[str], bool]:
    """Whether a path must be left as it is: held when found, or gone so recently that it may be mid-move."""
    if unsettled is None:
        return lambda path: False
    return lambda path: path in held or unsettled(path, None)


def _plan(library: Library, rows: dict, found: list[Found], roots: list[str], report: IndexReport,
          job: Job, held: Callable[[str], bool]) -> tuple[list[_Todo], list[tuple[Found, str]]]:
    """Sort found files into unchanged / moved / duplicate / to-embed; tombstone what vanished.
    `rows`: the catalogue's live tracks by path; `held` paths are left alone."""
    seen = {f.path for f in found}
    seen |= {p for p in rows if p not in seen and held(p)}
    vanished = {
        r["hash"]: r for p, r in rows.items()
        if p not in seen and _under(p, roots) and not os.path.exists(p) and r["status"] == "ok"
    }
    live_hashes = {r["hash"]: r["id"] for p, r in rows.items() if r["status"] == "ok" and p in seen}
    todo: list[_Todo] = []
    duplicates: list[tuple[Found, str]] = []
    first_of_hash: dict[str, str] = {}
    for i, item in enumerate(found):
        if i % 200 == 0:
            job.checkpoint()
            job.progress("plan", i / max(len(found), 1), "checking for changes")
        row = rows.get(item.path)
        if _unchanged(row, item):
            report.skipped += 1
            if row["status"] == "error":
                report.errors.append({"path": item.path, "reason": row["error"] or "unreadable"})
            continue
        try:
            digest = content_hash(item.path)
        except OSError as exc:
            report.errors.append({"path": item.path, "reason": f"cannot read: {exc.strerror or exc}"})
            continue
        if row is not None and row["hash"] == digest:  # touched, same bytes: refresh the stat only
            _update_stat(library, row["id"], item)
            report.skipped += 1
            continue
        if row is None and digest in vanished:
            _move(library, vanished.pop(digest)["id"], item)
            report.moved += 1
            continue
        original = live_hashes.get(digest)
        if (original is not None and (row is None or row["id"] != original)) or digest in first_of_hash:
            duplicates.append((item, digest))
            continue
        first_of_hash[digest] = item.path
        todo.append(_Todo(item, digest, None if row is None else row["id"]))
    if vanished:
        with library.transaction() as tx:
            for row in vanished.values():
                tx.execute("UPDATE tracks SET status = 'deleted', updated = ? WHERE id = ?", (now(), row["id"]))
    _tombstone_missing(library, rows, seen, roots)
    return todo, duplicates


def _tombstone_missing(library: Library, rows: dict, seen: set[str], roots: list[str]) -> None:
    """Non-ok rows (errors, duplicates) under the roots whose file is gone are tombstoned too."""
    gone = [r["id"] for p, r in rows.items()
            if p not in seen and _under(p, roots) and not os.path.exists(p) and r["status"] != "ok"]
    if gone:
        with library.transaction() as tx:
            tx.executemany("UPDATE tracks SET status = 'deleted', updated = ? WHERE id = ?",
                           [(now(), i) for i in gone])


def _embed_batches(library: Library, todo: list[_Todo], report: IndexReport, job: Job, starting: Future | None,
                   batch_tracks: int) -> None:
    """Embed in parallel, commit batch by batch in order. Files of the next batch are already queued while one
    is committed, so workers never wait for the catalogue; a cancel stops running work within POLL_S."""
    if not todo or starting is None:
        return
    total_bytes = sum(t.found.size for t in todo) or 1
    done_bytes = 0
    while True:  # the pool may still be starting
        job.checkpoint()
        try:
            pool: FilePool = starting.result(timeout=POLL_S)
            break
        except TimeoutError:
            continue
    futures: dict[int, Future] = {}
    queued = 0
    interrupted = True
    try:
        for start in range(0, len(todo), batch_tracks):
            job.checkpoint()
            batch = todo[start : start + batch_tracks]
            while queued < min(len(todo), start + len(batch) + batch_tracks):
                futures[queued] = pool.submit(todo[queued].found.path)
                queued += 1
            results = [_collect(pool, futures, i, todo, job) for i in range(start, start + len(batch))]
            _commit_batch(library, batch, results, report)
            done_bytes += sum(t.found.size for t in batch)
            fraction = done_bytes / total_bytes
            eta = job.eta(fraction)
            job.progress("embed", fraction, f"{start + len(batch)}/{len(todo)} files"
                         + (f", about {eta:.0f} s left" if eta is not None else ""))
        interrupted = False
    finally:
        pool.close(interrupted=interrupted)


def _collect(pool: FilePool, futures: dict[int, Future], i: int, todo: list[_Todo], job: Job) -> Embedded:
    future = futures.pop(i)
    while True:
        job.checkpoint()
        try:
            result = pool.result(future, todo[i].found.path, POLL_S)
            break
        except TimeoutError:
            continue
    if pool.restart_if_broken():  # a worker died: everything still queued failed with it
        for j in futures:
            futures[j] = pool.submit(todo[j].found.path)
    return result


def _commit_batch(library: Library, batch: list[_Todo], results: list[Embedded], report: IndexReport) -> None:
    stamp = now()
    with library.transaction() as tx:
        for todo, result in zip(batch, results, strict=True):
            item = todo.found
            if todo.existing_id is not None:
                tx.execute("DELETE FROM tracks WHERE id = ?", (todo.existing_id,))
            tags = read_tags(item.path) if result.error is None else {}
            cur = tx.execute(
                "INSERT INTO tracks(path_bytes, path, size, mtime_ns, hash, duration_s, title, artist, album, genre,"
                " status, error, updated) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (os.fsencode(item.path), _display(item.path), item.size, item.mtime_ns, todo.hash,
                 result.duration_s or None, tags.get("title"), tags.get("artist"), tags.get("album"),
                 tags.get("genre"), "error" if result.error else "ok", result.error, stamp),
            )
            if result.error:
                report.errors.append({"path": item.path, "reason": result.error})
                continue
            track_id = cur.lastrowid
            assert result.vectors is not None
            tx.executemany(
                "INSERT INTO segments(track_id, kind, start_s, end_s, vector) VALUES(?, ?, ?, ?, ?)",
                [(track_id, KIND_WINDOW, s, e, v.tobytes())
                 for s, e, v in zip(result.starts, result.ends, result.vectors, strict=True)],
            )
            tx.execute("INSERT INTO segments(track_id, kind, start_s, end_s, vector) VALUES(?, ?, ?, ?, ?)",
                       (track_id, KIND_TRACK, 0.0, result.duration_s, result.track_vector.tobytes()))
            report.indexed += 1
            report.audio_seconds += result.duration_s
        library.bump_generation()


def _record_duplicates(library: Library, duplicates: list[tuple[Found, str]], report: IndexReport) -> None:
    if not duplicates:
        return
    with library.transaction() as tx:
        for item, digest in duplicates:
            original = tx.execute("SELECT id, status, error FROM tracks WHERE hash = ? AND status IN ('ok', 'error')"
                                  " ORDER BY id LIMIT 1", (digest,)).fetchone()
            tx.execute("DELETE FROM tracks WHERE path_bytes = ?", (os.fsencode(item.path),))
            if original is None:
                continue
            status = "duplicate" if original[1] == "ok" else "error"
            tx.execute(
                "INSERT INTO tracks(path_bytes, path, size, mtime_ns, hash, status, error, duplicate_of, updated)"
                " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (os.fsencode(item.path), _display(item.path), item.size, item.mtime_ns, digest, status,
                 original[2], original[0], now()),
            )
            if status == "duplicate":
                report.duplicates += 1
            else:
                report.errors.append({"path": item.path, "reason": original[2] or "unreadable"})


def _move(library: Library, track_id: int, item: Found) -> None:
    with library.transaction() as tx:
        tx.execute("DELETE FROM tracks WHERE path_bytes = ? AND id != ?", (os.fsencode(item.path), track_id))
        tx.execute("UPDATE tracks SET path_bytes = ?, path = ?, size = ?, mtime_ns = ?, updated = ? WHERE id = ?",
                   (os.fsencode(item.path), _display(item.path), item.size, item.mtime_ns, now(), track_id))


def _update_stat(library: Library, track_id: int, item: Found) -> None:
    with library.transaction() as tx:
        tx.execute("UPDATE tracks SET size = ?, mtime_ns = ?, updated = ? WHERE id = ?",
                   (item.size, item.mtime_ns, now(), track_id))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _display(path: str) -> str:
    return os.fsencode(path).decode("utf-8", "replace")
