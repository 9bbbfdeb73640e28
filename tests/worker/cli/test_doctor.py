"""`cuesteer doctor` on this machine and on broken set-ups made for real: a library indexed by the real
indexer then made stale, inconsistent or damaged; a missing soundfont and FluidSynth; models in a hub cache."""

from __future__ import annotations

import json
import shutil
from contextlib import closing
from pathlib import Path

import pytest

from tests.installer.hub_layout import to_blob_layout
from tests.media import clicks, tone, write
from tests.worker.encoders.tiny_models import save_to_hub_cache, tiny_clip
from worker.cli import doctor
from worker.cli.main import main
from worker.library.catalogue import CATALOGUE_FILE, Library
from worker.library.indexer import rebuild_index
from worker.library.vector_index import build_index, save_index

STATUSES = {doctor.OK, doctor.WARN, doctor.FAIL}


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict[str, dict]]:
    code = main(["doctor", *argv, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert sum(out["summary"].values()) == len(out["checks"])
    return code, {c["name"]: c for c in out["checks"]}


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    music = tmp_path_factory.mktemp("music")
    for i, hz in enumerate((220.0, 440.0)):
        write(music / f"song{i}.wav", tone(12.0, 22050, hz) + clicks(12.0, 90 + 30 * i, seed=i))
    lib = tmp_path_factory.mktemp("lib")
    assert main(["index", str(music), "--library", str(lib), "--encoder", "descriptor", "--json"]) == 0
    with closing(Library(lib)) as library:
        rebuild_index(library)  # the FAISS cache as a search leaves it
    return lib


@pytest.fixture
def library(indexed_library: Path, tmp_path: Path) -> Path:
    """A private copy of the indexed library: each test breaks it its own way."""
    copy = tmp_path / "lib"
    shutil.copytree(indexed_library, copy)
    return copy


def test_this_machine_every_line_has_a_status_and_problems_have_fixes(capsys) -> None:
    code, checks = run(capsys)
    assert {c["status"] for c in checks.values()} <= STATUSES
    assert all(c["fix"] for c in checks.values() if c["status"] != doctor.OK)
    assert code == (1 if any(c["status"] == doctor.FAIL for c in checks.values()) else 0)
    assert checks["torch"]["status"] == doctor.OK and "build" in checks["torch"]["detail"]
    assert checks["device: cpu"]["status"] == doctor.OK
    assert checks["model: clap"]["fix"] == "cuesteer models pull clap"  # none downloaded in tests
    # setup.sh installs these, so on CI they must be found where the product looks for them
    assert checks["fluidsynth"]["status"] == doctor.OK and checks["soundfont"]["status"] == doctor.OK
    assert checks["ffmpeg (PyAV)"]["status"] == doctor.OK
    assert checks["library"]["status"] == doctor.OK and "no library yet" in checks["library"]["detail"]


def test_audio_output_line_agrees_with_portaudio(capsys) -> None:
    import sounddevice

    _, checks = run(capsys)
    outputs = [d for d in sounddevice.query_devices() if d["max_output_channels"] > 0]
    line = checks["audio output"]
    if outputs:
        assert line["status"] == doctor.OK and f"{len(outputs)} output" in line["detail"]
    else:  # this container: no sound card
        assert line["status"] == doctor.WARN and "no audio output device" in line["detail"] and line["fix"]


def test_missing_soundfont_and_fluidsynth_fail_with_fixes(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CUESTEER_SOUNDFONT", str(tmp_path / "gone.sf2"))
    monkeypatch.setenv("CUESTEER_FLUIDSYNTH", str(tmp_path / "fluidsynth"))
    code, checks = run(capsys)
    assert code == 1
    assert checks["soundfont"]["status"] == doctor.FAIL and "CUESTEER_SOUNDFONT" in checks["soundfont"]["fix"]
    assert checks["fluidsynth"]["status"] == doctor.FAIL and "fluidsynth" in checks["fluidsynth"]["fix"]
    main(["doctor"])
    text = capsys.readouterr().out
    assert "FAIL  soundfont" in text and "fix: " in text and text.rstrip().endswith("2 failures")


def test_soundfont_found_in_the_users_folder(monkeypatch, tmp_path: Path) -> None:
    from worker.models import soundfont

    monkeypatch.delenv("CUESTEER_SOUNDFONT", raising=False)
    monkeypatch.setattr(soundfont, "user_soundfont_dir", lambda: tmp_path)
    (tmp_path / "FluidR3_GM.sf2").write_bytes(b"RIFF")
    assert soundfont.find_soundfont() in (tmp_path / "FluidR3_GM.sf2", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"))
    monkeypatch.setattr(soundfont, "SYSTEM_FOLDERS", {k: () for k in soundfont.SYSTEM_FOLDERS})
    assert soundfont.find_soundfont() == tmp_path / "FluidR3_GM.sf2"


def test_healthy_library_then_a_stale_index_warns(library: Path, capsys) -> None:
    code, checks = run(capsys, "--library", str(library))
    assert checks["library"]["status"] == doctor.OK and "2 tracks" in checks["library"]["detail"]
    assert checks["library index"]["status"] == doctor.OK
    with closing(Library(library)) as lib:
        lib.bump_generation()  # what an update interrupted before the index was rewritten leaves
    code, checks = run(capsys, "--library", str(library))
    assert checks["library index"]["status"] == doctor.WARN and "stale" in checks["library index"]["detail"]


def test_index_that_disagrees_with_its_generation_fails(library: Path, capsys) -> None:
    with closing(Library(library)) as lib:
        ids, vectors = lib.vectors()
        save_index(build_index(ids[:-1], vectors[:-1]), library, lib.generation)  # one vector short
    code, checks = run(capsys, "--library", str(library))
    assert code == 1 and checks["library index"]["status"] == doctor.FAIL
    assert "vectors.faiss" in checks["library index"]["fix"]


def test_damaged_catalogue_fails(library: Path, capsys) -> None:
    path = library / CATALOGUE_FILE
    for extra in ("-wal", "-shm"):
        (library / (CATALOGUE_FILE + extra)).unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    data[:100] = b"\0" * 100  # the SQLite header
    path.write_bytes(bytes(data))
    code, checks = run(capsys, "--library", str(library))
    assert code == 1 and checks["library"]["status"] == doctor.FAIL and checks["library"]["fix"]


def test_models_in_the_hub_cache_show_as_present_or_incomplete(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snapshot = save_to_hub_cache(*tiny_clip(), tmp_path, "openai/clip-vit-base-patch32")
    to_blob_layout(snapshot)
    _, checks = run(capsys)
    assert checks["model: clip"]["status"] == doctor.OK and "MIT" in checks["model: clip"]["detail"]
    (snapshot / "config.json").resolve().unlink()
    _, checks = run(capsys)
    assert checks["model: clip"]["status"] == doctor.WARN and "incomplete" in checks["model: clip"]["detail"]
    assert checks["model: clip"]["fix"] == "cuesteer models pull clip"
