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


def _stream_vectors(enc: DescriptorEncoder, wave: np.ndarray, ranges: list[tuple[int, int]],
                    block: int = 7_777) -> np.ndarray:
    stream = enc.open_stream()
    for i in range(0, len(wave), block):
        stream.feed(wave[i : i + block])
    stream.finish()
    return np.stack([stream.embed_range(a, b) for a, b in ranges])


def test_stream_equals_embed_audio_on_the_stft_grid_and_is_close_off_it() -> None:
    """One STFT per file: windows starting on a HOP multiple are exact; others differ by < HOP samples of
    framing, which moves everything but the (noisy) rhythm group by almost nothing."""
    from worker.encoders.descriptor import HOP

    enc = DescriptorEncoder()
    wave = tone(40.0, SAMPLE_RATE, 330.0, pulse_hz=2.0, noise=0.05) + clicks(40.0, 100, SAMPLE_RATE)
    win = 10 * SAMPLE_RATE
    ranges = [(0, win), (HOP * 300, HOP * 300 + win), (80_000, 80_000 + win), (len(wave) - win, len(wave))]
    streamed = _stream_vectors(enc, wave, ranges)
    direct = enc.embed_audio([wave[a:b] for a, b in ranges])
    assert np.allclose(streamed[:2], direct[:2], atol=1e-5)
    assert np.all(np.sum(streamed * direct, axis=1) > 0.97)


def test_stream_of_a_short_track_matches_and_memory_stays_bounded() -> None:
    from worker.library.windows import WindowPlan

    enc = DescriptorEncoder()
    short = tone(0.7, SAMPLE_RATE, 500.0)
    assert np.allclose(_stream_vectors(enc, short, [(0, len(short))])[0], enc.embed_audio([short])[0], atol=1e-5)

    stream, plan, total, held = enc.open_stream(), WindowPlan(SAMPLE_RATE, 10.0, 5.0), 0, 0
    block = tone(20.0, SAMPLE_RATE, 200.0, noise=0.1)
    for _ in range(30):  # ten minutes, released as the indexer does
        stream.feed(block)
        total += len(block)
        for a, b in plan.ready(total):
            stream.embed_range(a, b)
        stream.release(min(plan.next_start, total - plan.win))
        held = max(held, len(stream._feats))
    assert held < 3 * (30 * SAMPLE_RATE) // 512  # about one window plus one block of frames, not the file
