"""Beats and downbeats from our network's activations: a beat-period hidden Markov model decoded by Viterbi.

The state is (beat period p in frames, frames since the last beat φ); φ advances by one each frame, and when
it wraps the next period is chosen with a cost for changing tempo (Krebs, Böck & Widmer 2015, without the bar
level). Frames near φ = 0 "emit" the beat activation, the rest its complement. The meter then comes from the
downbeat activation at the decoded beats together with the DSP tracker's bass and harmonic-change cues.
Everything here is numpy; only `beat_model.hearings` uses torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.analysis import downbeats
from worker.analysis.beat_model import BEAT, DOWNBEAT, hearings, mean_hearing, model_fps
from worker.analysis.beats import refine_to_peaks
from worker.analysis.chroma import beat_chroma, chroma_rate, chromagram
from worker.analysis.downbeats import Meter
from worker.analysis.onset import onset_envelopes
from worker.analysis.spectral import magnitude_spectrogram
from worker.analysis.tempo import tempo_prior

MIN_BPM = 50.0
MAX_BPM = 230.0
TRANSITION_LAMBDA = 100.0  # tempo-change cost at each beat: exp(-λ·|p'/p - 1|) (madmom's default)
TEMPO_PRIOR_WEIGHT = 0.0  # × log of tempo.py's prior per beat (validation beat F for 0, 1, 3, 10: .720 .713 .697 .684)
OBSERVATION_LAMBDA = 16  # the first 1/λ of each period are "beat" states
ACTIVE_THRESHOLD = 0.2  # beats are kept between the first and last frame the network calls this likely a beat
# every other beat is dropped when its median activation is below this share of the others' (validation /
# tuning-file beat F for no rule, 0.5, 0.6, 0.7: .765/.702, .792/.718, .805/.718, .812/.711)
HALF_TEMPO_RATIO = 0.6
LEVEL_MIN_BEATS = 8
# weight of the network's z-scored downbeat probability beside the DSP cues; on the 48 validation excerpts
# (downbeat F) network alone .46, DSP cues alone .42, weights 0.5 / 1 / 2 / 3 / 5: .44 .52 .55 .50 .52
NETWORK_CUE_WEIGHT = 2.0
EPS = 1e-7


@dataclass(frozen=True)
class BeatSpace:
    periods: np.ndarray  # (P,) int
    starts: np.ndarray  # (P,) index of each period's φ = 0 state in the flat state vector
    ends: np.ndarray  # (P,) index of each period's last state
    beat_mask: np.ndarray  # (S,) bool: states that emit the beat activation
    log_transition: np.ndarray  # (P from, P to)


def beat_space(fps: float, min_bpm: float = MIN_BPM, max_bpm: float = MAX_BPM) -> BeatSpace:
    periods = np.arange(int(np.floor(60.0 * fps / max_bpm)), int(np.ceil(60.0 * fps / min_bpm)) + 1)
    starts = np.concatenate([[0], np.cumsum(periods)[:-1]])
    ends = starts + periods - 1
    phase = np.concatenate([np.arange(p) for p in periods])
    period_of = np.repeat(periods, periods)
    beat_mask = phase < np.maximum(period_of / OBSERVATION_LAMBDA, 1)
    ratio = periods[None, :] / periods[:, None]
    trans = np.exp(-TRANSITION_LAMBDA * np.abs(ratio - 1.0))
    trans /= trans.sum(axis=1, keepdims=True)
    log_prior = TEMPO_PRIOR_WEIGHT * np.log(tempo_prior(60.0 * fps / periods))
    return BeatSpace(periods, starts, ends, beat_mask, np.log(np.maximum(trans, 1e-300)) + log_prior[None, :])


def decode_beats(activation: np.ndarray, fps: float, space: BeatSpace | None = None) -> np.ndarray:
    """Beat frames (fractional) of the most likely state path given per-frame beat probabilities."""
    act = np.clip(np.asarray(activation, np.float64), EPS, 1 - EPS)
    if len(act) < 2 or act.max() < ACTIVE_THRESHOLD:
        return np.zeros(0)
    space = space or beat_space(fps)
    on = np.log(act)
    off = np.log((1 - act) / (OBSERVATION_LAMBDA - 1))
    beat_idx = np.flatnonzero(space.beat_mask)
    score = np.full(len(space.beat_mask), -np.log(len(space.beat_mask)))
    back = np.empty((len(act), len(space.periods)), np.int16)
    for t in range(len(act)):
        if t:
            entering = score[space.ends][:, None] + space.log_transition  # [from, to]
            back[t] = np.argmax(entering, axis=0)
            shifted = np.empty_like(score)
            shifted[1:] = score[:-1]
            shifted[space.starts] = entering[back[t], np.arange(len(space.periods))]
            score = shifted
        score += off[t]
        score[beat_idx] += on[t] - off[t]
    return _backtrack(score, back, space, len(act))


def _backtrack(score: np.ndarray, back: np.ndarray, space: BeatSpace, count: int) -> np.ndarray:
    state = int(np.argmax(score))
    block = int(np.searchsorted(space.starts, state, side="right") - 1)
    phase = state - int(space.starts[block])
    t, beats = count - 1, []
    while True:
        t -= phase  # back to this period's φ = 0: a beat
        if t < 0:
            break
        beats.append(t)
        if t == 0:
            break
        block = int(back[t, block])
        phase = int(space.periods[block]) - 1
        t -= 1
    return np.array(beats[::-1], np.float64)


def trim_and_refine(activation: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Drop beats outside the active span (silence before and after the music) and move each to the
    activation peak nearby (`beats.refine_to_peaks`), with parabolic sub-frame precision."""
    active = np.flatnonzero(activation >= ACTIVE_THRESHOLD)
    if len(active) == 0 or len(frames) == 0:
        return np.zeros(0)
    margin = float(np.median(np.diff(frames))) / 2 if len(frames) > 1 else 0.0
    frames = frames[(frames >= active[0] - margin) & (frames <= active[-1] + margin)]
    return refine_to_peaks(activation, frames)


