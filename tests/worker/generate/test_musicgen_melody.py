"""MusicGen-melody with a tiny random model: the chroma guide comes from a steered symbolic arrangement's
notes, the cue carries that arrangement's tempo map, windows join with crossfades."""

from __future__ import annotations

import numpy as np
import pytest

from tests.worker.generate.tiny_models import MELODY_HOP, MUSICGEN_RATE, tiny_musicgen_melody
from worker.generate.base import GenerateRequest, as_phrases
from worker.generate.chroma_guide import chroma_guide
from worker.generate.musicgen_melody import MusicGenMelodyGenerator, join_windows, window_starts
from worker.generate.symbolic.arrange import arrange
from worker.generate.symbolic.generator import candidate_plans
from worker.generate.symbolic.plan import fit_length

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py says why


def test_guided_cue_follows_the_arrangement() -> None:
    model, tokenizer = tiny_musicgen_melody()
    generator = MusicGenMelodyGenerator.from_objects(model, tokenizer, chroma_hop=MELODY_HOP, device="cpu",
                                                     window_seconds=2.0, crossfade_seconds=0.2)
    request = GenerateRequest(seconds=4.0, seed=3, phrases=as_phrases(["+solo piano", "slow"]))
    cue = generator.generate(request)
    assert cue.sample_rate == MUSICGEN_RATE and cue.mix.shape == (4 * MUSICGEN_RATE, 1)
    assert np.abs(cue.mix).max() > 0.1
    guide = cue.metadata["guide"]
    assert set(guide["instruments"].values()) <= {"piano", "e_piano"}  # the guide honours the phrases
    assert cue.tempo_bpm == pytest.approx(guide["tempo_bpm"]) and cue.tempo_bpm <= 80
    np.testing.assert_allclose(np.diff(cue.beat_times), 60.0 / cue.tempo_bpm, atol=1e-5)
    again = generator.generate(request)
    assert np.array_equal(again.mix, cue.mix)


def test_chroma_guide_is_one_hot_on_the_sounding_harmony() -> None:
    plan = candidate_plans(GenerateRequest(seconds=8.0, seed=2, phrases=as_phrases(["-drums"])), 1)[0]
    plan, bars = fit_length(plan, seconds=8.0)
    arrangement = arrange(plan, bars)
    guide = chroma_guide(arrangement, frame_rate=10.0, seconds=8.0)
    assert guide.shape == (81, 12) and np.all(guide.sum(axis=1) == 1.0)
    last_bar = arrangement.form[-1]
    final = guide[int((last_bar.index * plan.seconds_per_bar + 0.1) * 10)]
    assert int(np.argmax(final)) in last_bar.chord.pitch_classes  # the tonic chord at the end


def test_windows_overlap_and_crossfade() -> None:
    starts = window_starts(250, 100, 20)
    assert starts == [0, 80, 160]
    pieces = [np.full(100, 1.0), np.full(100, 2.0), np.full(90, 3.0)]
    out = join_windows(pieces, starts, 250, 20)
    assert len(out) == 250 and np.all(out[:80] == 1.0) and np.all(out[100:160] == 2.0) and np.all(out[180:] == 3.0)
    assert np.all(np.diff(out[80:100]) > 0)


def test_missing_weights_name_the_pull_command(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.generate.api import make_generator
    from worker.generate.base import GenerateError

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(GenerateError, match="cuesteer models pull musicgen-melody"):
        make_generator("musicgen-melody")
