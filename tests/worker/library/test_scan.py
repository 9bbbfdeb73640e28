"""Scanning survives what real disks hold: symlink loops, unreadable folders, non-UTF-8 names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.media import tone, write
from worker.library.scan import Found, ScanError, scan


def _split(items):
    found = [i for i in items if isinstance(i, Found)]
    errors = [i for i in items if isinstance(i, ScanError)]
    return found, errors


def test_finds_media_recursively_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.wav", tone(1.0))
    write(tmp_path / "a" / "b" / "two.flac", tone(1.0))
    (tmp_path / "a" / "cover.txt").write_text("not music")
    found, errors = _split(list(scan([tmp_path])))
    assert sorted(Path(f.path).name for f in found) == ["one.wav", "two.flac"] and errors == []


def test_symlink_loop_terminates_and_lists_each_file_once(tmp_path: Path) -> None:
    write(tmp_path / "music" / "song.wav", tone(1.0))
    os.symlink(tmp_path / "music", tmp_path / "music" / "loop")
    os.symlink(tmp_path / "music" / "song.wav", tmp_path / "music" / "alias.wav")
    found, _ = _split(list(scan([tmp_path])))
    assert len(found) == 1


def test_non_utf8_file_name(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9-latin1.wav"
    write(Path(os.fsdecode(raw)), tone(1.0))
    found, _ = _split(list(scan([tmp_path])))
    assert len(found) == 1 and os.fsencode(found[0].path) == raw


def test_unreadable_folder_is_reported_and_the_rest_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "ok" / "song.wav", tone(1.0))
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):  # root ignores chmod, so refuse like the OS would for a protected folder
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, errors = _split(list(scan([tmp_path])))
    assert len(found) == 1
    assert len(errors) == 1 and "Permission denied" in errors[0].reason and errors[0].path.endswith("locked")


def test_missing_root_is_an_error_not_a_crash(tmp_path: Path) -> None:
    found, errors = _split(list(scan([tmp_path / "nope"])))
    assert found == [] and "cannot open" in errors[0].reason
