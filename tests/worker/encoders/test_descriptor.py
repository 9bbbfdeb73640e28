from __future__ import annotations

import numpy as np

from tests.media import clicks, tone
from worker.encoders.descriptor import SAMPLE_RATE, DescriptorEncoder


def test_unit_norm_deterministic_and_batch_independent() -> None:
    enc = DescriptorEncoder()
    waves = [tone(10.0, SAMPLE_RATE, 300.0), clicks(10.0, 120, SAMPLE_RATE), tone(3.0, SAMPLE_RATE, 800.0)]
    batch = enc.embed_audio(waves)
    assert batch.shape == (3, enc.dim) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.stack([enc.embed_audio([w])[0] for w in waves])
    assert np.allclose(batch, single, atol=1e-6)


def test_similar_sounds_are_closer_than_different_ones() -> None:
    enc = DescriptorEncoder()
    a, b, c = enc.embed_audio([
        tone(10.0, SAMPLE_RATE, 440.0, noise=0.01, seed=1),
        tone(10.0, SAMPLE_RATE, 440.0, noise=0.01, seed=2),
        clicks(10.0, 140, SAMPLE_RATE),
    ])
    assert a @ b > 0.8 and a @ b > a @ c + 0.5


def test_rhythm_group_separates_tempi() -> None:
    enc = DescriptorEncoder()
    slow1, slow2, fast = enc.embed_audio([clicks(10.0, 70, SAMPLE_RATE, seed=1), clicks(10.0, 70, SAMPLE_RATE, seed=2),
                                          clicks(10.0, 160, SAMPLE_RATE, seed=3)])
    assert slow1 @ slow2 > slow1 @ fast


def test_silence_is_finite() -> None:
    out = DescriptorEncoder().embed_audio([np.zeros(SAMPLE_RATE * 2, np.float32)])
    assert np.isfinite(out).all()
