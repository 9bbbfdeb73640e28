from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from worker.library.catalogue import SCHEMA_VERSION, Library, LibraryError


def test_new_catalogue_is_at_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    with lib.transaction() as tx:
        assert tx.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert tx.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    with pytest.raises(RuntimeError), lib.transaction():
        lib.set_meta("x", "1")
        raise RuntimeError("boom")
    assert lib.get_meta("x") is None
    lib.set_meta("x", "2")
    assert Library(tmp_path).get_meta("x") == "2"


def test_newer_schema_is_refused_with_advice(tmp_path: Path) -> None:
    Library(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "catalogue.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LibraryError, match="newer cuesteer"):
        Library(tmp_path)


def test_damaged_catalogue_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "catalogue.sqlite").write_bytes(b"garbage" * 1000)
    with pytest.raises(LibraryError, match="damaged"):
        Library(tmp_path)


def test_refuses_to_mix_embedding_spaces(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    lib.stamp_encoder("descriptor", "1", 4)
    with lib.transaction() as tx:
        tx.execute("INSERT INTO tracks(path_bytes, path, size, mtime_ns, status, updated) "
                   "VALUES(x'61', 'a', 1, 1, 'ok', 0)")
        tx.execute("INSERT INTO segments(track_id, kind, start_s, end_s, vector) VALUES(1, 0, 0, 1, x'00')")
    with pytest.raises(LibraryError, match="--reindex"):
        lib.stamp_encoder("offline", "1", 8)
