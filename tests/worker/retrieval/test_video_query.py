"""Video as the query: cuts found on a synthesised video with known cuts (a flash is not a cut), 1-fps sampling,
ranges, cue grouping, and the pooling formulas on hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.library.decode import DecodeError
from worker.retrieval.video_query import (
    Cue,
    Scene,
    attention_pool,
    attention_weights,
    cue_frames,
    detect_cuts,
    distance,
    frame_counts,
    histogram,
    mean_pool,
    parse_range,
    parse_time,
    sample_video,
    scenes_from,
    video_cues,
)

FPS = 10
CUTS = (4.0, 9.3)  # the scene changes of the synthesised video
FLASH = (6.0, 6.2)  # two white frames inside the second scene
LENGTH_S = 13.0
FRAME_S = 1.0 / FPS


def _frame(t: float, rng: np.random.Generator) -> np.ndarray:
    """Scene 1 reddish noise, scene 2 a blue gradient (with the flash), scene 3 green noise: 48×64 RGB."""
    if FLASH[0] <= t < FLASH[1]:
        return np.full((48, 64, 3), 250, np.uint8)
    noise = rng.integers(0, 40, (48, 64, 3))
    if t < CUTS[0]:
        base = np.array([200, 60, 40])
    elif t < CUTS[1]:
        ramp = np.linspace(0, 60, 64)[None, :, None]
        return np.clip(np.array([20, 40, 160]) + ramp + noise // 4, 0, 255).astype(np.uint8)
    else:
        base = np.array([40, 170, 60])
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_video(path: Path) -> Path:
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"qscale": "2"}
        for i in range(int(LENGTH_S * FPS)):
            frame = av.VideoFrame.from_ndarray(_frame(i / FPS, rng), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "three-scenes.mp4")


def test_cuts_are_found_at_the_frame_and_the_flash_is_ignored(video: Path) -> None:
    sampled = sample_video(video)
    assert len(sampled.times) == LENGTH_S * FPS
    cuts = detect_cuts(sampled.times, sampled.histograms)
    assert len(cuts) == 2
    np.testing.assert_allclose(cuts, CUTS, atol=FRAME_S / 2)  # the first frame of each new scene


def test_frames_are_sampled_once_a_second(video: Path) -> None:
    sampled = sample_video(video)
    np.testing.assert_allclose(sampled.sample_times, np.arange(13.0), atol=1e-6)
    assert sampled.samples[0].shape == (48, 64, 3) and sampled.end_s == pytest.approx(LENGTH_S, abs=FRAME_S)


def test_scenes_and_cues_of_the_whole_video_and_of_a_range(video: Path) -> None:
    sampled = sample_video(video)
    scenes = scenes_from(sampled, detect_cuts(sampled.times, sampled.histograms))
    assert [(s.start_s, len(s.frames)) for s in scenes] == [(0.0, 4), (4.0, 6), (9.3, 3)]
    assert scenes[1].frame_times == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert [(c.start_s, round(c.end_s, 1)) for c in video_cues(video, min_cue_s=3.0)] == [
        (0.0, 4.0), (4.0, 9.3), (9.3, 13.0)]
    # 8-s cues: scene 1 (4 s) waits for scene 2; scene 3 (3.7 s) is too short alone and joins that cue.
    assert [len(c.scenes) for c in video_cues(video, min_cue_s=8.0)] == [3]
    ranged = video_cues(video, start_s=5.0, end_s=12.0, min_cue_s=2.0)
    assert [(c.start_s, round(c.end_s, 1)) for c in ranged] == [(5.0, 9.3), (9.3, 12.0)]
    assert ranged[0].scenes[0].frame_times == [5.0, 6.0, 7.0, 8.0, 9.0]
    one = video_cues(video, split=False)
    assert len(one) == 1 and len(one[0].scenes) == 3


def test_a_file_without_pictures_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"not a video")
    with pytest.raises(DecodeError):
        sample_video(tmp_path / "x.mp4")


def test_ranges_and_times_parse() -> None:
    assert parse_time("75") == 75.0 and parse_time("1:15.5") == 75.5 and parse_time("1:00:05") == 3605.0
    assert parse_range("12-40") == (12.0, 40.0) and parse_range("1:05-") == (65.0, None)
    assert parse_range("-30") == (None, 30.0)
    for bad in ("40-12", "abc", "1-x"):
        with pytest.raises(ValueError):
            parse_range(bad)


def test_histogram_distance() -> None:
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    half = red.copy()
    half[:2] = 0
    assert histogram(red).sum() == pytest.approx(1.0)
    assert distance(histogram(red), histogram(red)) == 0.0
    assert distance(histogram(red), histogram(half)) == pytest.approx(0.5)
    assert distance(histogram(red), histogram(np.zeros_like(red))) == pytest.approx(1.0)


def test_min_scene_length_keeps_the_stronger_of_two_close_cuts() -> None:
    times = np.arange(0, 10, 0.5)
    a, b, c = np.eye(3)
    hists = np.array([a] * 8 + [0.5 * a + 0.5 * b] * 2 + [c] * 10)  # soft step at 4 s, hard one at 5 s
    assert detect_cuts(times, hists, threshold=0.4, window_s=1.0, min_scene_s=2.0) == [5.0]


def test_mean_pool_is_the_unit_mean_of_unit_vectors() -> None:
    pooled = mean_pool(np.array([[2.0, 0.0], [0.0, 5.0]]))
    np.testing.assert_allclose(pooled, [np.sqrt(0.5), np.sqrt(0.5)])


def test_attention_weights_follow_length_and_agreement() -> None:
    scenes = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # centre c = unit(3·e1 + 1·e1 + 1·e2) = (4, 1)/√17; logits = log len + ⟨s, c⟩/τ
    lengths = [3.0, 1.0, 1.0]
    c = np.array([4.0, 1.0]) / np.sqrt(17.0)
    logits = np.log(lengths) + scenes @ c / 0.5
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(attention_weights(scenes, lengths, temperature=0.5), expected)
    # identical looks: the weights are the lengths' shares
    np.testing.assert_allclose(attention_weights(np.ones((3, 2)), [1.0, 2.0, 5.0]), [1 / 8, 2 / 8, 5 / 8])
    # a short odd-looking insert gets far less than its length share (1/9)
    w = attention_weights(np.array([[1.0, 0.0], [0.0, 1.0]]), [8.0, 1.0], temperature=0.1)
    assert w[1] < 1e-4
    pooled, weights = attention_pool(scenes, lengths, temperature=0.5)
    direction = weights @ scenes
    np.testing.assert_allclose(pooled, direction / np.linalg.norm(direction))
    with pytest.raises(ValueError):
        attention_weights(scenes, [1.0, 0.0, 2.0])


def test_frame_counts_are_largest_remainder_shares() -> None:
    assert frame_counts([0.5, 0.3, 0.2], 10) == [5, 3, 2]
    assert frame_counts([1.0, 1.0, 1.0], 4) == [2, 1, 1]
    assert sum(frame_counts([0.123, 0.456, 0.421], 64)) == 64


def test_cue_frames_carry_the_weights_into_a_plain_mean() -> None:
    rng = np.random.default_rng(3)
    looks = {1: np.array([1.0, 0.0, 0.0]), 2: np.array([0.0, 1.0, 0.0]), 3: np.array([0.6, 0.8, 0.0])}
    frames = {k: rng.integers(0, 255, (4, 4, 3), dtype=np.uint8) for k in looks}
    scenes = [Scene(0.0, 6.0, [0, 2, 4], [frames[1]] * 3), Scene(6.0, 7.0, [6], [frames[2]]),
              Scene(7.0, 10.0, [7, 8, 9], [frames[3]] * 3)]

    def embed(images):
        return np.stack([looks[next(k for k, f in frames.items() if f is im)] for im in images])

    chosen, weights = cue_frames(Cue(scenes), pool="attention", embed_image=embed, budget=200)
    expected_vector, expected_weights = attention_pool(np.stack(list(looks.values())), [6.0, 1.0, 3.0])
    np.testing.assert_allclose(weights, expected_weights)
    np.testing.assert_allclose(mean_pool(embed(chosen)), expected_vector, atol=0.02)
    plain, shares = cue_frames(Cue(scenes), pool="mean")
    assert len(plain) == 7 and shares == [3 / 7, 1 / 7, 3 / 7]
    with pytest.raises(ValueError):
        cue_frames(Cue(scenes), pool="max")


@pytest.fixture(scope="module")
def conditioned(service):
    """The shared tiny-CLAP library with a (tiny, briefly trained) conditional prior on tiny-CLIP conditions."""
    from worker.jobs import Job
    from worker.retrieval import conditional, priors

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(priors, "TRAIN_WIDTH", 32)
        patch.setattr(priors, "TRAIN_DEPTH", 2)
        patch.setattr(conditional, "REGRESSION_STEPS", 20)
        service.train_prior(job=Job(), conditional=True, condition_encoder="clip", steps=30)
    return service


def test_video_search_gives_each_cue_its_own_results_with_picture_scores(conditioned, video: Path,
                                                                         monkeypatch) -> None:
    from worker.jobs import Job
    from worker.retrieval import video_query

    monkeypatch.setattr(video_query, "MIN_CUE_S", 3.0)
    out = conditioned.search(job=Job(), video=str(video), seed=2, seeds=4, k=3)
    assert [(c["start_s"], c["end_s"]) for c in out["cues"]] == [(0.0, 4.0), (4.0, 9.3), (9.3, 13.0)]
    for cue in out["cues"]:
        assert len(cue["results"]) == 3 and cue["weights"] == [1.0]
        assert all(-1.0 <= r["imsm"] <= 1.0 for r in cue["results"])  # IMSM next to every picture result
    one = conditioned.search(job=Job(), video=str(video), video_range=[5.0, 12.0], split=False, seed=2, seeds=4,
                             k=3, pool="attention")
    (cue,) = one["cues"]
    assert (cue["start_s"], cue["end_s"], len(cue["scenes"])) == (5.0, 12.0, 2)
    assert sum(cue["weights"]) == pytest.approx(1.0, abs=1e-3) and cue["frames"] >= 64


def test_cli_search_video_range_json(conditioned, video: Path, monkeypatch, capsys) -> None:
    import json

    from worker.cli.main import main

    assert main(["search", "--video", str(video), "--range", "0:05-12", "--one-cue", "--pool", "mean", "-k", "2",
                 "--seeds", "4", "--seed", "1", "--library", str(conditioned.library_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pool"] == "mean" and out["range"] == [5.0, 12.0] and len(out["cues"]) == 1
    assert out["cues"][0]["frames"] == 7 and len(out["cues"][0]["results"]) == 2
    assert main(["search", "--range", "1-2", "--text", "x"]) == 2
