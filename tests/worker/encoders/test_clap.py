"""The `clap` encoder on a tiny randomly initialised ClapModel: the real feature extraction at 48 kHz, 10-s
windows, batching, normalisation and offline loading from a Hugging Face cache laid out on disk."""

from __future__ import annotations

import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pytest

from tests.worker.encoders.tiny_models import TINY_PROJECTION_DIM, save_to_hub_cache, tiny_clap
from worker.encoders.base import EncoderError, MissingTower
from worker.encoders.clap import DEFAULT_MODEL, ClapEncoder, clap_available

SR = 48_000
TINY_REPO = "tiny-org/tiny-clap"


@pytest.fixture(scope="module")
def tiny() -> tuple[object, object]:
    return tiny_clap()


@pytest.fixture(scope="module")
def encoder(tiny) -> ClapEncoder:
    model, processor = tiny
    return ClapEncoder.from_objects(model, processor, batch_size=3)


def _tone(seconds: float, freq: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.01
    return (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    """An empty Hugging Face home, offline, for this test only."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf" / "hub"


def test_describes_itself_at_48_khz_with_text(encoder):
    info = encoder.describe()
    assert info["id"] == "clap" and info["text"] is True and info["image"] is False
    assert encoder.sample_rate == SR and encoder.window_samples == 10 * SR
    assert encoder.dim == TINY_PROJECTION_DIM
    assert encoder.version.startswith("in-memory@sha256:")


def test_batch_gives_unit_rows_equal_to_one_at_a_time(encoder):
    # 6 windows with batch size 3 (the 25-s wave makes 3, split across two forward passes); lengths below, at
    # and above 10 s.
    waves = [_tone(10, 220), _tone(3, 440, 1), _tone(25, 550, 4), _tone(1.5, 330, 3)]
    batch = encoder.embed_audio(waves)
    assert batch.shape == (4, TINY_PROJECTION_DIM) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([encoder.embed_audio([w]) for w in waves])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_fused_model_is_batch_invariant_too():
    """The extractor marks a random clip of an all-short batch "longer" (fusion path) in fusion mode; the
    encoder must not, or a window's vector would depend on its batch-mates."""
    encoder = ClapEncoder.from_objects(*tiny_clap(fusion=True), batch_size=4)
    waves = [_tone(10, 220), _tone(3, 440, 1), _tone(7, 880, 2)]
    batch = encoder.embed_audio(waves)
    np.testing.assert_allclose(batch, np.concatenate([encoder.embed_audio([w]) for w in waves]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_same_input_same_output_and_different_inputs_differ(encoder):
    a, b = _tone(10, 220), _tone(10, 3000, 7)
    first, again = encoder.embed_audio([a]), encoder.embed_audio([a.copy()])
    np.testing.assert_array_equal(first, again)
    other = encoder.embed_audio([b])
    assert np.abs(first - other).max() > 1e-4


def test_short_wave_is_repeat_padded_to_the_window(encoder):
    short = _tone(3, 440)
    padded = np.zeros(10 * SR, np.float32)
    padded[: 9 * SR] = np.tile(short, 3)  # repeatpad: whole repeats, then silence
    vec, as_padded, zero_padded = encoder.embed_audio([short, padded, np.pad(short, (0, 7 * SR))])
    np.testing.assert_allclose(vec, as_padded, atol=1e-5)
    assert np.abs(vec - zero_padded).max() > 1e-5


def test_long_wave_is_the_mean_of_its_windows(encoder):
    wave = np.concatenate([_tone(10, 220), _tone(10, 660, 1), _tone(5, 1320, 2)])  # 25 s
    # Windows of 10 s, hop 10 s, the last one aligned to the end: [0, 10), [10, 20), [15, 25).
    parts = [wave[: 10 * SR], wave[10 * SR : 20 * SR], wave[15 * SR :]]
    per_window = encoder.embed_audio(parts)
    expected = per_window.sum(0) / np.linalg.norm(per_window.sum(0))
    whole = encoder.embed_audio([wave])[0]
    np.testing.assert_allclose(whole, expected, atol=1e-5)
    assert np.abs(whole - per_window[0]).max() > 1e-5


def test_bad_waves_are_named_and_empty_batches_are_empty(encoder):
    with pytest.raises(EncoderError, match="wave 1 is empty"):
        encoder.embed_audio([_tone(1, 220), np.zeros(0, np.float32)])
    with pytest.raises(EncoderError, match="wave 0 has shape"):
        encoder.embed_audio([np.zeros((2, SR), np.float32)])
    assert encoder.embed_audio([]).shape == (0, TINY_PROJECTION_DIM)
    assert encoder.embed_text([]).shape == (0, TINY_PROJECTION_DIM)
    with pytest.raises(MissingTower, match="clip"):
        encoder.embed_image(["frame.png"])


def test_non_finite_samples_do_not_poison_the_vector(encoder):
    wave = _tone(2, 220)
    wave[100:200] = np.nan
    vec = encoder.embed_audio([wave])
    assert np.isfinite(vec).all()


def test_text_unit_rows_batch_equals_single_and_phrases_differ(encoder):
    phrases = ["warm acoustic guitar", "dark cinematic strings with a long swelling crescendo", "piano"]
    batch = encoder.embed_text(phrases)
    assert batch.shape == (3, TINY_PROJECTION_DIM) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([encoder.embed_text([p]) for p in phrases])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    np.testing.assert_array_equal(encoder.embed_text(phrases[:1]), encoder.embed_text(phrases[:1]))
    assert np.abs(batch[0] - batch[2]).max() > 1e-4


def test_missing_weights_offline_name_the_pull_command(hub):
    assert not clap_available()
    with pytest.raises(EncoderError) as caught:
        ClapEncoder()
    message = str(caught.value)
    assert "cuesteer models pull clap" in message and DEFAULT_MODEL in message
    assert str(hub) in message and "HF_HUB_OFFLINE" in message


def test_loads_offline_from_the_hub_cache(hub, tiny, encoder):
    model, processor = tiny
    snapshot = save_to_hub_cache(model, processor, hub, TINY_REPO)
    assert clap_available(TINY_REPO) and not clap_available()
    loaded = ClapEncoder(TINY_REPO, device="cpu")
    assert loaded.version == f"{TINY_REPO}@{snapshot.name}"
    waves = [_tone(4, 220), _tone(12, 440, 1)]
    np.testing.assert_allclose(loaded.embed_audio(waves), encoder.embed_audio(waves), atol=1e-5)
    np.testing.assert_allclose(loaded.embed_text(["calm solo piano"]), encoder.embed_text(["calm solo piano"]),
                               atol=1e-5)


def test_snapshot_without_weights_is_missing_and_damaged_one_says_so(hub, tiny):
    model, processor = tiny
    snapshot = save_to_hub_cache(model, processor, hub, TINY_REPO)
    (snapshot / "tokenizer.json").unlink()  # transformers would quietly build an empty tokenizer
    assert not clap_available(TINY_REPO)
    with pytest.raises(EncoderError, match="incomplete.*tokenizer.json or vocab.json.*cuesteer models pull"):
        ClapEncoder(TINY_REPO)
    processor.save_pretrained(snapshot)
    (snapshot / "model.safetensors").write_bytes(b"truncated download")
    with pytest.raises(EncoderError, match="incomplete or damaged.*cuesteer models pull"):
        ClapEncoder(TINY_REPO)
    (snapshot / "model.safetensors").unlink()
    assert not clap_available(TINY_REPO)
    with pytest.raises(EncoderError, match="not in the Hugging Face cache"):
        ClapEncoder(TINY_REPO)


def test_batch_size_must_be_positive(tiny):
    with pytest.raises(ValueError, match="batch_size"):
        ClapEncoder.from_objects(*tiny, batch_size=0)


def test_hub_cache_follows_the_environment_at_call_time(tmp_path, monkeypatch):
    from worker.encoders import hf

    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hf.hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hf.hub_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "direct"))
    assert hf.hub_cache_dir() == tmp_path / "direct"


def test_pull_refuses_while_offline_and_device_choice(hub):
    import torch

    from worker.encoders import hf

    with pytest.raises(EncoderError, match="HF_HUB_OFFLINE is set"):
        hf.pull(DEFAULT_MODEL)
    assert not any(hub.parent.rglob("*.safetensors"))
    assert hf.pick_device("cpu") == "cpu"
    assert (hf.pick_device() == "cuda") == torch.cuda.is_available()
    assert hf.pick_device() in ("cuda", "mps", "cpu")
