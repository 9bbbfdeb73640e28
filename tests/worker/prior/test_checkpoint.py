import os

import numpy as np
import pytest
import torch

from worker.prior.checkpoint import (
    CheckpointError,
    build_model,
    data_fingerprint,
    is_stale,
    load_checkpoint,
    save_checkpoint,
    stale_reason,
)
from worker.prior.seeds import generate_seeds


def test_save_load_round_trip_reproduces_the_same_seeds(gaussian_prior, tmp_path):
    path = save_checkpoint(gaussian_prior, tmp_path / "prior" / "prior.pt")
    assert sorted(os.listdir(path.parent)) == ["prior.pt"]  # no temp file left behind
    loaded = load_checkpoint(path)
    assert loaded.config == gaussian_prior.config
    assert loaded.sigma_data == gaussian_prior.sigma_data
    assert (loaded.encoder_id, loaded.encoder_version, loaded.library_generation) == ("test", "1", 3)
    assert loaded.data_fingerprint == gaussian_prior.data_fingerprint
    before = generate_seeds(build_model(gaussian_prior), [1, 2, 3], steps=6)
    after = generate_seeds(build_model(loaded), [1, 2, 3], steps=6)
    np.testing.assert_array_equal(before, after)
    assert np.allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-5)


def test_overwrite_replaces_the_file_atomically(gaussian_prior, tmp_path):
    path = tmp_path / "prior.pt"
    path.write_bytes(b"old")
    save_checkpoint(gaussian_prior, path)
    assert load_checkpoint(path).trained_steps == gaussian_prior.trained_steps


def test_unreadable_checkpoint_says_what_to_do(tmp_path):
    path = tmp_path / "prior.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cuesteer prior train"):
        load_checkpoint(path)


def test_stale_when_encoder_or_library_generation_changed(gaussian_prior):
    assert not is_stale(gaussian_prior, "test", "1", 3)
    assert is_stale(gaussian_prior, "clap", "1", 3)
    assert is_stale(gaussian_prior, "test", "2", 3)
    assert "generation 3 → 4" in stale_reason(gaussian_prior, "test", "1", 4)
    assert not is_stale(gaussian_prior, "test", "1", None)


def test_fingerprint_changes_with_the_data():
    a = np.ones((4, 3), np.float32)
    assert data_fingerprint(a) == data_fingerprint(a.copy())
    assert data_fingerprint(a) != data_fingerprint(a * 2)
    assert data_fingerprint(a) != data_fingerprint(a, np.zeros((4, 1)))
    assert data_fingerprint(a) != data_fingerprint(a.reshape(3, 4))


def test_loaded_model_is_frozen(gaussian_prior):
    model = build_model(gaussian_prior)
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert isinstance(model(torch.zeros(2, gaussian_prior.config.dim), 0.1), torch.Tensor)
