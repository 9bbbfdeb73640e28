"""Scene detection on synthesised videos with known cuts, and frame extraction at given times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop.picture.frame_picker import scene_stills
from desktop.picture.scenes import (
    SAMPLE_FPS,
    colour_histogram,
    detect_scenes,
    find_cuts,
    histogram_distance,
    representative_scenes,
    scenes_from_cuts,
)
from desktop.picture.video import VideoError, frames_at, probe, write_frames
from tests.desktop.picture.media import make_video

SCENES = [("ramp", 2.0), ("noise", 3.0), ("#2040c0", 2.5)]
CUTS = [2.0, 5.0]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "three.mp4", SCENES)


def test_detect_scenes_finds_the_cuts_within_one_sample(video: Path) -> None:
    analysis = detect_scenes(video)
    assert len(analysis.cuts_s) == len(CUTS)
    assert np.allclose(analysis.cuts_s, CUTS, atol=1.0 / SAMPLE_FPS)
    assert analysis.duration_s == pytest.approx(7.5, abs=0.1)
    assert analysis.boundaries[0][0] == 0.0 and analysis.boundaries[-1][1] == analysis.duration_s
    picks = [s.pick_s for s in analysis.scenes]
    assert all(a < p < b for p, (a, b) in zip(picks, analysis.boundaries, strict=True))


def test_cuts_between_b_frames_are_found_too(tmp_path: Path) -> None:
    """Sampling skips B-frames for speed; a cut falling on one is still placed within one sample."""
    video = make_video(tmp_path / "bframes.mp4", SCENES, bframes=3)
    analysis = detect_scenes(video)
    assert np.allclose(analysis.cuts_s, CUTS, atol=1.0 / SAMPLE_FPS)
    stills = scene_stills(str(video), analysis.scenes)  # keyframes where they are inside a shot, else exact
    red, blue = (frames_at(video, [p.time_s], max_side=80)[0] for p in (stills[0], stills[2]))
    assert red[..., 0].mean() > 80 and blue[..., 2].mean() > 150
    assert all(s.start_s <= p.time_s < s.end_s for s, p in zip(analysis.scenes, stills, strict=True))


def test_min_scene_length_ignores_flashes(tmp_path: Path) -> None:
    flashy = make_video(tmp_path / "flash.mp4", [("#202020", 1.5), ("#ffffff", 0.2), ("#202020", 1.3),
                                                 ("#c02020", 2.0)], seed=1)
    cuts = detect_scenes(flashy, min_scene_s=1.0).cuts_s
    # the white flash at 1.5 s is a cut; the return to grey 0.2 s later is too soon to be one
    assert len(cuts) == 2
    assert np.allclose(cuts, [1.5, 3.0], atol=1.0 / SAMPLE_FPS)


def test_histogram_distance_bounds() -> None:
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((4, 4, 3), np.uint8)
    blue[..., 2] = 255
    assert histogram_distance(colour_histogram(red), colour_histogram(red)) == 0.0
    assert histogram_distance(colour_histogram(red), colour_histogram(blue)) == pytest.approx(2 / 3)


def test_find_cuts_and_scenes_are_pure() -> None:
    a, b = np.eye(2)[0], np.eye(2)[1]
    times = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    hists = [a, a, b, a, a, b]  # jumps at 1.0 (kept), 1.5 (too soon), 2.5 (kept)
    assert find_cuts(times, hists, threshold=0.1, min_scene_s=1.0) == [1.0, 2.5]
    scenes = scenes_from_cuts([1.0, 2.5], 3.0, min_scene_s=1.0)  # last scene 0.5 s long joins the previous
    assert [(s.start_s, s.end_s) for s in scenes] == [(0.0, 1.0), (1.0, 3.0)]


def test_a_cut_moves_to_a_keyframe_only_if_it_shows_the_new_shot() -> None:
    a, b = np.eye(2)[0], np.eye(2)[1]
    times, hists = [0.0, 0.5, 1.0, 1.5, 2.0], [a, a, a, b, b]
    new_shot = [(0.0, a)] * 3 + [(1.2, b), (1.2, b)]  # the encoder's keyframe at 1.2 s is the cut
    old_shot = [(0.0, a)] * 3 + [(1.2, a), (1.2, a)]  # a keyframe a frame early, still the last shot
    assert find_cuts(times, hists, threshold=0.1, min_scene_s=0.5, keyframes=new_shot) == [1.2]
    assert find_cuts(times, hists, threshold=0.1, min_scene_s=0.5, keyframes=old_shot) == [1.5]
    assert find_cuts(times, hists, threshold=0.1, min_scene_s=0.5) == [1.5]


def test_representative_scenes_are_the_longest_in_time_order() -> None:
    edges = [0.0, 1.0, 5.0, 6.0, 6.5, 12.0, 13.0]  # lengths 1, 4, 1, 0.5, 5.5, 1
    scenes = scenes_from_cuts(edges[1:-1], edges[-1], min_scene_s=0.0)
    picked = representative_scenes(scenes, limit=3)
    assert [(s.start_s, s.end_s) for s in picked] == [(0.0, 1.0), (1.0, 5.0), (6.5, 12.0)]  # ties: earliest
    assert representative_scenes(scenes, limit=10) == scenes


def test_frames_at_returns_the_scene_colours(video: Path) -> None:
    blue, red = frames_at(video, [6.5, 1.0], max_side=80)  # unsorted on purpose: results follow the request
    assert blue.shape == red.shape == (44, 80, 3)  # 160x90 scaled to 80 wide, even height
    assert blue[..., 2].mean() > 150 and blue[..., 0].mean() < 80  # the last scene is #2040c0
    assert red[..., 0].mean() > 80 and red[..., 2].mean() < 50  # the first is a dark-red ramp
    assert probe(video).width == 160


def test_inexact_frames_are_the_keyframes_before(video: Path) -> None:
    """The strip's fast path: keyframes every second in this video, so 6.9 s gives the frame at 6.0 s (blue)."""
    exact, keyframe = frames_at(video, [6.9], max_side=80)[0], frames_at(video, [6.9], max_side=80, exact=False)[0]
    assert keyframe[..., 2].mean() > 150 and exact[..., 2].mean() > 150
    first = frames_at(video, [0.9], max_side=80, exact=False)[0]  # the keyframe at 0: darkest red of the ramp
    assert first[..., 0].mean() < frames_at(video, [0.9], max_side=80)[0][..., 0].mean()


def test_write_frames_writes_pngs_once(video: Path) -> None:
    paths = write_frames(video, [1.0, 6.0])
    assert [Path(p).read_bytes()[:8] for p in paths] == [b"\x89PNG\r\n\x1a\n"] * 2
    mtimes = [Path(p).stat().st_mtime_ns for p in paths]
    assert write_frames(video, [1.0, 6.0]) == paths
    assert [Path(p).stat().st_mtime_ns for p in paths] == mtimes


def test_not_a_video_raises_a_video_error(tmp_path: Path) -> None:
    bogus = tmp_path / "clip.mp4"
    bogus.write_text("not a video")
    with pytest.raises(VideoError, match="clip.mp4"):
        detect_scenes(bogus)
