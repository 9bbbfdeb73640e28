"""A tiny real training run: one small freshly rendered shard, a few steps, a small model from its config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from worker.encoders.offline.encoder import OfflineEncoder
from worker.encoders.offline.model import ModelConfig, OfflineModel, load_weights
from worker.encoders.offline.train import dataset, trainer

TINY = {"stats": ModelConfig(tower="stats", stats_hidden=64, embed_dim=32, text_hidden=64),
        "cnn": ModelConfig(tower="cnn", widths=(4, 8), rhythm_hidden=8, embed_dim=32, text_hidden=64)}
STEPS = 90


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """As in `cuesteer train-offline-model`: tiny matrices train fastest (and bit-stable) on one thread."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("offline-data")
    path = root / "train-00000.pt"
    dataset.save_shard(dataset.make_shard("train", 0, seed=5, pieces=[], n_clips=6, seconds=3.0), path)
    data = dataset.load_shards([path])
    texts = [text for caps in data["captions"] for text, _ in caps]
    return data, trainer.embed_captions(texts, root / "caption-vectors.pt")


def _run(tower: str, shard, seed: int, steps: int) -> tuple[OfflineModel, dict[str, float]]:
    torch.manual_seed(seed)
    model = OfflineModel(TINY[tower])
    stats = trainer.train(model, shard[0], shard[1], seed=seed, steps=steps)
    return model, stats


def test_the_shard_holds_two_views_tokens_and_captions(shard):
    data, vecs = shard
    n = len(data["tokens"])
    assert n >= 6 and data["mel"].shape[:2] == (n, dataset.VIEWS)
    assert all(any(t.startswith("tempo:") for t in tokens) for tokens in data["tokens"])
    assert all(set(cap_tokens) <= set(tokens) for caps, tokens in zip(data["captions"], data["tokens"], strict=True)
               for _, cap_tokens in caps)
    assert all(v.shape == (384,) for v in vecs.values())


def test_training_reduces_the_loss(shard):
    _, stats = _run("stats", shard, seed=1, steps=STEPS)
    assert stats["steps"] == STEPS
    assert stats["final_loss"] < 0.8 * stats["first_loss"]


@pytest.mark.parametrize("tower", ["stats", "cnn"])
def test_same_seed_and_steps_give_the_same_weights(shard, tower):
    a, _ = _run(tower, shard, seed=2, steps=4)
    b, _ = _run(tower, shard, seed=2, steps=4)
    c, _ = _run(tower, shard, seed=3, steps=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_written_weights_load_and_embed_like_the_trained_model(shard, tmp_path: Path):
    model, stats = _run("stats", shard, seed=4, steps=10)
    path = trainer.write_outputs(model, {"tag": "tiny", **stats}, {"light": {}}, tmp_path)
    loaded, meta = load_weights(path)
    assert meta["tag"] == "tiny" and (tmp_path / "metrics.json").exists()
    waves = [np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.1]
    fresh = OfflineEncoder(weights=path).embed_audio(waves)
    in_memory = OfflineEncoder(model=model).embed_audio(waves)
    np.testing.assert_allclose(fresh, in_memory, atol=5e-3)
    assert loaded.cfg == model.cfg
