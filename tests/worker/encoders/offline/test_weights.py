"""The committed weights ship, load offline and embed exactly as when they were committed.

`reference_embeddings.npy` holds the embeddings of two synthesised signals and two phrases; regenerate it
(only together with new weights) with `python -m tests.worker.encoders.offline.test_weights`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from worker.encoders.offline.encoder import WEIGHTS, weights_available

REFERENCE = Path(__file__).with_name("reference_embeddings.npy")
PHRASES = ("solo piano", "fast energetic drums")
RATE = 16_000
MAX_WEIGHTS_BYTES = 25_000_000
TOLERANCE = 2e-3  # float16 weights, float32 math: thread counts and BLAS builds differ in the last bits


def synthesised_signals() -> list[np.ndarray]:
    """A sustained C-major chord with a 120-BPM click, and a seeded noise burst train at 150 BPM."""
    t = np.arange(5 * RATE) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) * np.exp(-0.3 * t) for f in (261.63, 329.63, 392.0)) / 3
    click = ((t % 0.5) < 0.005).astype(float)
    noise = np.random.default_rng(0).standard_normal(len(t)) * np.exp(-25 * (t % 0.4))
    return [(0.4 * chord + 0.3 * click).astype(np.float32), (0.2 * noise).astype(np.float32)]


def reference_embeddings(encoder) -> np.ndarray:
    return np.concatenate([encoder.embed_audio(synthesised_signals()), encoder.embed_text(list(PHRASES))])


def test_weights_are_committed_small_and_shipped():
    assert weights_available()
    assert WEIGHTS.stat().st_size <= MAX_WEIGHTS_BYTES
    ignored = subprocess.run(["git", "check-ignore", "-q", str(WEIGHTS)], cwd=WEIGHTS.parent, check=False)
    assert ignored.returncode == 1  # not ignored by git


def test_committed_weights_reproduce_the_reference_embeddings(committed):
    got = reference_embeddings(committed)
    want = np.load(REFERENCE)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=TOLERANCE)


def test_reference_signals_are_told_apart(committed):
    ref = np.load(REFERENCE)
    assert float(ref[0] @ ref[1]) < 0.99  # the model does not collapse different audio to one point


if __name__ == "__main__":
    from worker.encoders.offline.encoder import OfflineEncoder

    np.save(REFERENCE, reference_embeddings(OfflineEncoder()).astype(np.float32))
    print(f"wrote {REFERENCE}")
