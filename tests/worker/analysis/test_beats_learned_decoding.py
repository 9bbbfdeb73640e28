"""The beat-period HMM decoder and the training excerpts' exact truth (pure numpy: no network, no rendering)."""

from __future__ import annotations

import numpy as np

from tests.worker.analysis.music import f_measure
from worker.analysis.beat_model import model_fps
from worker.analysis.beat_train.excerpts import composed_meter, generated_excerpt, tempo_curve, warp_function
from worker.analysis.beat_train.train import NEIGHBOUR_TARGET, crop_batch, targets
from worker.analysis.beats_learned import beat_frames, choose_meter, decode_beats, settle_level, trim_and_refine
from worker.encoders.offline.train.compose import compose

FPS = model_fps()


def spiky_activation(beats_s: np.ndarray, seconds: float, seed: int = 0) -> np.ndarray:
    """A plausible network output: peaks on the beats, weaker spurious peaks (off-beats, fills) between them,
    near silence before and after the music."""
    rng = np.random.default_rng(seed)
    act = np.full(int(seconds * FPS), 0.01)
    for b in beats_s:
        i = int(round(b * FPS))
        act[max(i - 1, 0) : i + 2] = (0.4, 0.9, 0.4)[: len(act[max(i - 1, 0) : i + 2])]
    inside = rng.integers(int(beats_s[0] * FPS) + 5, int(beats_s[-1] * FPS) - 5, int(seconds))
    act[inside] = 0.45
    return act


def test_decoder_follows_a_tempo_change_through_distractors():
    beats = np.concatenate([np.arange(2.0, 20.0, 0.6), np.arange(20.0, 38.0, 0.42)])  # 100 -> ~143 BPM
    act = spiky_activation(beats, 40.0)
    found = trim_and_refine(act, decode_beats(act, FPS)) / FPS
    assert f_measure(found, beats) > 0.97
    assert abs(found[0] - beats[0]) < 0.05 and abs(found[-1] - beats[-1]) < 0.05  # no beats in the silence


def test_decoder_gives_nothing_for_silence():
    assert len(decode_beats(np.full(500, 0.01), FPS)) == 0


def test_half_believed_eighth_notes_do_not_double_the_tempo():
    beats = np.arange(2.0, 38.0, 0.75)  # 80 BPM, the network also half-believes every eighth note
    act = spiky_activation(beats, 40.0)
    for b in beats[:-1] + 0.375:
        i = int(round(b * FPS))
        act[i - 1 : i + 2] = (0.2, 0.35, 0.2)
    decoded = trim_and_refine(act, decode_beats(act, FPS))
    assert len(decoded) > 1.8 * len(beats)  # what the HMM alone makes of it: eighth notes
    settled = settle_level(act, decoded, FPS) / FPS
    assert f_measure(settled, beats) > 0.97


def test_evenly_strong_beats_keep_their_tempo():
    beats = np.arange(2.0, 38.0, 0.375)  # 160 BPM, every beat as strong as the next
    act = spiky_activation(beats, 40.0)
    decoded = trim_and_refine(act, decode_beats(act, FPS))
    assert np.array_equal(settle_level(act, decoded, FPS), decoded)
    assert f_measure(decoded / FPS, beats) > 0.97


def test_a_fast_piece_the_quicker_hearings_halve_keeps_its_tempo():
    beats = np.arange(2.0, 38.0, 60.0 / 186)  # 186 BPM; the unstretched hearing finds every beat
    plain = spiky_activation(beats, 40.0)
    halved = spiky_activation(beats[::2], 40.0)  # hearings at 0.8 and 0.9 (230 and 207 BPM) tap half as often
    mean = np.mean([halved, halved, plain], axis=0)  # hearings at 0.8, 0.9 and 1
    decoded = trim_and_refine(mean, decode_beats(mean, FPS))
    assert len(settle_level(mean, decoded, FPS)) < 0.6 * len(beats)  # the level rule on the mean would halve it
    both = [np.column_stack([a, np.full_like(a, 0.02)]) for a in (mean, plain)]  # no downbeat opinion
    assert f_measure(beat_frames(*both, FPS) / FPS, beats) > 0.97


def test_meter_and_phase_come_from_the_downbeat_activation():
    beat_frames = np.arange(10, 2000, 50).astype(float)
    down = np.full(2100, 0.02)
    down[beat_frames[1::3].astype(int)] = 0.7  # bars of three starting on the second beat
    meter = choose_meter(down, beat_frames)
    assert (meter.beats_per_bar, meter.first_downbeat) == (3, 1)


def test_targets_are_widened_by_one_frame():
    t = targets(20, np.array([5.2]), np.array([]))
    assert t[5, 0] == 1.0 and t[4, 0] == t[6, 0] == NEIGHBOUR_TARGET and t[[3, 7], 0].sum() == 0
    assert t[:, 1].sum() == 0


def test_stretched_crops_keep_their_beats_on_the_music():
    beats = np.arange(10.0, 2000.0, 50.0)  # frames; the "music" is a click on each beat in every band
    feats = np.zeros((2000, 4), np.float16)
    feats[beats.astype(int)] = 1.0
    f, t = crop_batch([(feats, beats, beats[::4])], np.random.default_rng(0), size=6, crop=300)
    assert f.shape == (6, 300, 4) and t.shape == (6, 300, 2)
    spacings = set()
    for crop_f, crop_t in zip(f, t, strict=True):
        on_beat = np.flatnonzero(crop_t[:, 0] == 1.0)
        clicks = np.flatnonzero((crop_f[:, 0] > 0.3) & (crop_f[:, 0] >= np.roll(crop_f[:, 0], 1))
                                & (crop_f[:, 0] >= np.roll(crop_f[:, 0], -1)))
        assert len(on_beat) >= 4 and np.abs(on_beat[:, None] - clicks[None]).min(axis=1).max() <= 1
        spacings.add(int(np.median(np.diff(on_beat))))
    assert len(spacings) > 1  # each crop at its own tempo


def test_tempo_warp_is_monotone_and_follows_the_factor():
    rng = np.random.default_rng(3)
    for _ in range(20):
        knots, factors = tempo_curve(rng, 60.0)
        warp = warp_function(knots, factors, 60.0)
        grid = np.linspace(0, 60, 601)
        played = warp(grid)
        assert np.all(np.diff(played) > 0)
        assert abs(played[-1] - np.trapezoid(1.0 / np.interp(grid, knots, factors), grid)) < 0.05


def test_generated_excerpt_truth_lines_up_with_its_kick_drum():
    """Beat truth survives the warp and cut: in 'dance' pieces the kick plays on every beat."""
    seed = next(s for s in range(200) if compose(s, 1.0).style == "dance")
    assert composed_meter(seed) == (compose(seed, 1.0).bpm, 4)
    clip = generated_excerpt(seed, np.random.default_rng(0))
    assert clip is not None
    beats = np.array(clip.extra["beats"])
    assert np.all(np.diff(beats) > 0) and beats[0] >= 0 and beats[-1] < clip.seconds
    kicks = np.array(sorted(n[0] for p in clip.parts if p.is_drum for n in p.notes if n[2] == 36))
    near = np.min(np.abs(kicks[:, None] - beats[None, :]), axis=0)
    assert np.mean(near < 0.01) > 0.9
    downs = np.array(clip.extra["downbeats"])
    assert np.all(np.isin(np.round(downs, 6), np.round(beats, 6)))
