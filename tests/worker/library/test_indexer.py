"""Incremental, resumable indexing with the real catalogue, FAISS file and descriptor encoder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.media import clicks, tone, write
from worker.encoders.descriptor import DescriptorEncoder
from worker.jobs import Cancelled, Job
from worker.library.catalogue import Library
from worker.library.indexer import index_folders
from worker.library.vector_index import load_index
from worker.retrieval.searcher import Searcher


@pytest.fixture(scope="module")
def encoder() -> DescriptorEncoder:
    return DescriptorEncoder()


def _music(folder: Path, n: int = 4, base_hz: float = 220.0) -> list[Path]:
    paths = []
    for i in range(n):
        wave = tone(12.0, 22050, base_hz * (i + 1)) + (clicks(12.0, 90 + 30 * i) if i % 2 else 0)
        paths.append(write(folder / f"track{i}.wav", wave.astype(np.float32)))
    return paths


def _segment_ids(lib: Library, path: Path) -> list[int]:
    row = lib.track_by_path(str(path))
    with lib.transaction() as tx:
        return [r[0] for r in tx.execute("SELECT id FROM segments WHERE track_id = ? ORDER BY id", (row["id"],))]


def test_first_index_then_unchanged_library_is_skipped(tmp_path: Path, encoder) -> None:
    _music(tmp_path / "music")
    lib = Library(tmp_path / "lib")
    first = index_folders(lib, encoder, [tmp_path / "music"])
    assert first.indexed == 4 and first.errors == []
    assert lib.counts()["vectors"] == 4 * (2 + 1)  # 12 s → windows 0–10 and 2–12 (end-aligned) + the track
    loaded = load_index(lib.folder)
    assert loaded is not None and loaded[1] == lib.generation and loaded[0].ntotal == lib.counts()["vectors"]
    again = index_folders(lib, encoder, [tmp_path / "music"])
    assert (again.indexed, again.skipped) == (0, 4)


def test_moved_file_keeps_its_vectors(tmp_path: Path, encoder) -> None:
    paths = _music(tmp_path / "music", 2)
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [tmp_path / "music"])
    before = _segment_ids(lib, paths[0])
    target = tmp_path / "music" / "renamed" / "moved.wav"
    target.parent.mkdir()
    shutil.move(paths[0], target)
    report = index_folders(lib, encoder, [tmp_path / "music"])
    assert (report.moved, report.indexed) == (1, 0)
    assert _segment_ids(lib, target) == before and lib.track_by_path(str(paths[0])) is None


def test_deleted_file_is_tombstoned_and_compacted(tmp_path: Path, encoder) -> None:
    paths = _music(tmp_path / "music", 3)
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [tmp_path / "music"])
    paths[1].unlink()
    report = index_folders(lib, encoder, [tmp_path / "music"])
    assert report.deleted == 1 and lib.counts()["ok"] == 2 and lib.counts()["vectors"] == 2 * 3
    assert load_index(lib.folder)[0].ntotal == 6


def test_changed_file_is_re_embedded(tmp_path: Path, encoder) -> None:
    paths = _music(tmp_path / "music", 2)
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [tmp_path / "music"])
    write(paths[0], clicks(20.0, 150))
    report = index_folders(lib, encoder, [tmp_path / "music"])
    assert report.indexed == 1 and lib.track_by_path(str(paths[0]))["duration_s"] == pytest.approx(20.0, abs=0.1)


def test_duplicates_are_indexed_once_and_both_listed(tmp_path: Path, encoder) -> None:
    paths = _music(tmp_path / "music", 2)
    copy = tmp_path / "music" / "copy of track0.wav"
    shutil.copy(paths[0], copy)
    lib = Library(tmp_path / "lib")
    report = index_folders(lib, encoder, [tmp_path / "music"])
    assert (report.indexed, report.duplicates) == (2, 1)
    hits = Searcher(lib).query(encoder.embed_audio([tone(10.0, 16000, 220.0)]), 5)
    listed = {hits[0].path, *hits[0].also}
    assert {str(paths[0]), str(copy)} == listed


def test_bad_files_are_listed_and_everything_else_indexed(tmp_path: Path, encoder) -> None:
    music = tmp_path / "music"
    _music(music, 2)
    (music / "empty.mp3").write_bytes(b"")
    (music / "notes.flac").write_text("not audio " * 100)
    full = write(music / "full.wav", tone(6.0))
    (music / "truncated.ogg").write_bytes(write(tmp_path / "t.ogg", tone(6.0)).read_bytes()[:40])
    lib = Library(tmp_path / "lib")
    report = index_folders(lib, encoder, [music])
    reasons = {Path(e["path"]).name: e["reason"] for e in report.errors}
    assert set(reasons) == {"empty.mp3", "notes.flac", "truncated.ogg"}
    assert "empty" in reasons["empty.mp3"]
    assert report.indexed == 3 and lib.track_by_path(str(full))["status"] == "ok"
    again = index_folders(lib, encoder, [music])  # known-bad files are skipped quickly but still listed
    assert again.indexed == 0 and {Path(e["path"]).name for e in again.errors} == set(reasons)


def test_cancel_keeps_committed_batches_and_resume_completes(tmp_path: Path, encoder) -> None:
    _music(tmp_path / "music", 6)
    lib = Library(tmp_path / "lib")
    batches = []

    def progress(stage: str, fraction: float, message: str) -> None:
        if stage == "embed":
            batches.append(fraction)
            job.cancel()

    job = Job(progress_fn=progress)
    with pytest.raises(Cancelled):
        index_folders(lib, encoder, [tmp_path / "music"], job=job, batch_tracks=2, workers=1)
    assert lib.counts()["ok"] == 2  # exactly the first batch was committed
    report = index_folders(lib, encoder, [tmp_path / "music"], batch_tracks=2)
    assert (report.indexed, report.skipped) == (4, 2) and lib.counts()["ok"] == 6


def test_long_file_indexes_with_its_real_duration(tmp_path: Path, encoder) -> None:
    path = write(tmp_path / "music" / "long.flac", tone(95.0, 16000, 330.0, noise=0.01), 16000)
    lib = Library(tmp_path / "lib")
    report = index_folders(lib, encoder, [path.parent])
    assert report.indexed == 1 and lib.track_by_path(str(path))["duration_s"] == pytest.approx(95.0, abs=0.05)
    assert lib.counts()["vectors"] == 18 + 1  # windows start every 5 s up to 85 s, then the track vector


def test_search_finds_the_query_track_first_with_its_in_point(tmp_path: Path, encoder) -> None:
    music = tmp_path / "music"
    quiet = tone(20.0, 22050, 300.0)
    drums = clicks(20.0, 128)
    write(music / "mixed.wav", np.concatenate([quiet, drums]))
    write(music / "other.wav", tone(40.0, 22050, 700.0, noise=0.05))
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [music])
    from worker.library.decode import decode_mono

    query = decode_mono(music / "mixed.wav", 16000)[25 * 16000 : 35 * 16000]
    hits = Searcher(lib).query(encoder.embed_audio([query]), 2)
    assert hits[0].path.endswith("mixed.wav") and hits[0].in_point_s >= 20.0 and hits[0].score > hits[1].score


def test_files_under_an_unrelated_root_are_not_tombstoned(tmp_path: Path, encoder) -> None:
    _music(tmp_path / "a", 1)
    _music(tmp_path / "b", 1, base_hz=500.0)
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [tmp_path / "a", tmp_path / "b"])
    os.rename(tmp_path / "a", tmp_path / "a_moved_away")
    report = index_folders(lib, encoder, [tmp_path / "b"])
    assert report.deleted == 0 and lib.counts()["ok"] == 2


def test_unsettled_files_are_neither_embedded_nor_tombstoned_until_they_settle(tmp_path: Path, encoder) -> None:
    paths = _music(tmp_path / "music", 2)
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [tmp_path / "music"])
    paths[0].unlink()  # gone a moment ago (maybe mid-move)
    growing = write(tmp_path / "music" / "growing.wav", tone(3.0, 22050, 700.0).astype(np.float32))
    changing = {str(paths[0]), str(growing)}

    held = index_folders(lib, encoder, [tmp_path / "music"], unsettled=lambda path, stat: path in changing)
    assert (held.indexed, held.deleted) == (0, 0)
    assert lib.track_by_path(str(paths[0]))["status"] == "ok" and lib.track_by_path(str(growing)) is None

    settled = index_folders(lib, encoder, [tmp_path / "music"], unsettled=lambda path, stat: False)
    assert (settled.indexed, settled.deleted) == (1, 1)
    assert lib.track_by_path(str(paths[0])) is None and lib.track_by_path(str(growing))["status"] == "ok"


def test_largest_files_are_embedded_first(tmp_path: Path, encoder) -> None:
    folder = tmp_path / "music"
    for name, seconds in [("a short.wav", 2.0), ("b middle.wav", 5.0), ("c long.wav", 9.0)]:  # scan order
        write(folder / name, tone(seconds, 22050, 300.0).astype(np.float32))
    lib = Library(tmp_path / "lib")
    index_folders(lib, encoder, [folder], batch_tracks=1, workers=1)
    by_id = sorted(lib.tracks(), key=lambda r: r["id"])
    assert [Path(r["path"]).name for r in by_id] == ["c long.wav", "b middle.wav", "a short.wav"]
