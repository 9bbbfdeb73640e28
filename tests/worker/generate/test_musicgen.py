"""MusicGen with a tiny random model built from configs: the real generate path, windowed continuation with
crossfades, reproducibility, progress and cancel, and the message when weights are missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.worker.generate.tiny_models import MUSICGEN_RATE, tiny_musicgen
from worker.generate.api import LICENCES, generate_cue, make_generator
from worker.generate.base import GenerateError, GenerateRequest
from worker.generate.musicgen import MusicGenGenerator, continue_in_windows, window_plan
from worker.jobs import Cancelled, Job

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py says why


@pytest.fixture(scope="module")
def generator() -> MusicGenGenerator:
    model, processor = tiny_musicgen()
    return MusicGenGenerator.from_objects(model, processor, device="cpu", window_seconds=1.0, context_seconds=0.4,
                                          crossfade_seconds=0.1)


def test_audio_of_the_right_length_and_rate(generator: MusicGenGenerator) -> None:
    events: list[tuple[str, float]] = []
    job = Job(progress_fn=lambda stage, fraction, message: events.append((stage, fraction)))
    cue = generator.generate(GenerateRequest(seconds=2.3, seed=4, phrases=()), job=job)
    assert cue.sample_rate == MUSICGEN_RATE and cue.mix.shape == (round(2.3 * MUSICGEN_RATE), 1)
    assert list(cue.stems) == ["music"] and np.array_equal(cue.stems["music"], cue.mix)
    assert np.abs(cue.mix).max() > 0.1 and cue.midi is None
    assert "CC-BY-NC 4.0" in cue.licence and cue.metadata["prompt"] == "instrumental music"
    fractions = [f for stage, f in events if stage == "generate"]
    # One report per decoding step over four windows (1 s, then 0.6 + 0.6 + 0.1 s continuing 0.4 s of context).
    assert len(fractions) > 100 and fractions == sorted(fractions) and fractions[-1] > 0.9


def test_same_seed_same_audio_other_seed_differs(generator: MusicGenGenerator) -> None:
    request = GenerateRequest(seconds=0.6, seed=9, phrases=(), loop=False)
    first = generator.generate(request).mix
    assert np.array_equal(first, generator.generate(request).mix)
    assert not np.array_equal(first, generator.generate(GenerateRequest(seconds=0.6, seed=10)).mix)


def test_prompt_from_positive_phrases_and_loop(generator: MusicGenGenerator) -> None:
    cue = generate_cue("musicgen", encoder=None, seeds=None, phrases=["+calm piano:0.5", "+dark strings", "-drums"],
                       seconds=0.5, seed=1, loop=True, generator=generator)
    assert cue.metadata["prompt"] == "dark strings, calm piano" and cue.metadata["loop"]
    assert len(cue.mix) == round(0.5 * MUSICGEN_RATE)


def test_cancel_at_a_step(generator: MusicGenGenerator) -> None:
    job = Job()
    job.progress_fn = lambda stage, fraction, message: job.cancel() if fraction > 0.1 else None
    with pytest.raises(Cancelled):
        generator.generate(GenerateRequest(seconds=1.0, seed=0), job=job)


def test_windows_are_crossfaded_continuations() -> None:
    calls: list[tuple[int, int]] = []

    def window(prompt: np.ndarray | None, new: int) -> np.ndarray:
        given = 0 if prompt is None else len(prompt)
        calls.append((given, new))
        head = np.zeros(0) if prompt is None else prompt + 1.0  # the re-decoded prompt differs a little
        return np.concatenate([head, np.full(new, float(len(calls)))])

    out = continue_in_windows(window, total=250, window=100, context=40, crossfade=10)
    assert len(out) == 250 and calls == [(0, 100), (40, 60), (40, 60), (40, 30)]
    assert window_plan(250, 100, 40) == [100, 60, 60, 30]
    assert np.all(out[:90] == 1.0) and np.all(out[100:150] == 2.0)
    ramp = out[90:100]
    assert ramp[0] == 1.0 and np.all(np.diff(ramp) > 0) and ramp[-1] < 2.0  # from window 1 toward window 2


def test_missing_weights_name_the_pull_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(GenerateError, match="cuesteer models pull musicgen"):
        make_generator("musicgen")
    assert "CC-BY-NC 4.0" in LICENCES["musicgen"]


def test_bars_need_seconds(generator: MusicGenGenerator) -> None:
    with pytest.raises(GenerateError, match="seconds"):
        generator.generate(GenerateRequest(bars=4))
