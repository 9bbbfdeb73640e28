"""The library's catalogue: one `Library` type owns SQLite; every statement runs inside `library.transaction()`.

WAL mode and one transaction per batch make indexing crash-safe: a killed process loses at most the batch it
was working on. Vectors are stored here too (the source of truth); the FAISS file is a cache rebuilt from them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CATALOGUE_FILE = "catalogue.sqlite"
SCHEMA_VERSION = 1

# Migration i brings a catalogue from version i to i + 1. Append, never edit: users' files depend on them.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        path_bytes BLOB NOT NULL UNIQUE,     -- os.fsencode(path): exact, even for non-UTF-8 names
        path TEXT NOT NULL,                  -- for display and search
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        hash TEXT,
        duration_s REAL,
        title TEXT, artist TEXT, album TEXT, genre TEXT,
        status TEXT NOT NULL,                -- ok | error | duplicate | deleted
        error TEXT,
        duplicate_of INTEGER REFERENCES tracks(id),
        updated REAL NOT NULL
    );
    CREATE INDEX tracks_hash ON tracks(hash);
    CREATE INDEX tracks_status ON tracks(status);
    CREATE TABLE segments (
        id INTEGER PRIMARY KEY,              -- the vector id in the FAISS index
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        kind INTEGER NOT NULL,               -- 0 = window, 1 = whole track
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE INDEX segments_track ON segments(track_id);
    CREATE TABLE analysis (track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
                           json TEXT NOT NULL, updated REAL NOT NULL);
    """,
]

KIND_WINDOW = 0
KIND_TRACK = 1


class LibraryError(Exception):
    """A catalogue problem, phrased as what the user can do about it."""


