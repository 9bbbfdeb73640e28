"""A melody/harmony guide for MusicGen-melody computed from an arrangement's notes instead of from audio:
per chroma frame, the pitch class sounding loudest (one-hot, as MusicGen-melody's own feature extractor makes
it from the argmax of an audio chromagram). Drums and the bass register stay out, as the original model drops
them (with Demucs) before taking the chroma."""

from __future__ import annotations

import math

import numpy as np

from worker.generate.symbolic.arrange import Arrangement

PITCH_CLASSES = 12
GUIDE_MIN_PITCH = 48  # C3: the bass register below does not enter the guide


def chroma_guide(arrangement: Arrangement, frame_rate: float, seconds: float,
                 min_pitch: int = GUIDE_MIN_PITCH) -> np.ndarray:
    """(frames, 12) one-hot chroma at `frame_rate` covering `seconds`; a frame where nothing sounds keeps the
    previous frame's class (the first ones take the first sounding class)."""
    frames = int(math.floor(seconds * frame_rate)) + 1
    energy = np.zeros((frames, PITCH_CLASSES))
    seconds_per_beat = arrangement.plan.seconds_per_beat
    for part in arrangement.parts:
        if part.is_drum:
            continue
        for note in part.notes:
            if note.pitch < min_pitch:
                continue
            first = int(math.floor(note.start * seconds_per_beat * frame_rate))
            last = int(math.floor((note.start + note.length) * seconds_per_beat * frame_rate))
            if first < frames:
                energy[first : min(last, frames - 1) + 1, note.pitch % PITCH_CLASSES] += note.velocity
    classes = np.argmax(energy, axis=1)
    sounding = energy.max(axis=1) > 0
    if sounding.any():
        index = np.where(sounding, np.arange(frames), -1)
        index = np.maximum.accumulate(index)
        index[index < 0] = int(np.argmax(sounding))
        classes = classes[index]
    guide = np.zeros((frames, PITCH_CLASSES), np.float32)
    guide[np.arange(frames), classes] = 1.0
    return guide