def settle_level(activation: np.ndarray, frames: np.ndarray, fps: float) -> np.ndarray:
    """Every other beat, when those between are consistently much weaker. The decoder's observation model
    rewards any extra beat the network gives more than ~6 %, so eighth notes it half-believes would otherwise
    double the tempo (the commonest error on slow pieces with steady eighths)."""
    if len(frames) < LEVEL_MIN_BEATS or 60.0 * fps / (2 * float(np.median(np.diff(frames)))) < MIN_BPM:
        return frames
    strength = downbeats.peaks_near(activation, frames)
    even, odd = float(np.median(strength[0::2])), float(np.median(strength[1::2]))
    if min(even, odd) >= HALF_TEMPO_RATIO * max(even, odd):
        return frames
    return frames[0::2] if even >= odd else frames[1::2]


def beat_frames(mean: np.ndarray, unstretched: np.ndarray, fps: float) -> np.ndarray:
    """Beat frames decoded from the hearings' mean beat probability, then the level rule on the unstretched
    hearing's alone. In the mean, a fast piece that the quicker hearings take at half tempo has every other beat
    weaker, and the rule would halve it."""
    return settle_level(unstretched, trim_and_refine(mean, decode_beats(mean, fps)), fps)


def choose_meter(downbeat: np.ndarray, beat_frames: np.ndarray, dsp_cues: np.ndarray | None = None) -> Meter:
    """Beats per bar and first downbeat from the network's downbeat probabilities (z-scored, × NETWORK_CUE_WEIGHT)
    plus, when given, the DSP tracker's bass/harmonic-change cues at the same beats (`downbeats.beat_cues`)."""
    if len(beat_frames) == 0:
        return Meter(downbeats.METERS[0], 0)
    cues = NETWORK_CUE_WEIGHT * downbeats.z_scores(downbeats.peaks_near(downbeat, beat_frames))
    return downbeats.choose_meter(cues if dsp_cues is None else cues + dsp_cues)


def dsp_cues(wave: np.ndarray, beat_frames: np.ndarray, chroma: np.ndarray | None = None) -> np.ndarray:
    """The DSP tracker's downbeat cues (bass onsets, harmonic change) at the given beats (frames at model_fps)."""
    if len(beat_frames) < 2:
        return np.zeros(len(beat_frames))
    onsets = onset_envelopes(magnitude_spectrogram(wave))
    chroma = chromagram(wave) if chroma is None else chroma
    harmony = beat_chroma(chroma, beat_frames / model_fps() * chroma_rate())
    return downbeats.beat_cues(beat_frames * onsets.fps / model_fps(), onsets.flux, onsets.low, harmony)


def learned_grid(
    wave: np.ndarray, network=None, chroma: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, Meter]:
    """(beat times, downbeat times, meter) of a mono wave at ANALYSIS_RATE: beats from the trained network's
    hearings at several time stretches (`beat_model.hearings`), the meter from its downbeat output and the DSP
    cues together (`chroma`: the wave's, if already computed)."""
    heard = hearings(wave, network)
    acts = mean_hearing(heard)
    fps = model_fps()
    frames = beat_frames(acts[:, BEAT], heard.get(1.0, acts)[:, BEAT], fps)
    meter = choose_meter(acts[:, DOWNBEAT], frames, dsp_cues(wave, frames, chroma))
    beats = frames / fps
    return beats, beats[meter.first_downbeat :: meter.beats_per_bar], meter
