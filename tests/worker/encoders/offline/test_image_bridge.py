"""The image bridge, transparently: colour descriptors of hand-made pictures move the embedding toward the
anchor phrases they should (bright/warm vs dark/cold), through the committed model's text space."""

from __future__ import annotations

import numpy as np

from worker.encoders.offline import image_bridge

SIZE = 64


def bright_warm() -> np.ndarray:
    """A sunny orange gradient with soft stripes."""
    y = np.linspace(0, 1, SIZE)[:, None]
    img = np.zeros((SIZE, SIZE, 3), np.float32)
    img[..., 0] = 1.0
    img[..., 1] = 0.75 + 0.2 * y
    img[..., 2] = 0.35 + 0.05 * np.sin(np.arange(SIZE) / 3.0)[None, :]
    return img


def dark_cold() -> np.ndarray:
    """A deep-blue night with a few faint points."""
    img = np.zeros((SIZE, SIZE, 3), np.float32)
    img[..., 2] = 0.3
    img[..., 1] = 0.08
    img[::16, ::16] = 0.4
    return img


def test_descriptors_read_brightness_and_warmth():
    hot, cold = image_bridge.descriptors(bright_warm()), image_bridge.descriptors(dark_cold())
    assert hot["brightness"] > 0.6 > 0.2 > cold["brightness"]
    assert hot["warmth"] > 0.7 and cold["warmth"] < 0.4


def test_bright_warm_and_dark_cold_pictures_move_toward_their_anchor_phrases(committed):
    images = committed.embed_image([bright_warm(), dark_cold()])
    (bright_low, bright_high), (warm_low, warm_high) = [(low, high) for name, low, high in image_bridge.ANCHORS
                                                        if name in ("brightness", "warmth")]
    anchors = committed.embed_text([bright_high, bright_low, warm_high, warm_low])
    sim = images @ anchors.T  # rows: bright/warm picture, dark/cold picture
    assert sim[0, 0] > sim[1, 0] and sim[1, 1] > sim[0, 1]  # brightness anchors
    assert sim[0, 2] > sim[1, 2] and sim[1, 3] > sim[0, 3]  # warmth anchors
    assert np.allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)


def test_the_encoder_says_clip_is_the_real_image_encoder(committed):
    assert "CLIP" in str(committed.describe()["image_bridge"])
