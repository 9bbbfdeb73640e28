"""The command line as users and scripts run it: real processes, real files, the JSON contract of DESIGN §12."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.media import clicks, tone, write

ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "worker.cli.main", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    music = tmp_path_factory.mktemp("music")
    for i, hz in enumerate((220.0, 330.0, 660.0)):
        write(music / f"song{i}.wav", tone(15.0, 22050, hz) + clicks(15.0, 80 + 40 * i))
    (music / "broken.mp3").write_text("junk")
    lib = tmp_path_factory.mktemp("lib")
    out = cli("index", str(music), "--library", str(lib), "--encoder", "descriptor", "--json")
    assert out.returncode == 0, out.stderr
    return music, lib


def test_index_json_lists_errors_and_exits_zero(indexed) -> None:
    music, lib = indexed
    out = cli("index", str(music), "--library", str(lib), "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["indexed"] == 0 and report["skipped"] == 4
    assert [Path(e["path"]).name for e in report["errors"]] == ["broken.mp3"]


def test_search_like_json_contract(indexed) -> None:
    music, lib = indexed
    out = cli("search", "--like", f"{music / 'song1.wav'}@2.5", "-k", "2", "--library", str(lib), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"results", "diversity", "seed"} <= set(doc)
    assert len(doc["results"]) == 2 and {"path", "score", "in_point_s", "seeds"} <= set(doc["results"][0])
    assert all(not r["path"].endswith("song1.wav") for r in doc["results"])  # more like it = other tracks
    assert "miscs" in doc["diversity"]


def test_text_search_with_a_descriptor_library_says_why_it_cannot(indexed) -> None:
    _, lib = indexed
    out = cli("search", "--text", "warm piano", "--library", str(lib))
    assert out.returncode == 1 and "no text tower" in out.stderr and out.stdout == ""


def test_bad_usage_exits_two(indexed) -> None:
    _, lib = indexed
    assert cli("search", "--library", str(lib)).returncode == 2
    assert cli("frobnicate").returncode == 2


def test_search_on_an_empty_library_is_a_clear_failure(tmp_path: Path) -> None:
    out = cli("search", "--like", "x.wav", "--library", str(tmp_path / "nothing"))
    assert out.returncode == 1 and "cuesteer index" in out.stderr


def test_embed_writes_npy(indexed, tmp_path: Path) -> None:
    music, _ = indexed
    target = tmp_path / "v.npy"
    out = cli("embed", "--audio", str(music / "song0.wav"), "--audio", f"{music / 'song2.wav'}@3",
              "--encoder", "descriptor", "--out", str(target))
    assert out.returncode == 0, out.stderr
    vectors = np.load(target)
    assert vectors.shape[0] == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_library_status(indexed) -> None:
    _, lib = indexed
    doc = json.loads(cli("library", "status", "--library", str(lib), "--json").stdout)
    assert doc["tracks"] == 3 and doc["errors"] == 1 and doc["encoder"]["id"] == "descriptor"


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(indexed) -> None:
    music, lib = indexed
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from worker.library.lock import WriteLock; "
        f"WriteLock({str(lib)!r}).acquire(); print('held', flush=True); time.sleep(30)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        out = cli("index", str(music), "--library", str(lib))
        assert out.returncode == 1 and "being written by process" in out.stderr
    finally:
        holder.kill()
        holder.wait()
    assert cli("index", str(music), "--library", str(lib)).returncode == 0  # a dead holder's lock is free


def test_analyze_json_contract_and_export_files(tmp_path: Path) -> None:
    song = write(tmp_path / "beat.wav", clicks(12.0, 120) + tone(12.0, 22050, 220.0) * 0.3)
    out = cli("analyze", str(song), "--json", "--library", str(tmp_path / "lib"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"tempo_bpm", "beats_s", "downbeats_s", "key", "loudness_lufs"} <= set(doc)
    assert abs(doc["tempo_bpm"] - 120) < 3
    target = tmp_path / "out"
    out = cli("export", str(song), "--midi", "--markers", "csv", "--out", str(target), "--json",
              "--library", str(tmp_path / "lib"))
    assert out.returncode == 0, out.stderr
    files = [Path(f) for f in json.loads(out.stdout)["files"]]
    assert files and all(f.exists() and target in f.parents for f in files)
    assert {f.suffix for f in files} >= {".wav", ".mid", ".csv"}
    again = cli("export", str(song), "--midi", "--out", str(target), "--library", str(tmp_path / "lib"))
    assert again.returncode == 1 and "force" in again.stderr  # never overwrites without --force


def test_generate_honours_signed_phrases_written_with_a_leading_dash(tmp_path: Path) -> None:
    out = cli("generate", "--steer", "+solo piano:0.8", "--steer", "-drums:0.6", "--seconds", "6", "--seed", "3",
              "--out", str(tmp_path / "cue"), "--json", "--library", str(tmp_path / "lib"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    names = [Path(f).name for f in doc["files"]]
    assert doc["seed"] == 3 and any(n.endswith("-mix.wav") for n in names) and any(n.endswith(".mid") for n in names)
    assert not any("drum" in n for n in names) and any("piano" in n for n in names)


def test_generated_cue_carries_markers_and_timecode(tmp_path: Path) -> None:
    out = cli("generate", "--text", "slow strings", "--seconds", "5", "--seed", "4", "--markers", "resolve",
              "--timecode", "10:00:00:00", "--fps", "24", "--out", str(tmp_path / "cue"), "--json",
              "--library", str(tmp_path / "lib"))
    assert out.returncode == 0, out.stderr
    files = {Path(f).suffix: Path(f) for f in json.loads(out.stdout)["files"]}
    assert "TITLE:" in files[".edl"].read_text() and "10:00:0" in files[".edl"].read_text()
    bad = cli("generate", "--seconds", "5", "--markers", "avid", "--out", str(tmp_path / "bad"),
              "--library", str(tmp_path / "lib"))
    assert bad.returncode == 1 and "marker format" in bad.stderr and not (tmp_path / "bad").exists()
