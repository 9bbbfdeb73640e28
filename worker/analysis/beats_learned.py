"""Beats and downbeats from our network's activations, decoded by a bar-pointer HMM (`bar_pointer`).

The decoder ties beats to bars: it reads the network's beat probability between bar lines and its downbeat
probability on them, so the beat phase agrees with where the bars start. Rules on top keep a steady level
(`settle_level`) and the active span (`trim_and_refine`). The meter then comes from the downbeat activation at
the decoded beats together with the DSP tracker's bass and harmonic-change cues. Everything here is numpy; only
`beat_model.hearings` uses torch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from worker.analysis import bar_pointer, downbeats
from worker.analysis.beat_model import BEAT, DOWNBEAT, hearings, mean_hearing, model_fps
from worker.analysis.beats import refine_to_peaks
from worker.analysis.chroma import beat_chroma, chroma_rate, chromagram
from worker.analysis.downbeats import Meter
from worker.analysis.onset import onset_envelopes
from worker.analysis.spectral import magnitude_spectrogram

MIN_BPM = 50.0
MAX_BPM = 230.0
ACTIVE_THRESHOLD = 0.2  # beats are kept between the first and last frame the network calls this likely a beat
# every other beat is dropped when its median activation is below this share of the others' (validation /
# tuning-file beat F for no rule, 0.5, 0.6, 0.7: .765/.702, .792/.718, .805/.718, .812/.711)
HALF_TEMPO_RATIO = 0.6
LEVEL_MIN_BEATS = 8
# weight of the network's z-scored downbeat probability beside the DSP cues; on the 48 validation excerpts
# (downbeat F) network alone .46, DSP cues alone .42, weights 0.5 / 1 / 2 / 3 / 5: .44 .52 .55 .50 .52
NETWORK_CUE_WEIGHT = 2.0


@lru_cache(maxsize=4)
def _space(fps: float, meters: tuple[int, ...]) -> bar_pointer.BarSpace:
    return bar_pointer.bar_space(fps, MIN_BPM, MAX_BPM, meters)


def decode_beats(beat: np.ndarray, fps: float, downbeat: np.ndarray | None = None) -> np.ndarray:
    """Beat frames (fractional) of the bar-pointer model's most likely path (`bar_pointer`), trying each of
    `downbeats.METERS`; without `downbeat`, of the beat-only model."""
    beat = np.asarray(beat, np.float64)
    if len(beat) < 2 or beat.max() < ACTIVE_THRESHOLD:
        return np.zeros(0)
    if downbeat is None:
        return bar_pointer.decode(beat, beat, _space(fps, (1,)))[0]
    return bar_pointer.decode(beat, downbeat, _space(fps, downbeats.METERS))[0]


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
    """Beat frames decoded from the hearings' mean (frames, 2) beat and downbeat probabilities, then the level
    rule on the unstretched hearing's beat probability alone. In the mean, a fast piece that the quicker
    hearings take at half tempo has every other beat weaker, and the rule would halve it."""
    decoded = decode_beats(mean[:, BEAT], fps, mean[:, DOWNBEAT])
    return settle_level(unstretched[:, BEAT], trim_and_refine(mean[:, BEAT], decoded), fps)


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
    frames = beat_frames(acts, heard.get(1.0, acts), fps)
    meter = choose_meter(acts[:, DOWNBEAT], frames, dsp_cues(wave, frames, chroma))
    beats = frames / fps
    return beats, beats[meter.first_downbeat :: meter.beats_per_bar], meter
