"""The timbre statistics see what pooled band statistics miss: decay shape, tremolo rate, noisiness; weights
from before them still load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from worker.encoders.offline import features
from worker.encoders.offline.model import ModelConfig, OfflineModel, load_weights, save_weights, weights_blob

RATE = features.SAMPLE_RATE
SECONDS = 3.0
G = features.TIMBRE_GROUPS
N_MOD = len(features.MOD_EDGES_HZ) - 1
# offsets of the blocks inside features.timbre's output
CEPS = 2 * features.N_CEPSTRA
FLAT = CEPS  # mean log-flatness per group
MOD = CEPS + 3 * G
ATTACK = MOD + G * N_MOD  # mean rise per group, then mean fall, then steepest rise


def tone(envelope: np.ndarray, freq: float = 440.0) -> np.ndarray:
    t = np.arange(len(envelope)) / RATE
    return (envelope * sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))).astype(np.float32)


def timbre_of(*waves: np.ndarray) -> np.ndarray:
    return features.timbre(features.log_mel(torch.from_numpy(np.stack(waves)))).numpy()


def test_shape_and_finite_even_for_silence_and_tiny_inputs():
    out = timbre_of(np.zeros(int(SECONDS * RATE), np.float32), np.zeros(int(SECONDS * RATE), np.float32))
    assert out.shape == (2, features.TIMBRE_DIM) and np.isfinite(out).all()
    tiny = features.timbre(features.log_mel(torch.zeros(1, features.N_FFT)))
    assert tiny.shape == (1, features.TIMBRE_DIM) and torch.isfinite(tiny).all()


def test_plucked_notes_rise_steeper_than_swelled_ones():
    n = int(SECONDS * RATE)
    phase = (np.arange(n) / RATE) % 0.5  # two notes a second
    plucked = tone(np.exp(-8 * phase))
    swelled = tone(0.2 + 0.8 * np.minimum(phase / 0.25, 1.0) * np.exp(-2 * np.maximum(phase - 0.25, 0)))
    p, s = timbre_of(plucked, swelled)
    voiced = slice(ATTACK + 2 * G + 1, ATTACK + 2 * G + 4)  # steepest rise in the groups holding 440–1320 Hz
    assert p[voiced].mean() > 1.5 * s[voiced].mean()


def test_tremolo_rate_shows_in_the_modulation_band():
    n = int(SECONDS * RATE)
    t = np.arange(n) / RATE
    slow, fast = (tone(1 + 0.8 * np.sin(2 * np.pi * hz * t)) for hz in (1.5, 6.0))
    a, b = timbre_of(slow, fast)
    mod_a, mod_b = a[MOD:ATTACK].reshape(G, N_MOD), b[MOD:ATTACK].reshape(G, N_MOD)
    band_1_2, band_4_8 = 1, 3  # MOD_EDGES_HZ: 0.5, 1, 2, 4, 8, …
    assert mod_a[:, band_1_2].mean() > mod_b[:, band_1_2].mean()
    assert mod_b[:, band_4_8].mean() > mod_a[:, band_4_8].mean()


def test_noise_is_flatter_than_a_tone():
    n = int(SECONDS * RATE)
    noise = (np.random.default_rng(0).standard_normal(n) * 0.1).astype(np.float32)
    a, b = timbre_of(noise, tone(np.full(n, 0.3)))
    assert a[FLAT:FLAT + G].mean() > b[FLAT:FLAT + G].mean()


def test_weights_saved_before_the_timbre_statistics_load_as_basic(tmp_path: Path):
    torch.manual_seed(0)
    cfg = ModelConfig(stats_features="basic", stats_hidden=16, embed_dim=8, text_hidden=16)
    model = OfflineModel(cfg).eval()
    blob = weights_blob(model, {"tag": "old"})
    del blob["config"]["stats_features"]  # what the first committed weights hold
    save_weights(blob, tmp_path / "old.pt")
    loaded, _ = load_weights(tmp_path / "old.pt")
    assert loaded.cfg.stats_features == "basic"
    wave = torch.from_numpy(tone(np.full(RATE, 0.3)))[None]
    np.testing.assert_allclose(loaded.embed_waves(wave).detach(), model.embed_waves(wave).detach(), atol=5e-3)
    assert OfflineModel(ModelConfig()).cfg.stats_features == "timbre"  # new models get the timbre statistics
