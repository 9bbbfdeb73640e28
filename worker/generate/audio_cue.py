"""What the audio-model back-ends share: the length they must produce, a seamless loop by crossfading the
overhang into the start, and a cue built from one waveform (one stem, an estimated tempo map)."""

from __future__ import annotations

from typing import Any

import numpy as np

from worker.generate import mixdown
from worker.generate.base import GeneratedCue, GenerateError, GenerateRequest

AUDIO_STEM = "music"
LOOP_CROSSFADE_SECONDS = 1.0
DEFAULT_BEATS_PER_BAR = 4


def requested_seconds(request: GenerateRequest, backend: str) -> float:
    if request.seconds is None:
        raise GenerateError(f"the {backend} back-end has no tempo of its own to count bars in: give the length "
                            "in seconds (--seconds)")
    return float(request.seconds)


def samples_to_generate(request: GenerateRequest, sample_rate: int, backend: str) -> int:
    """Samples the model must produce: the cue, plus a crossfade's worth for a loop."""
    extra = LOOP_CROSSFADE_SECONDS if request.loop else 0.0
    return int(round((requested_seconds(request, backend) + extra) * sample_rate))


def crossfade_loop(wave: np.ndarray, length: int) -> np.ndarray:
    """`wave` longer than `length`: its overhang fades out over the start while the start fades in, so playing
    the result on repeat has no seam. 1-D or (samples, channels)."""
    overhang = wave[length:]
    out = np.array(wave[:length], dtype=np.float64)
    count = min(len(overhang), length)
    if count:
        ramp = np.linspace(0.0, 1.0, count, endpoint=False)
        shape = (count,) + (1,) * (out.ndim - 1)
        out[:count] = out[:count] * ramp.reshape(shape) + overhang[:count] * (1.0 - ramp).reshape(shape)
    return out


def cue_from_wave(wave: np.ndarray, sample_rate: int, request: GenerateRequest, *, backend: str, licence: str,
                  metadata: dict[str, Any]) -> GeneratedCue:
    """One-stem cue from a model's mono output: exact length (looped or faded), normalised, 24-bit grid."""
    length = int(round(requested_seconds(request, backend) * sample_rate))
    mono = np.asarray(wave, np.float64).reshape(-1)
    if request.loop and len(mono) > length:
        mono = crossfade_loop(mono, length)
    stems, mix = mixdown.finish({AUDIO_STEM: mono[:, None]}, length, sample_rate, loop=request.loop)
    beats = estimated_beats(mix[:, 0], sample_rate)
    tempo = float(60.0 / np.median(np.diff(beats))) if len(beats) > 1 else None
    return GeneratedCue(mix=mix, sample_rate=sample_rate, stems=stems, beat_times=beats,
                        beats_per_bar=DEFAULT_BEATS_PER_BAR, tempo_bpm=tempo, key=None, licence=licence, midi=None,
                        metadata={"backend": backend, "seed": request.seed, "loop": request.loop,
                                  "phrases": [(p.text, p.weight) for p in request.phrases], **metadata})


def estimated_beats(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Beat times from `worker.analysis` when it is present (audio models have no symbolic tempo map)."""
    try:
        from worker.analysis.api import analyze_wave
    except ImportError:
        return np.zeros(0)
    return np.asarray(analyze_wave(np.asarray(wave, np.float32), sample_rate)["beats_s"], np.float64)
