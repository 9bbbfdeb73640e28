"""The committed beat network on fresh FluidSynth renders: steady tempo, a tempo change, reference activations,
and the DSP fallback when its weights are absent."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from tests.worker.analysis.music import f_measure, render_midi_file
from worker.analysis import beat_model
from worker.analysis.api import analyze_wave
from worker.analysis.beat_model import BeatNetConfig, activations, build_network, probe_wave
from worker.analysis.beats_learned import learned_grid
from worker.analysis.beats_madmom import chosen_backend
from worker.analysis.spectral import ANALYSIS_RATE

BEAT_F_FLOOR = 0.85  # the trained network clears this on a clean render; an untrained one does not
REFERENCE_TOLERANCE = 2e-3  # float16 weights, BLAS summation order


def render(tmp_path, pm: pretty_midi.PrettyMIDI) -> np.ndarray:
    pm.write(str(tmp_path / "cue.mid"))
    wav = render_midi_file(tmp_path / "cue.mid", tmp_path / "cue.wav", sr=ANALYSIS_RATE)
    audio, _ = sf.read(wav, dtype="float32", always_2d=True)
    return audio.mean(axis=1)


def band_midi(bpm: float, bars: int, bpm_after: float | None = None) -> pretty_midi.PrettyMIDI:
    """Kick/snare/hats, bass on beats and piano chords; the tempo may change (a MIDI Set Tempo) half-way."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    if bpm_after is not None:  # pretty_midi keeps tempo changes in its tick scale list
        half_tick = bars // 2 * 4 * pm.resolution
        pm._tick_scales.append((half_tick, 60.0 / (bpm_after * pm.resolution)))
        pm._update_tick_to_time(half_tick * 4)
    piano, bass, drums = pretty_midi.Instrument(0), pretty_midi.Instrument(33), pretty_midi.Instrument(0, True)
    for bar in range(bars):
        root = (45, 50, 52, 45)[bar % 4]
        for b in range(4):
            t = pm.tick_to_time((bar * 4 + b) * pm.resolution)
            e = pm.tick_to_time((bar * 4 + b + 1) * pm.resolution)
            drums.notes.append(pretty_midi.Note(110 if b == 0 else 85, 36 if b in (0, 2) else 38, t, t + 0.1))
            drums.notes.append(pretty_midi.Note(60, 42, (t + e) / 2, (t + e) / 2 + 0.05))
            bass.notes.append(pretty_midi.Note(95, root - 12, t, t + (e - t) * 0.9))
        start, end = pm.tick_to_time(bar * 4 * pm.resolution), pm.tick_to_time((bar + 1) * 4 * pm.resolution)
        for note in (root + 12, root + 15, root + 19):
            piano.notes.append(pretty_midi.Note(70, note, start, end))
    pm.instruments += [piano, bass, drums]
    return pm


@pytest.fixture(scope="module")
def steady(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    pm = band_midi(132.0, 6)
    return render(tmp_path_factory.mktemp("steady"), pm), pm.get_beats()


def test_trained_network_finds_the_beats_an_untrained_one_misses(steady, one_torch_thread):
    wave, truth = steady
    beats, downbeats, meter = learned_grid(wave)
    assert f_measure(beats, truth) >= BEAT_F_FLOOR
    assert meter.beats_per_bar == 4
    import torch

    torch.manual_seed(0)
    untrained = build_network(BeatNetConfig()).eval()
    random_beats, _, _ = learned_grid(wave, untrained)
    assert f_measure(random_beats, truth) < BEAT_F_FLOOR


def test_a_tempo_change_is_followed(tmp_path, one_torch_thread):
    pm = band_midi(96.0, 8, bpm_after=144.0)
    truth = pm.get_beats()
    assert np.diff(truth)[0] > 0.6 > 0.45 > np.diff(truth)[-1]  # the MIDI really changes tempo
    result = analyze_wave(render(tmp_path, pm), ANALYSIS_RATE, beats_backend="learned")
    assert result["beats_backend"] == "learned"
    assert f_measure(result["beats_s"], truth) >= BEAT_F_FLOOR
    tempo = np.array(result["tempo_map"])
    early, late = tempo[tempo[:, 0] < truth[14], 1], tempo[tempo[:, 0] > truth[18], 1]
    assert abs(np.median(early) - 96.0) < 4.0 and abs(np.median(late) - 144.0) < 6.0


def test_weights_reproduce_the_reference_activations(one_torch_thread):
    stored = json.loads(beat_model.REFERENCE_PATH.read_text())
    now = activations(probe_wave(), stretches=(1.0,))[:: stored["stride"]]
    reference = np.array(stored["activations"])
    assert now.shape == reference.shape
    assert np.abs(now - reference).max() < REFERENCE_TOLERANCE
    assert reference[:, 0].max() > 0.5  # the probe's clicks are beats to this network


def test_stretched_hearings_map_back_onto_the_same_beats(one_torch_thread):
    wave = probe_wave()
    fps = beat_model.model_fps()
    clicks = np.round(np.arange(0.5, beat_model.PROBE_SECONDS - 0.2, 60.0 / beat_model.PROBE_BPM) * fps).astype(int)

    def peaks(beat: np.ndarray) -> np.ndarray:  # the strongest frame near each click
        return np.array([c - 5 + int(np.argmax(beat[c - 5 : c + 6])) for c in clicks])

    unstretched = activations(wave, stretches=(1.0,))
    for factor in (0.8, 1.25):
        heard = activations(wave, stretches=(factor,))
        assert heard.shape == unstretched.shape
        assert np.abs(peaks(heard[:, 0]) - peaks(unstretched[:, 0])).max() <= 1  # not clicks × factor
        assert np.median(heard[clicks, 0]) > 0.5


def test_time_stretch_resamples_and_keeps_the_ends():
    frames = np.arange(10.0)[:, None] * np.ones((1, 3))
    longer = beat_model.time_stretched(frames, 2.0)
    assert longer.shape == (20, 3) and longer[1, 0] == 0.5 and longer[-1, 0] == 9.0
    assert np.allclose(beat_model.time_stretched(longer, 0.5, 10), frames)


def test_without_weights_the_learned_backend_falls_back_to_dsp(tmp_path, monkeypatch, steady):
    monkeypatch.setattr(beat_model, "WEIGHTS_PATH", tmp_path / "absent.pt")
    assert chosen_backend("learned") == "dsp"
    result = analyze_wave(steady[0][: ANALYSIS_RATE * 5], ANALYSIS_RATE, beats_backend="learned")
    assert result["beats_backend"] == "dsp" and result["analyzer"].startswith("dsp")


def test_weights_are_small_and_say_how_they_were_made():
    assert beat_model.WEIGHTS_PATH.stat().st_size < 2_000_000
    meta = beat_model.load_meta()
    assert meta["parameters"] <= 200_000 and "python -m worker.analysis.beat_train" in meta["command"]
