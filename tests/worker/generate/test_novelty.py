"""Novelty guard: SIM_AA as MusicLDM defines it, nearest-track merging, and a copied cue caught in a real library
(descriptor encoder, synthesised tracks indexed by the real indexer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.media import clicks, tone, write
from worker.encoders.base import unit
from worker.encoders.registry import get_encoder
from worker.generate.novelty import (
    NoveltyReport,
    VectorReference,
    check_novelty,
    cue_vectors,
    guard_cue,
    load_vector_reference,
    nearest_per_label,
    sim_aa,
)
from worker.jobs import Job
from worker.service import Service

SR = 22050
TRACK_S = 16.0


def test_sim_aa_is_the_share_strictly_above_the_threshold() -> None:
    nearest = [0.50, 0.91, 0.95, 0.96, 0.99]
    assert sim_aa(nearest, 0.90) == pytest.approx(4 / 5)
    assert sim_aa(nearest, 0.95) == pytest.approx(2 / 5)  # 0.95 itself is not above 0.95
    assert sim_aa([0.2, 0.3], 0.9) == 0.0
    with pytest.raises(ValueError):
        sim_aa([], 0.9)


def test_nearest_per_label_keeps_each_tracks_best_pair_best_first() -> None:
    sims = [0.2, 0.9, 0.7, 0.95, 0.1]
    labels = ["a", "b", "a", "c", "b"]
    found = nearest_per_label(sims, labels, [0.0, 5.0, 10.0, None, 0.0], [None, 0.0, 5.0, 5.0, 0.0], k=3)
    assert [(n.label, n.similarity, n.at_s, n.cue_at_s) for n in found] == [
        ("c", 0.95, None, 5.0), ("b", 0.9, 5.0, 0.0), ("a", 0.7, 10.0, 5.0)]
    assert [n.label for n in nearest_per_label(sims, labels, [None] * 5, [None] * 5, k=1)] == ["c"]


def test_report_warns_only_above_its_threshold() -> None:
    from worker.generate.novelty import Neighbour

    close = NoveltyReport("x", [Neighbour("/m/a.wav", 0.93, 20.0)], threshold=0.9)
    assert close.too_close and close.warning() == "too close to /m/a.wav at 20.0 s, 0.93"
    far = NoveltyReport("x", [Neighbour("/m/a.wav", 0.89)], threshold=0.9)
    assert not far.too_close and far.warning() is None and far.to_dict()["warning"] is None
    assert NoveltyReport("x").similarity == -1.0


def test_vector_reference_scores_by_cosine(tmp_path: Path) -> None:
    vectors = unit(np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]]))
    np.savez(tmp_path / "renders.npz", vectors=vectors, labels=np.array(["r0", "r1", "r2"]))
    reference = load_vector_reference(tmp_path / "renders.npz")
    assert reference is not None and load_vector_reference(tmp_path / "none.npz") is None
    queries = unit(np.array([[0.0, 1.0, 0.0], [0.0, 0.6, 0.8]]))
    found = reference.neighbours(queries, [0.0, None], k=2)
    # q0·r1 = 0.8, q1·r2 = 0.8, q1·r1 = 0.48: r1 (0.8 at cue 0 s) and r2 (0.8, whole cue) tie; r0 scores 0.
    assert {(n.label, round(n.similarity, 6), n.cue_at_s) for n in found} == {("r1", 0.8, 0.0), ("r2", 0.8, None)}
    assert all(n.source == "training" for n in found)


def _track(i: int) -> np.ndarray:
    wave = tone(TRACK_S, SR, 110.0 * (i + 2), noise=0.01 * i, seed=i)
    if i % 2:
        wave = wave + clicks(TRACK_S, 80 + 15 * i, SR, seed=i)
    return wave.astype(np.float32)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    music = tmp_path_factory.mktemp("music")
    for i in range(5):
        write(music / f"t{i}.wav", _track(i), SR)
    service = Service(tmp_path_factory.mktemp("lib"), encoder="descriptor")
    service.index(job=Job(), paths=[str(music)])
    yield service
    service.close()


def test_cue_vectors_cover_windows_and_the_whole_cue() -> None:
    encoder = get_encoder("descriptor")
    stereo = np.stack([_track(1)] * 2, axis=1)
    vectors, starts = cue_vectors(stereo, SR, encoder)
    assert starts == [0.0, 5.0, 6.0, None]  # 16 s: windows at 0 and 5 s, one ending at the end, then the whole
    assert vectors.shape == (4, encoder.dim)
    np.testing.assert_allclose(vectors[-1], unit(vectors[:-1].mean(axis=0)), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_copied_excerpt_is_caught_and_named(library: Service) -> None:
    encoder = get_encoder("descriptor")
    copy = _track(3)[int(4 * SR):int(14 * SR)]  # 10 s lifted from t3
    report = check_novelty(copy, SR, encoder, library=library.library)
    assert report.nearest[0].label.endswith("t3.wav")
    assert report.similarity > 0.95 and report.too_close
    assert "t3.wav" in report.warning()
    assert len({n.label for n in report.nearest}) == len(report.nearest) == 3


def test_different_music_is_not_flagged(library: Service) -> None:
    encoder = get_encoder("descriptor")
    other = (tone(10.0, SR, 1234.0, noise=0.2, seed=9) + clicks(10.0, 171, SR, seed=9)).astype(np.float32)
    report = check_novelty(other, SR, encoder, library=library.library)
    assert report.similarity < 0.9 and not report.too_close


def test_a_training_render_counts_like_a_library_track(library: Service) -> None:
    encoder = get_encoder("descriptor")
    render = (tone(10.0, SR, 1234.0, noise=0.2, seed=9) + clicks(10.0, 171, SR, seed=9)).astype(np.float32)
    vectors, _ = cue_vectors(render, SR, encoder)
    reference = VectorReference(vectors[-1:], ["render-0042"])
    report = check_novelty(render, SR, encoder, library=library.library, extra=[reference])
    assert report.nearest[0].label == "render-0042" and report.nearest[0].source == "training"
    assert report.similarity == pytest.approx(1.0, abs=1e-5)


def test_generated_cue_carries_its_novelty_and_a_copy_warns(library: Service, tmp_path: Path, capsys) -> None:
    """Service.generate stores the report in the result and the sidecar; once the cue itself is in the library,
    generating it again (same seed) is flagged — and the CLI warns — as too close to that file."""
    from worker.cli.main import main

    first = library.generate(job=Job(), out_dir=str(tmp_path / "a"), seconds=4.0, seed=5, name="cue")
    assert first["novelty"]["encoder"] == "descriptor" and first["novelty"]["similarity"] < 0.999
    sidecar = json.loads((tmp_path / "a" / "cue.json").read_text())
    assert sidecar["metadata"]["novelty"]["nearest"] == first["novelty"]["nearest"]
    library.index(job=Job(), paths=[str(tmp_path / "a" / "cue-mix.wav")])
    assert main(["generate", "--seconds", "4", "--seed", "5", "--out", str(tmp_path / "b"), "--json",
                 "--library", str(library.library_dir)]) == 0
    captured = capsys.readouterr()
    again = json.loads(captured.out)
    assert again["novelty"]["too_close"] and again["novelty"]["similarity"] > 0.99
    assert again["novelty"]["nearest"][0]["label"].endswith("cue-mix.wav")
    assert "warning: too close to " in captured.err and "cue-mix.wav" in captured.err


def test_no_encoder_no_report_and_each_encoder_has_its_threshold(library: Service) -> None:
    assert guard_cue(np.zeros((SR, 2), np.float32), SR, None, None) is None
    encoder = get_encoder("descriptor")
    report = guard_cue(np.stack([_track(2)] * 2, axis=1), SR, encoder, library.library)
    assert report["threshold"] == 0.95 and report["too_close"]  # descriptor's calibrated threshold
    assert guard_cue(np.stack([_track(2)] * 2, axis=1), SR, encoder, library.library, threshold=0.999)["threshold"] \
        == 0.999
