"""IMSM (MeLFusion eq. 8) on hand-computed cases, and the text bridge through real (tiny) CLIP and CLAP towers."""

from __future__ import annotations

import os

import numpy as np
import pytest

from worker.retrieval.imsm import BRIDGE_TEXTS, attach_imsm, image_music_scores, imsm, imsm_raw

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def test_raw_imsm_is_the_product_of_the_two_score_matrices() -> None:
    a_clip = np.array([[1.0, 0.0, 0.5]])  # one image against three texts
    a_clap = np.array([[0.2, 0.4, 0.6], [1.0, 1.0, 1.0]])  # two pieces of music against the same texts
    # 1·0.2 + 0·0.4 + 0.5·0.6 = 0.5 ; 1 + 0 + 0.5 = 1.5
    np.testing.assert_allclose(imsm_raw(a_clip, a_clap), [[0.5, 1.5]])


def test_imsm_correlates_centred_profiles() -> None:
    a_clip = np.array([[1.0, 0.0, 0.5]])  # centred (0.5, −0.5, 0) → (1, −1, 0)/√2
    a_clap = np.array([
        [0.2, 0.4, 0.6],  # centred (−0.2, 0, 0.2) → (−1, 0, 1)/√2: dot = −1/2
        [0.9, 0.1, 0.5],  # the picture's preferences exactly: 1
        [1.0, 1.0, 1.0],  # no preference at all: 0
        [0.1, 0.9, 0.5],  # the opposite preferences: −1
    ])
    np.testing.assert_allclose(imsm(a_clip, a_clap), [[-0.5, 1.0, 0.0, -1.0]], atol=1e-12)


def test_imsm_ignores_each_encoders_constant_offset_and_scale() -> None:
    rng = np.random.default_rng(0)
    a_clip, a_clap = rng.normal(size=(2, 8)), rng.normal(size=(3, 8))
    shifted = imsm(0.2 + 0.1 * a_clip, 3.0 * a_clap - 1.0)
    np.testing.assert_allclose(shifted, imsm(a_clip, a_clap), atol=1e-12)
    assert not np.allclose(imsm_raw(0.2 + 0.1 * a_clip, a_clap), 0.1 * imsm_raw(a_clip, a_clap))


def test_the_bridge_needs_the_same_texts_on_both_sides() -> None:
    with pytest.raises(ValueError, match="same texts"):
        imsm(np.ones((1, 3)), np.ones((1, 4)))


@pytest.fixture(scope="module")
def towers():
    from tests.worker.encoders.tiny_models import tiny_clap, tiny_clip
    from worker.encoders.clap import ClapEncoder
    from worker.encoders.clip import ClipEncoder

    return ClapEncoder.from_objects(*tiny_clap()), ClipEncoder.from_objects(*tiny_clip())


def test_image_music_scores_follow_the_formula_through_real_towers(towers) -> None:
    clap, clip = towers
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (40, 48, 3), dtype=np.uint8) for _ in range(2)]
    tracks = rng.normal(size=(5, clap.dim)).astype(np.float32)
    scores = image_music_scores(frames, tracks, music_encoder=clap, image_encoder=clip)

    def unit(x):
        return x / np.linalg.norm(x, axis=-1, keepdims=True)

    picture = unit(unit(clip.embed_image(frames)).mean(axis=0))  # two frames are one query
    image_text = picture @ unit(clip.embed_text(list(BRIDGE_TEXTS))).T
    music_text = unit(tracks) @ unit(clap.embed_text(list(BRIDGE_TEXTS))).T
    i = image_text - image_text.mean()
    m = music_text - music_text.mean(axis=1, keepdims=True)
    expected = (m @ i) / (np.linalg.norm(m, axis=1) * np.linalg.norm(i))
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert scores.shape == (5,) and np.all(np.abs(scores) <= 1.0 + 1e-9)


def test_attach_imsm_says_why_when_it_cannot_bridge(towers) -> None:
    from worker.encoders.descriptor import DescriptorEncoder

    clap, _ = towers
    results = [{"path": "a"}, {"path": "b"}]
    reason = attach_imsm(results, ["frame.png"], np.zeros((2, 4)), DescriptorEncoder())
    assert "no text tower" in reason and "imsm" not in results[0]
    reason = attach_imsm(results, ["frame.png"], np.zeros((2, clap.dim)), clap)  # no CLIP here, CLAP sees no images
    assert "pull CLIP" in reason
    assert attach_imsm(results, None, np.zeros((2, 4)), clap) is None and "imsm" not in results[0]
