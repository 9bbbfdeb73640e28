"""The bar-pointer decoder: beats tied to bars follow the downbeat probability's phase and meter."""

from __future__ import annotations

import numpy as np

from tests.worker.analysis.music import f_measure
from worker.analysis import bar_pointer
from worker.analysis.beat_model import model_fps
from worker.analysis.beats_learned import MAX_BPM, MIN_BPM, decode_beats, trim_and_refine

FPS = model_fps()


def peaks(times: np.ndarray, frames: int, height: float) -> np.ndarray:
    act = np.full(frames, 0.02)
    for t in times:
        i = int(round(t * FPS))
        act[max(i - 1, 0) : i + 2] = np.maximum(act[max(i - 1, 0) : i + 2], (height / 2, height, height / 2))
    return act


def busy_piece(beats_per_bar: int, seconds: float = 30.0, period: float = 0.5):
    """Beat probability as high on every eighth note as on the beats (a busy hi-hat), downbeat probability high
    on the bar lines only: which eighths are the beats only the downbeats tell."""
    beats = np.arange(1.0, seconds - 1.0, period)
    eighths = np.arange(1.0, seconds - 1.0, period / 2)
    frames = int(seconds * FPS)
    return beats, peaks(eighths, frames, 0.8), peaks(beats[::beats_per_bar], frames, 0.8)


def test_beats_take_the_phase_the_downbeats_agree_with():
    beats, beat_act, down_act = busy_piece(4)
    for shift in (0.0, 0.25):  # downbeats on the beats, then on the off-beats: the beats follow them
        moved = np.roll(down_act, int(round(shift * FPS)))
        found = decode_beats(beat_act, FPS, moved) / FPS
        assert f_measure(found, beats + shift) > 0.95, shift


def test_the_bar_index_counts_the_meter_from_each_downbeat():
    space = bar_pointer.bar_space(FPS, MIN_BPM, MAX_BPM, (4, 3))
    for meter in (3, 4):
        beats, beat_act, down_act = busy_piece(meter)
        frames, index = bar_pointer.decode(beat_act, down_act, space)
        found = frames / FPS
        assert f_measure(found, beats) > 0.95
        at_downbeats = [index[np.argmin(np.abs(found - d))] for d in beats[::meter]]
        assert set(at_downbeats) == {0}
        inside = index[(found > beats[0] + 0.1) & (found < beats[-1] - 0.1)]
        assert set(np.diff(inside) % meter) == {1} and inside.max() == meter - 1


def test_without_downbeats_it_is_the_beat_only_model():
    beats = np.arange(1.0, 29.0, 0.6)
    act = peaks(beats, int(30 * FPS), 0.9)
    one = bar_pointer.bar_space(FPS, MIN_BPM, MAX_BPM, (1,))
    frames, index = bar_pointer.decode(act, act, one)
    assert f_measure(trim_and_refine(act, frames) / FPS, beats) > 0.97 and set(index) == {0}
    assert np.array_equal(frames, decode_beats(act, FPS))
