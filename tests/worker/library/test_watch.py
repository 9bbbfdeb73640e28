"""Watch mode with real files in a temp folder, the real indexer, catalogue and descriptor: added files are
indexed, changed ones re-embedded, moved ones keep their vectors, deleted ones are removed, and a file still
being written waits until it is complete."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from protocol.link import Link
from protocol.messages import Failed, Progress
from tests.media import clicks, tone, write
from tests.protocol.live_worker import REAL_SERVICE, running_worker
from worker.encoders.descriptor import DescriptorEncoder
from worker.jobs import Cancelled, Job
from worker.library.catalogue import Library, LibraryError
from worker.library.indexer import IndexReport, index_folders
from worker.library.lock import LibraryBusy
from worker.library.watch import ChangeTracker, watch

INTERVAL_S = 0.1
SETTLE_S = 0.5  # a writer must stall this long for a half-written file to look complete
TIMEOUT_S = 20.0
SR = 16000


@pytest.fixture(scope="module")
def encoder() -> DescriptorEncoder:
    return DescriptorEncoder()


def _wave(seconds: float, hz: float, bpm: float) -> np.ndarray:
    return (tone(seconds, SR, hz) + clicks(seconds, bpm, SR)).astype(np.float32)


class Watcher:
    """`watch` on a thread, as the service runs it; `stop()` cancels it and re-raises what it raised."""

    def __init__(self, folder: Path, library: Library, encoder: DescriptorEncoder) -> None:
        self.job = Job()
        self.runs: list[IndexReport] = []
        self.error: BaseException | None = None

        def index(unsettled) -> IndexReport:
            return index_folders(library, encoder, [folder], job=self.job, workers=1, unsettled=unsettled)

        def run() -> None:
            try:
                watch([str(folder)], index, job=self.job, interval_s=INTERVAL_S, settle_s=SETTLE_S,
                      on_run=self.runs.append)
            except BaseException as exc:  # noqa: BLE001 - Cancelled is the normal end; anything else fails stop()
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_for(self, what: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert self.thread.is_alive(), f"the watcher stopped: {self.error!r}"
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)

    def total(self, count: str, since: int = 0) -> int:
        """`count` (indexed, moved, deleted) summed over the index runs from number `since` on."""
        return sum(getattr(r, count) for r in self.runs[since:])

    def stop(self) -> None:
        self.job.cancel()
        self.thread.join(timeout=TIMEOUT_S)
        assert not self.thread.is_alive()
        assert isinstance(self.error, Cancelled), self.error


@pytest.fixture
def watched(tmp_path: Path, encoder):
    folder = tmp_path / "music"
    folder.mkdir()
    library = Library(tmp_path / "lib")
    watcher = Watcher(folder, library, encoder)
    yield folder, library, watcher
    if watcher.thread.is_alive():
        watcher.stop()


def _vectors(library: Library, path: Path) -> np.ndarray:
    row = library.track_by_path(str(path))
    with library.transaction() as tx:
        blobs = tx.execute("SELECT vector FROM segments WHERE track_id = ? ORDER BY start_s, kind", (row["id"],))
        return np.stack([np.frombuffer(b[0], np.float32) for b in blobs])


def _ok(library: Library, path: Path) -> bool:
    row = library.track_by_path(str(path))
    return row is not None and row["status"] == "ok"


def test_added_changed_moved_and_deleted_files_follow_the_folder(watched) -> None:
    folder, library, watcher = watched
    first = write(folder / "a.wav", _wave(11.0, 220.0, 90), SR)
    write(folder / "b.wav", _wave(11.0, 330.0, 120), SR)
    watcher.wait_for(lambda: watcher.total("indexed") == 2)
    assert _ok(library, first) and _ok(library, folder / "b.wav")
    before = _vectors(library, first)

    runs = len(watcher.runs)
    write(first, _wave(11.0, 880.0, 150), SR)  # same path, new content
    watcher.wait_for(lambda: watcher.total("indexed", runs) == 1)
    changed = _vectors(library, first)
    assert not np.array_equal(changed, before)

    runs = len(watcher.runs)
    moved = folder / "sub" / "a moved.wav"
    moved.parent.mkdir()
    first.rename(moved)
    watcher.wait_for(lambda: watcher.total("moved", runs) == 1)
    assert watcher.total("indexed", runs) == 0
    assert _ok(library, moved) and library.track_by_path(str(first)) is None
    assert np.array_equal(_vectors(library, moved), changed)  # kept, not embedded again

    runs = len(watcher.runs)
    (folder / "b.wav").unlink()
    watcher.wait_for(lambda: watcher.total("deleted", runs) == 1)
    assert library.track_by_path(str(folder / "b.wav")) is None
    assert [Path(r["path"]).name for r in library.tracks()] == ["a moved.wav"]
    watcher.stop()


def test_a_file_still_being_written_waits_until_it_is_complete(watched) -> None:
    folder, library, watcher = watched
    write(folder / "ready.wav", _wave(11.0, 440.0, 100), SR)
    watcher.wait_for(lambda: watcher.total("indexed") == 1)

    buffer = io.BytesIO()
    sf.write(buffer, _wave(14.0, 262.0, 128), SR, format="WAV")
    data = buffer.getvalue()
    growing = folder / "growing.wav"
    chunks = np.array_split(np.frombuffer(data, np.uint8), 36)
    with open(growing, "wb") as handle:  # a slow copy: a chunk every 40 ms, for 1.4 s (14 polls)
        for i, chunk in enumerate(chunks):
            handle.write(chunk.tobytes())
            handle.flush()
            if i == 4:  # meanwhile another file arrives, settles and is indexed
                write(folder / "other.wav", _wave(11.0, 550.0, 140), SR)
            time.sleep(0.04)
            assert library.track_by_path(str(growing)) is None, "indexed while still being written"
    assert _ok(library, folder / "other.wav"), "the other file waited for the growing one"
    watcher.wait_for(lambda: watcher.total("indexed") == 3)
    assert _ok(library, growing)
    assert library.track_by_path(str(growing))["duration_s"] == pytest.approx(14.0, abs=0.05)  # all of it
    watcher.stop()


def test_busy_library_is_retried_and_a_cancel_stops_the_watch(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    write(tmp_path / "music" / "a.wav", _wave(2.0, 440.0, 100), SR)
    calls: list[int] = []
    job = Job()

    def index(unsettled) -> IndexReport:
        calls.append(1)
        if len(calls) == 1:
            raise LibraryBusy("another process writes it")
        job.cancel()
        return IndexReport(indexed=1)

    with pytest.raises(Cancelled):
        watch([str(tmp_path / "music")], index, job=job, interval_s=0.01, busy=LibraryBusy)
    assert len(calls) == 2


def test_tracker_settles_a_path_once_it_stops_changing() -> None:
    tracker = ChangeTracker(settle_s=1.0)
    tracker.observe({"/m/a": (10, 1)}, now=0.0)
    assert not tracker.ready and tracker.unsettled("/m/a", (10, 1))
    tracker.observe({"/m/a": (20, 2)}, now=0.5)  # still growing
    tracker.observe({"/m/a": (20, 2)}, now=1.0)  # same stat, but not for long enough
    assert not tracker.ready
    tracker.observe({"/m/a": (20, 2), "/m/b": (5, 1)}, now=1.5)
    assert tracker.ready and not tracker.unsettled("/m/a", (20, 2)) and tracker.unsettled("/m/b", (5, 1))
    assert tracker.unsettled("/m/a", (30, 3))  # changed after the poll: left for the next one
    tracker.indexed()
    assert tracker.pending == {"/m/b"}
    tracker.observe({"/m/b": (5, 1)}, now=2.5)  # a gone since the last poll: not settled until seen gone a while
    assert tracker.unsettled("/m/a", None) and tracker.ready and not tracker.unsettled("/m/b", (5, 1))
    tracker.indexed()
    assert tracker.pending == {"/m/a"}
    tracker.observe({"/m/b": (5, 1)}, now=3.5)
    assert not tracker.unsettled("/m/a", None) and tracker.ready
    tracker.indexed()
    assert not tracker.pending and not tracker.ready


def test_cli_index_watch_indexes_new_files_until_ctrl_c(tmp_path: Path, monkeypatch, capsys) -> None:
    from worker.cli.main import main

    folder, library = tmp_path / "music", tmp_path / "lib"
    folder.mkdir()
    monkeypatch.setenv("CUESTEER_LIBRARY", str(library))
    indexed: list[bool] = []

    def ctrl_c_once_indexed() -> None:
        deadline = time.monotonic() + 2 * TIMEOUT_S
        while not _indexed_by_cli(library) and time.monotonic() < deadline:
            time.sleep(0.05)
        indexed.append(_indexed_by_cli(library))
        os.kill(os.getpid(), signal.SIGINT)  # the main thread waits in the CLI's runner, which turns it into a cancel

    write(folder / "a.wav", _wave(11.0, 220.0, 90), SR)
    threading.Thread(target=ctrl_c_once_indexed, daemon=True).start()
    code = main(["index", "--watch", str(folder), "--encoder", "descriptor", "--interval", str(INTERVAL_S)])
    assert indexed == [True]
    assert code == 130 and "cancelled" in capsys.readouterr().err


def _indexed_by_cli(folder: Path) -> bool:
    try:
        library = Library(folder, create=False)
    except LibraryError:  # not created yet
        return False
    try:
        return library.counts().get("ok", 0) == 1
    finally:
        library.close()


def test_the_app_starts_and_stops_a_watch_over_the_socket_while_other_jobs_run(tmp_path: Path) -> None:
    folder = tmp_path / "music"
    write(folder / "a.wav", _wave(11.0, 220.0, 90), SR)
    write(tmp_path / "other" / "b.wav", _wave(11.0, 330.0, 120), SR)
    with (
        running_worker(tmp_path / "library", "--encoder", "descriptor", "--progress-interval", "0",
                       service=REAL_SERVICE) as worker,
        Link(worker.endpoint) as link,
    ):
        rid = link.submit("watch", {"paths": [str(folder)], "interval_s": INTERVAL_S})
        deadline = time.monotonic() + 3 * TIMEOUT_S
        seen = ""
        while "1 indexed since the start" not in seen:
            assert time.monotonic() < deadline, f"no index run reported:\n{worker.log()}"
            for event in link.poll(rid):
                assert not isinstance(event, Failed), event
                if isinstance(event, Progress) and event.stage == "watch":
                    seen = event.message
            time.sleep(0.05)
        assert link.ping(timeout=TIMEOUT_S).running == {"background": 1, "heavy": 0, "interactive": 0}
        assert link.call("status", timeout=TIMEOUT_S)["tracks"] == 1  # the interactive lane still answers
        assert link.call("index", {"paths": [str(tmp_path / "other")]}, timeout=TIMEOUT_S)["indexed"] == 1
        link.cancel(rid)
        final = list(link.events(rid, timeout=TIMEOUT_S))[-1]
        assert isinstance(final, Failed) and final.reason == "cancelled"
