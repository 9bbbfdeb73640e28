import json

import numpy as np
import pretty_midi
import soundfile as sf

from tests.worker.analysis.music import SR, band, beat_grid, f_measure, render_midi_file
from worker.analysis.api import analyze_wave


def test_steady_band_tempo_beats_downbeats():
    beats = beat_grid(24.0, 128.0)
    result = analyze_wave(band(beats, 24.0), SR)
    assert abs(result["tempo_bpm"] - 128.0) < 1.0
    assert f_measure(result["beats_s"], beats) > 0.95
    assert result["time_signature"] == "4/4"
    assert f_measure(result["downbeats_s"], beats[::4]) > 0.9
    json.dumps(result)  # JSON-able as the CLI prints it


def test_tempo_map_follows_an_accelerando():
    beats = beat_grid(30.0, 100.0, 125.0)
    result = analyze_wave(band(beats, 30.0), SR)
    assert f_measure(result["beats_s"], beats) > 0.95
    tempo_map = np.array(result["tempo_map"])
    early = np.median(tempo_map[tempo_map[:, 0] < 6.0, 1])
    late = np.median(tempo_map[tempo_map[:, 0] > 24.0, 1])
    assert abs(early - 101.5) < 4.0 and abs(late - 123.0) < 4.0


def test_three_four_meter():
    beats = beat_grid(24.0, 120.0)
    result = analyze_wave(band(beats, 24.0, beats_per_bar=3), SR)
    assert result["time_signature"] == "3/4"
    assert f_measure(result["downbeats_s"], beats[::3]) > 0.9


def test_rendered_midi_tempo(tmp_path):
    """A General MIDI render (piano chords + bass + drums) through FluidSynth: the real synthesis path."""
    bpm, bars = 105.0, 10
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    piano, bass = pretty_midi.Instrument(0), pretty_midi.Instrument(33)
    drums = pretty_midi.Instrument(0, is_drum=True)
    beat = 60.0 / bpm
    for bar in range(bars):
        root = (48, 53, 55, 48)[bar % 4]
        for b in range(4):
            t = (bar * 4 + b) * beat
            drums.notes.append(pretty_midi.Note(110 if b == 0 else 80, 36 if b in (0, 2) else 38, t, t + 0.1))
            bass.notes.append(pretty_midi.Note(100, root - 12, t, t + beat * 0.9))
        for note in (root + 12, root + 16, root + 19):
            piano.notes.append(pretty_midi.Note(70, note, bar * 4 * beat, (bar * 4 + 4) * beat))
    pm.instruments += [piano, bass, drums]
    pm.write(str(tmp_path / "cue.mid"))
    wav = render_midi_file(tmp_path / "cue.mid", tmp_path / "cue.wav")
    audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    result = analyze_wave(audio.mean(axis=1), rate)
    truth = pm.get_beats()
    assert abs(result["tempo_bpm"] - bpm) < 1.0
    assert f_measure(result["beats_s"], truth) > 0.9
