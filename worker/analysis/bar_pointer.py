"""A bar-pointer hidden Markov model decoded by Viterbi: where the beats and downbeats are, from per-frame
beat and downbeat probabilities (Krebs, Böck & Widmer 2015; madmom's downbeat tracker works the same way).

The state is (beats per bar B, beat period p in frames, beat k of the bar, frames since that beat φ); φ
advances by one each frame, and when it wraps the pointer moves to beat k+1 (mod B) with a new period chosen
at a cost for changing tempo. Frames near φ = 0 "emit" the downbeat probability on beat 0 and the beat
probability on the others; every other state emits the beat probability's complement.

Why the bar level: a network can hear every eighth note of a busy piece as a beat while its downbeat output
still knows where the bars start (Freedoom's COUNTD: beat probability .8 on beats and off-beats alike, downbeat
probability .8 on downbeats and .2 on the off-beats). A beat-only model picks a phase at random there; tying the
beats to bars picks the one the downbeats agree with. With `meters=(1,)` and the beat probability as the
downbeat's, it is a beat-only model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# tempo-change cost at each beat: exp(-λ·|p'/p - 1|) (madmom's default). No tempo prior: tempo.py's, added per
# beat, lowered validation beat F (weights 0, 1, 3, 10: .720 .713 .697 .684)
TRANSITION_LAMBDA = 100.0
OBSERVATION_LAMBDA = 16  # the first 1/λ of each period are "beat" states
EPS = 1e-7


@dataclass(frozen=True)
class BarSpace:
    periods: np.ndarray  # (P,) int
    starts: np.ndarray  # (R, P) flat index of φ = 0 of each (meter, beat) row and period; R = sum(meters)
    ends: np.ndarray  # (R, P) flat index of the last φ
    beat_in_bar: np.ndarray  # (R,) k of each row
    following: np.ndarray  # (R,) the row of the beat after each row's beat (same meter)
    beat_mask: np.ndarray  # (S,) bool: states near φ = 0 of a beat that is not the bar's first
    downbeat_mask: np.ndarray  # (S,) bool: states near φ = 0 of the bar's first beat
    log_transition: np.ndarray  # (P from, P to)


def bar_space(fps: float, min_bpm: float, max_bpm: float, meters: tuple[int, ...]) -> BarSpace:
    """States for bars of each of `meters` beats (one group of rows per meter, no transitions between them)."""
    periods = np.arange(int(np.floor(60.0 * fps / max_bpm)), int(np.ceil(60.0 * fps / min_bpm)) + 1)
    rows = [(b, k) for b in meters for k in range(b)]
    block = np.concatenate([[0], np.cumsum(periods)[:-1]])  # offset of each period within a row
    starts = np.array([r * int(periods.sum()) + block for r in range(len(rows))])
    ends = starts + periods[None, :] - 1
    phase = np.concatenate([np.arange(p) for p in periods])
    near = phase < np.maximum(np.repeat(periods, periods) / OBSERVATION_LAMBDA, 1)
    first = np.array([k == 0 for _, k in rows])
    downbeat_mask = np.concatenate([near & f for f in first])
    beat_mask = np.concatenate([near & ~f for f in first])
    ratio = periods[None, :] / periods[:, None]
    trans = np.exp(-TRANSITION_LAMBDA * np.abs(ratio - 1.0))
    trans /= trans.sum(axis=1, keepdims=True)
    beat_in_bar = np.array([k for _, k in rows])
    following = np.arange(len(rows)) - beat_in_bar + (beat_in_bar + 1) % np.array([b for b, _ in rows])
    return BarSpace(periods, starts, ends, beat_in_bar, following, beat_mask, downbeat_mask,
                    np.log(np.maximum(trans, 1e-300)))


def decode(beat: np.ndarray, downbeat: np.ndarray, space: BarSpace) -> tuple[np.ndarray, np.ndarray]:
    """(beat frames, each beat's index within its bar) of the most likely state path."""
    beat = np.clip(np.asarray(beat, np.float64), EPS, 1 - EPS)
    down = np.clip(np.asarray(downbeat, np.float64), EPS, 1 - EPS)
    off = np.log((1 - beat) / (OBSERVATION_LAMBDA - 1))
    on_beat, on_down = np.log(beat) - off, np.log(down) - off
    beat_idx, down_idx = np.flatnonzero(space.beat_mask), np.flatnonzero(space.downbeat_mask)
    score = np.full(len(space.beat_mask), -np.log(len(space.beat_mask)))
    # the period each beat came from: one byte per (frame, row, period), ~40 MB per ten minutes of audio
    back = np.empty((len(beat), *space.starts.shape), np.uint8 if len(space.periods) <= 256 else np.int16)
    for t in range(len(beat)):
        if t:
            entering = score[space.ends][:, :, None] + space.log_transition[None]  # [row, from, to]
            best = np.argmax(entering, axis=1)  # [row, to]
            shifted = np.empty_like(score)
            shifted[1:] = score[:-1]
            back[t][space.following] = best
            shifted[space.starts[space.following]] = np.take_along_axis(entering, best[:, None, :], axis=1)[:, 0]
            score = shifted
        score += off[t]
        score[beat_idx] += on_beat[t]
        score[down_idx] += on_down[t]
    return _backtrack(score, back, space)


def _backtrack(score: np.ndarray, back: np.ndarray, space: BarSpace) -> tuple[np.ndarray, np.ndarray]:
    state = int(np.argmax(score))
    cell = int(np.searchsorted(space.starts.ravel(), state, side="right") - 1)
    row, col = divmod(cell, len(space.periods))
    phase = state - int(space.starts[row, col])
    previous = np.argsort(space.following)  # the row of the beat before each row's beat
    t, frames, index = len(back) - 1, [], []
    while True:
        t -= phase  # back to this beat's φ = 0
        if t < 0:
            break
        frames.append(t)
        index.append(int(space.beat_in_bar[row]))
        if t == 0:
            break
        col = int(back[t, row, col])
        row = int(previous[row])
        phase = int(space.periods[col]) - 1
        t -= 1
    return np.array(frames[::-1], np.float64), np.array(index[::-1], int)