class Library:
    """A library folder: catalogue.sqlite (+ WAL), the vector index, locks and stored models."""

    def __init__(self, folder: str | os.PathLike[str], *, create: bool = True):
        self.folder = Path(folder).expanduser()
        if create:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LibraryError(f"cannot create library folder {self.folder}: {exc.strerror}") from exc
        elif not (self.folder / CATALOGUE_FILE).exists():
            raise LibraryError(f"no library at {self.folder}: run `cuesteer index PATH --library {self.folder}`")
        self.path = self.folder / CATALOGUE_FILE
        self._local = threading.local()
        self._migrate()

    # -- connections and transactions -------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=True)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; rolled back on any exception. Nested use joins the outer transaction."""
        conn = self._connection()
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _migrate(self) -> None:
        conn = self._connection()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path} was written by a newer cuesteer (schema {version} > {SCHEMA_VERSION}); upgrade cuesteer"
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0:  # keep a copy before changing a user's catalogue
            shutil.copy2(self.path, self.path.with_suffix(f".v{version}.bak"))
        for step in range(version, SCHEMA_VERSION):
            with self.transaction() as tx:
                if tx.execute("PRAGMA user_version").fetchone()[0] > step:  # another opener just did this step
                    continue
                for statement in _statements(MIGRATIONS[step]):
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {step + 1}")

    # -- meta ---------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.transaction() as tx:
            row = tx.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    def bump_generation(self) -> int:
        """Every change to the vectors bumps the generation; the FAISS file records which one it was built from."""
        with self.transaction():
            gen = int(self.get_meta("generation", "0") or 0) + 1
            self.set_meta("generation", str(gen))
        return gen

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    # -- tracks ------------------------------------------------------------------------------------
    def track_by_path(self, path: str) -> sqlite3.Row | None:
        with self.transaction() as tx:
            tx.row_factory = sqlite3.Row
            try:
                return tx.execute("SELECT * FROM tracks WHERE path_bytes = ?", (os.fsencode(path),)).fetchone()
            finally:
                tx.row_factory = None

    def tracks(self, status: str | None = None) -> list[sqlite3.Row]:
        with self.transaction() as tx:
            tx.row_factory = sqlite3.Row
            try:
                if status is None:
                    return tx.execute("SELECT * FROM tracks ORDER BY id").fetchall()
                return tx.execute("SELECT * FROM tracks WHERE status = ? ORDER BY id", (status,)).fetchall()
            finally:
                tx.row_factory = None

    def counts(self) -> dict[str, int]:
        with self.transaction() as tx:
            rows = tx.execute("SELECT status, COUNT(*) FROM tracks GROUP BY status").fetchall()
            vectors = tx.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        out = {status: n for status, n in rows}
        out["vectors"] = vectors
        return out

    def vectors(self, kind: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every live segment, for building the index."""
        sql = "SELECT s.id, s.vector FROM segments s JOIN tracks t ON t.id = s.track_id WHERE t.status = 'ok'"
        args: tuple = ()
        if kind is not None:
            sql += " AND s.kind = ?"
            args = (kind,)
        with self.transaction() as tx:
            rows = tx.execute(sql + " ORDER BY s.id", args).fetchall()
        dim = self.dim
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, dim or 0), np.float32)
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        vecs = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), -1)
        return ids, vecs

    def segments_info(self, ids: list[int]) -> dict[int, tuple[int, int, float, float]]:
        """segment id → (track id, kind, start, end)."""
        if not ids:
            return {}
        out: dict[int, tuple[int, int, float, float]] = {}
        with self.transaction() as tx:
            for chunk in _chunks(ids, 900):
                marks = ",".join("?" * len(chunk))
                for row in tx.execute(
                    f"SELECT id, track_id, kind, start_s, end_s FROM segments WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = (row[1], row[2], row[3], row[4])
        return out

    def track_rows(self, ids: list[int]) -> dict[int, sqlite3.Row]:
        out: dict[int, sqlite3.Row] = {}
        with self.transaction() as tx:
            tx.row_factory = sqlite3.Row
            try:
                for chunk in _chunks(ids, 900):
                    marks = ",".join("?" * len(chunk))
                    for row in tx.execute(f"SELECT * FROM tracks WHERE id IN ({marks})", chunk):
                        out[row["id"]] = row
            finally:
                tx.row_factory = None
        return out

    def duplicates_of(self, track_ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        with self.transaction() as tx:
            for chunk in _chunks(track_ids, 900):
                marks = ",".join("?" * len(chunk))
                for orig, path in tx.execute(
                    f"SELECT duplicate_of, path FROM tracks WHERE status = 'duplicate' AND duplicate_of IN ({marks})",
                    chunk,
                ):
                    out.setdefault(orig, []).append(path)
        return out

    @property
    def dim(self) -> int | None:
        value = self.get_meta("dim")
        return int(value) if value else None

    @property
    def encoder(self) -> tuple[str, str] | None:
        """(encoder id, version) of the vectors stored here, or None for an empty library."""
        name = self.get_meta("encoder_id")
        return (name, self.get_meta("encoder_version") or "") if name else None

    def stamp_encoder(self, encoder_id: str, version: str, dim: int) -> None:
        """Tie the library's vectors to one encoder; refuse to mix embedding spaces."""
        with self.transaction():
            current = self.encoder
            if current is not None and current != (encoder_id, version):
                count = self.counts().get("vectors", 0)
                if count:
                    other = "" if current[0] == encoder_id else f" or use `--encoder {current[0]}`"
                    raise LibraryError(
                        f"this library holds {count} vectors from encoder {current[0]} {current[1]}; "
                        f"{encoder_id} {version} embeds into a different space. Re-index with "
                        f"`cuesteer index PATH --encoder {encoder_id} --reindex`{other}"
                    )
            self.set_meta("encoder_id", encoder_id)
            self.set_meta("encoder_version", version)
            self.set_meta("dim", str(dim))

    def clear_vectors(self) -> None:
        """Forget every vector and file state (for a re-index with another encoder)."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM segments")
            tx.execute("DELETE FROM analysis")
            tx.execute("DELETE FROM tracks")
            tx.execute("DELETE FROM meta WHERE key IN ('encoder_id', 'encoder_version', 'dim')")
        self.bump_generation()

    def compact(self) -> int:
        """Remove tombstoned tracks (their vectors go with them). Returns how many were removed."""
        with self.transaction() as tx:
            n = tx.execute("DELETE FROM tracks WHERE status = 'deleted'").rowcount
        if n:
            self.bump_generation()
        return n


def now() -> float:
    return time.time()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit behind the transaction's back)."""
    lines = [line.split("--")[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _translate(exc: sqlite3.Error, path: Path) -> LibraryError:
    text = str(exc)
    if "readonly" in text:
        return LibraryError(f"cannot write the library catalogue {path}: check the folder's permissions")
    if "locked" in text or "busy" in text:
        return LibraryError(f"the library catalogue {path} is busy (another cuesteer process is writing it)")
    if "malformed" in text or "not a database" in text:
        return LibraryError(
            f"the library catalogue {path} is damaged ({text}); move it aside and re-index: "
            "vectors are rebuilt from your music files"
        )
    if "unable to open" in text:
        return LibraryError(f"cannot open the library catalogue {path}: check that the folder exists and is writable")
    return LibraryError(f"library catalogue error ({path}): {text}")
