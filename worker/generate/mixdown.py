"""Stems → finished stems + mix: exact length, seamless loop folding or a short end fade, one shared gain,
and 24-bit quantisation done so that the stems sum to the mix exactly, in memory and in the written files."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

PCM_BITS = 24
PCM_SCALE = float(2 ** (PCM_BITS - 1))  # 24-bit full scale: a sample k is k / 2**23
TARGET_PEAK = 10 ** (-3.0 / 20)  # the mix peaks at -3 dBFS
END_FADE_SECONDS = 0.25


def fit_length(wave: np.ndarray, length: int, *, loop: bool) -> np.ndarray:
    """`wave` (samples, channels) cut or padded to `length`; a loop's overhang is added onto its start
    (what you hear when the cue repeats), so the loop point is seamless."""
    out = np.zeros((length, wave.shape[1]), np.float64)
    head = wave[:length]
    out[: len(head)] = head
    if loop:
        for start in range(length, len(wave), length):
            chunk = wave[start : start + length]
            out[: len(chunk)] += chunk
    return out


def end_fade(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """A linear fade over the last END_FADE_SECONDS so cut-off releases do not click."""
    count = min(len(wave), int(round(END_FADE_SECONDS * sample_rate)))
    out = wave.copy()
    if count:
        out[-count:] *= np.linspace(1.0, 0.0, count, endpoint=True)[:, None]
    return out


def finish(raw: Mapping[str, np.ndarray], length: int, sample_rate: int, *, loop: bool
           ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(stems, mix) as float32 on the 24-bit grid; mix == sum of stems exactly; mix peak at TARGET_PEAK."""
    fitted = {name: fit_length(np.asarray(w, np.float64), length, loop=loop) for name, w in raw.items()}
    if not loop:
        fitted = {name: end_fade(w, sample_rate) for name, w in fitted.items()}
    channels = next(iter(fitted.values())).shape[1] if fitted else 2
    total = sum(fitted.values(), np.zeros((length, channels)))
    peak = float(np.abs(total).max()) if length else 0.0
    gain = TARGET_PEAK / peak if peak > 0 else 1.0
    stems = {name: quantise(w * gain) for name, w in fitted.items()}
    mix = sum((s.astype(np.float64) for s in stems.values()), np.zeros((length, channels)))
    return stems, mix.astype(np.float32)


def quantise(wave: np.ndarray) -> np.ndarray:
    """Rounded to the 24-bit grid (exactly representable in float32, so sums of stems stay exact)."""
    return (np.round(np.clip(wave, -1.0, 1.0 - 1.0 / PCM_SCALE) * PCM_SCALE) / PCM_SCALE).astype(np.float32)


def to_pcm(wave: np.ndarray) -> np.ndarray:
    """float on the 24-bit grid → int32 with the 24-bit value in the top bits (what soundfile writes)."""
    return (np.round(np.asarray(wave, np.float64) * PCM_SCALE).astype(np.int64) << 8).astype(np.int32)
