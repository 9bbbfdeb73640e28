"""The `clip` encoder on a tiny randomly initialised CLIPModel: images from PIL, paths and frames, text, batching,
normalisation, and offline loading from a Hugging Face cache laid out like the real repository's."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pytest
from PIL import Image

from tests.worker.encoders.tiny_models import TINY_IMAGE_SIZE, TINY_PROJECTION_DIM, save_to_hub_cache, tiny_clip
from worker.encoders.base import EncoderError, MissingTower
from worker.encoders.clip import DEFAULT_MODEL, ClipEncoder, clip_available

TINY_REPO = "tiny-org/tiny-clip"


@pytest.fixture(scope="module")
def tiny() -> tuple[object, object]:
    return tiny_clip()


@pytest.fixture(scope="module")
def encoder(tiny) -> ClipEncoder:
    model, processor = tiny
    return ClipEncoder.from_objects(model, processor, batch_size=2)


def _picture(seed: int, size: tuple[int, int] = (48, 40)) -> Image.Image:
    """A smooth random picture (large blobs survive the resize to the model's input)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.Resampling.BILINEAR)


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf" / "hub"


def test_describes_itself_with_image_and_text_but_no_audio(encoder):
    info = encoder.describe()
    assert info["id"] == "clip" and info["image"] is True and info["text"] is True
    assert encoder.dim == TINY_PROJECTION_DIM
    with pytest.raises(MissingTower, match="clap"):
        encoder.embed_audio([np.zeros(16_000, np.float32)])


def test_images_batch_gives_unit_rows_equal_to_one_at_a_time(encoder):
    pictures = [_picture(i) for i in range(5)]  # batch size 2: three passes, the last partial
    batch = encoder.embed_image(pictures)
    assert batch.shape == (5, TINY_PROJECTION_DIM) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([encoder.embed_image([p]) for p in pictures])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    np.testing.assert_array_equal(encoder.embed_image(pictures[:1]), encoder.embed_image(pictures[:1]))
    assert np.abs(batch[0] - batch[1]).max() > 1e-4


def test_paths_frames_and_pil_images_agree(encoder, tmp_path):
    picture = _picture(3, (TINY_IMAGE_SIZE, TINY_IMAGE_SIZE))
    path = tmp_path / "still.png"
    picture.save(path)
    frame = np.asarray(picture)  # (H, W, 3) uint8, as PyAV hands out video frames
    rgba = picture.convert("RGBA")
    vectors = encoder.embed_image([picture, path, str(path), frame, frame / 255.0, rgba])
    for row in vectors[1:]:
        np.testing.assert_allclose(row, vectors[0], atol=1e-5)


def test_unreadable_images_name_themselves(encoder, tmp_path):
    bad = tmp_path / "not-a-picture.png"
    bad.write_bytes(b"this is text")
    with pytest.raises(EncoderError, match="not-a-picture.png"):
        encoder.embed_image([bad])
    with pytest.raises(EncoderError, match="missing.jpg"):
        encoder.embed_image([tmp_path / "missing.jpg"])
    with pytest.raises(EncoderError, match="cannot embed int"):
        encoder.embed_image([42])
    assert encoder.embed_image([]).shape == (0, TINY_PROJECTION_DIM)


def test_text_unit_rows_batch_equals_single_and_phrases_differ(encoder):
    phrases = ["a photo of a beach at sunset", "a city street at night, neon and rain!", "forest"]
    batch = encoder.embed_text(phrases)
    assert batch.shape == (3, TINY_PROJECTION_DIM)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([encoder.embed_text([p]) for p in phrases])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    assert np.abs(batch[0] - batch[2]).max() > 1e-4


def test_missing_weights_offline_name_the_pull_command(hub):
    assert not clip_available()
    with pytest.raises(EncoderError) as caught:
        ClipEncoder()
    message = str(caught.value)
    assert "cuesteer models pull clip" in message and DEFAULT_MODEL in message and str(hub) in message


def test_loads_offline_from_a_cache_laid_out_like_the_real_repository(hub, tiny, encoder):
    """openai/clip-vit-base-patch32 ships a legacy `preprocessor_config.json` (CLIPFeatureExtractor) and
    vocab/merges files; it must load with the PIL image backend when torchvision is absent."""
    model, processor = tiny
    snapshot = save_to_hub_cache(model, processor, hub, TINY_REPO)
    processor.tokenizer.save_pretrained(snapshot)
    saved = json.loads((snapshot / "processor_config.json").read_text())["image_processor"]
    (snapshot / "processor_config.json").unlink()
    legacy = {"feature_extractor_type": "CLIPFeatureExtractor", "crop_size": TINY_IMAGE_SIZE,
              "size": TINY_IMAGE_SIZE, "do_center_crop": True, "do_normalize": True, "do_resize": True,
              "resample": 3, "image_mean": saved["image_mean"], "image_std": saved["image_std"]}
    (snapshot / "preprocessor_config.json").write_text(json.dumps(legacy))
    assert clip_available(TINY_REPO) and not clip_available()

    loaded = ClipEncoder(TINY_REPO, device="cpu")
    assert loaded.version == f"{TINY_REPO}@{snapshot.name}"
    pictures = [_picture(7), _picture(8, (80, 30))]
    np.testing.assert_allclose(loaded.embed_image(pictures), encoder.embed_image(pictures), atol=1e-5)
    np.testing.assert_allclose(loaded.embed_text(["calm solo piano"]), encoder.embed_text(["calm solo piano"]),
                               atol=1e-5)
