"""The conditional prior and the regression baseline through the Service: trained on pseudo-pairs (phrases
matched to the tiny-CLAP library) and on frame/soundtrack pairs of a PyAV-written video, conditions in the tiny
CLIP's space; picture queries go through CFG, `--mode regression` through the trained regressor."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.worker.retrieval.conftest import TRACKS
from tests.worker.retrieval.test_video_pairs import write_video
from worker.encoders.registry import get_encoder
from worker.jobs import Job, JobFailed
from worker.prior.checkpoint import build_model, load_checkpoint, save_checkpoint
from worker.prior.seeds import regress
from worker.retrieval import conditional, priors
from worker.service import Service

WINDOWS_PER_TRACK = 2  # 11-s tracks in 10-s windows with a 5-s hop


@pytest.fixture(scope="module")
def trained(service: Service, tmp_path_factory: pytest.TempPathFactory) -> dict:
    videos = tmp_path_factory.mktemp("videos")
    write_video(videos / "a.mkv")
    (videos / "broken.mp4").write_bytes(b"not a video")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(priors, "TRAIN_WIDTH", 32)
        patch.setattr(priors, "TRAIN_DEPTH", 2)
        patch.setattr(conditional, "REGRESSION_STEPS", 40)
        return service.train_prior(job=Job(), conditional=True, videos=str(videos), condition_encoder="clip",
                                   steps=40)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from PIL import Image

    folder = tmp_path_factory.mktemp("pictures")
    out = []
    for name, colour in (("sunset", (250, 120, 30)), ("night", (10, 20, 60))):
        Image.new("RGB", (48, 40), colour).save(folder / f"{name}.png")
        out.append(str(folder / f"{name}.png"))
    return out


def test_training_stores_both_models_tied_to_library_and_condition_encoders(service, trained) -> None:
    assert trained["pseudo_pairs"] == TRACKS * WINDOWS_PER_TRACK * 2 and trained["video_pairs"] == 3
    assert [Path(s["path"]).name for s in trained["skipped"]] == ["broken.mp4"]
    for kind in (conditional.CONDITIONAL, conditional.REGRESSION):
        checkpoint, reason = conditional.load(service.library, kind)
        assert reason is None and checkpoint.info["condition_encoder"] == "clip"
        assert checkpoint.config.cond_dim == get_encoder("clip").dim
        assert (checkpoint.encoder_id, checkpoint.encoder_version) == service.library.encoder


def test_several_pictures_are_one_query_the_mean_of_unit_embeddings(service, trained, pictures) -> None:
    clip = get_encoder("clip")
    each = clip.embed_image(pictures)
    mean = each.mean(axis=0)
    np.testing.assert_allclose(conditional.condition_vector(clip, images=pictures), mean / np.linalg.norm(mean),
                               atol=1e-5)


def test_picture_query_samples_the_conditional_prior_with_cfg(service, trained, pictures) -> None:
    stages: list[str] = []
    job = Job(progress_fn=lambda stage, fraction, message: stages.append(message))
    a = service.search(job=job, images=pictures, seed=3, seeds=8, k=4)
    b = service.search(job=Job(), images=pictures, seed=3, seeds=8, k=4)
    assert a["results"] == b["results"] and a["mode"] == "prior" and a["seeds"] == list(range(3, 11))
    assert any("conditioned on 2 picture(s)" in m for m in stages)
    # the seeds are the conditional prior's samples for the pictures' condition, nothing else
    checkpoint, _ = conditional.load(service.library, conditional.CONDITIONAL)
    seeds, _ = priors.sample_seeds(checkpoint, n=8, seed=3, directions=None, strengths=None,
                                   omega=conditional.DEFAULT_OMEGA,
                                   condition=conditional.condition_vector(get_encoder("clip"), images=pictures))
    assert [h.path for h in service.searcher.query(seeds, 4)] == [r["path"] for r in a["results"]]


def test_text_query_conditions_the_conditional_prior_when_one_is_trained(service, trained) -> None:
    out = service.search(job=Job(), text="calm solo piano", seed=4, seeds=8, k=4)
    assert out["mode"] == "prior" and out["prior"] == "conditional"
    checkpoint, _ = conditional.load(service.library, conditional.CONDITIONAL)
    condition = conditional.condition_vector(get_encoder("clip"), texts=["calm solo piano"])
    query = service._query_encoder().embed_text(["calm solo piano"])  # the text also steers, in the library space
    seeds, _ = priors.sample_seeds(checkpoint, n=8, seed=4, directions=query,
                                   strengths=[conditional.TEXT_QUERY_STEER], omega=conditional.DEFAULT_OMEGA,
                                   condition=condition)
    assert [h.path for h in service.searcher.query(seeds, 4)] == [r["path"] for r in out["results"]]
    steering_only = service.search(job=Job(), steer=["+calm solo piano"], seed=4, seeds=8, k=4)
    assert steering_only["prior"] == "unconditional"  # no text to condition on: the library's own prior


def test_regression_mode_maps_the_query_to_the_regressors_one_embedding(service, trained) -> None:
    out = service.search(job=Job(), text="calm solo piano", mode="regression", seed=9, k=4)
    assert out["mode"] == "regression" and out["seeds"] == [9]
    checkpoint, _ = conditional.load(service.library, conditional.REGRESSION)
    condition = conditional.condition_vector(get_encoder("clip"), texts=["calm solo piano"])
    expected = regress(build_model(checkpoint), condition)
    assert [h.path for h in service.searcher.query(expected, 4)] == [r["path"] for r in out["results"]]
    plain_query = service._query_encoder().embed_text(["calm solo piano"])[0]
    assert float(expected[0] @ plain_query) < 0.99  # a learned mapping, not the query itself


def test_changed_condition_encoder_makes_the_models_stale(service, trained, pictures, tmp_path: Path) -> None:
    path = priors.prior_path(service.library, conditional.CONDITIONAL)
    backup = shutil.copy(path, tmp_path / "backup.pt")
    try:
        checkpoint = load_checkpoint(path)
        checkpoint.info["condition_version"] = "another-build"
        save_checkpoint(checkpoint, path)
        loaded, reason = conditional.load(service.library, conditional.CONDITIONAL)
        assert loaded is None and "clip" in reason and "prior train --conditional" in reason
        with pytest.raises(JobFailed, match="conditional prior"):  # a CLAP library cannot embed the picture itself
            service.search(job=Job(), images=pictures[:1], seed=0, k=2)
    finally:
        shutil.copy(backup, path)


def test_missing_regressor_is_trained_on_pseudo_pairs_on_demand(service, trained,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(priors, "TRAIN_WIDTH", 32)
    monkeypatch.setattr(priors, "TRAIN_DEPTH", 2)
    monkeypatch.setattr(conditional, "REGRESSION_STEPS", 30)
    path = priors.prior_path(service.library, conditional.REGRESSION)
    path.unlink()
    stages: list[str] = []
    out = service.search(job=Job(progress_fn=lambda stage, fraction, message: stages.append(stage)),
                         text="warm acoustic guitar", steer=[["drums", -0.5]], mode="regression", seed=1, k=3)
    assert path.exists() and "regression" in stages and len(out["results"]) == 3
    checkpoint = load_checkpoint(path)  # no CLIP weights in the user's cache: conditions in the library's space
    assert checkpoint.info["condition_encoder"] == "library" and checkpoint.info["video_pairs"] == 0


def test_cli_trains_the_conditional_prior_from_a_folder_of_videos(service, trained, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import json

    from worker.cli.main import main

    monkeypatch.setattr(priors, "TRAIN_WIDTH", 32)
    monkeypatch.setattr(priors, "TRAIN_DEPTH", 2)
    monkeypatch.setattr(conditional, "REGRESSION_STEPS", 20)
    write_video(tmp_path / "b.mkv", seconds=15.0)
    args = ["prior", "train", "--conditional", "--videos", str(tmp_path), "--steps", "20",
            "--library", str(service.library_dir), "--json"]
    assert main(args) == 1 and "embeds pictures" in capsys.readouterr().err  # CLAP has no image tower
    design_spelling = ["prior", "train", "--from", "pairs", str(tmp_path), *args[5:]]  # DESIGN §12
    assert main(design_spelling) == 1 and "embeds pictures" in capsys.readouterr().err
    assert main(["prior", "train", "--from", "pairs"]) == 2 and "pairs DIR" in capsys.readouterr().err
    code = main([*args, "--condition-encoder", "clip"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert out["video_pairs"] == 2 and out["condition_encoder"] == "clip"
    assert Path(out["path"]).exists() and Path(out["regression_path"]).exists()
    assert conditional.load(service.library, conditional.CONDITIONAL)[1] is None
