"""Beat-synchronous audio mixup (MusicLDM §3.2, "BAM") as an augmentation for the offline music–text model.

Two clips mix only when their tempi fall in the same tempo group (`worker.prior.mixup.tempo_group`), and they are
aligned on downbeats: each is cut from one of its own downbeats, so bar lines coincide in the mix and it sounds
like two parts of one piece rather than two pieces at once. x = λ·x₁ + (1 − λ)·x₂ with λ ~ Beta(5, 5). The
downbeats are the renders' exact MIDI downbeats when known (our training renders have them), else the
analysis tracker's (`worker.analysis.api.analyze_wave`).

The mixed clip's caption attributes are the union of both clips' (both sets of instruments play); the
caller decides how to caption it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from worker.prior.mixup import BETA, mix_ratio, tempo_group


@dataclass(frozen=True)
class AudioMix:
    wave: np.ndarray  # float32, `length` samples
    lam: float  # weight of the first clip
    start_a: int  # sample where the first clip was cut (one of its downbeats)
    start_b: int  # sample where the second clip was cut (one of its downbeats)


def downbeat_starts(downbeats_s: Sequence[float], sample_rate: int, total: int, length: int) -> np.ndarray:
    """Sample positions of the downbeats from which `length` samples still fit in a clip of `total` samples."""
    starts = np.round(np.asarray(downbeats_s, np.float64) * sample_rate).astype(int)
    return starts[(starts >= 0) & (starts + length <= total)]


def beat_sync_mix(a: np.ndarray, downbeats_a: Sequence[float], b: np.ndarray, downbeats_b: Sequence[float], *,
                  sample_rate: int, length: int, rng: np.random.Generator,
                  beta: tuple[float, float] = BETA) -> AudioMix | None:
    """Cut both clips at a random downbeat of each (so bar lines coincide) and mix them with λ ~ Beta.
    None when either clip has no downbeat from which `length` samples fit."""
    starts_a = downbeat_starts(downbeats_a, sample_rate, len(a), length)
    starts_b = downbeat_starts(downbeats_b, sample_rate, len(b), length)
    if len(starts_a) == 0 or len(starts_b) == 0:
        return None
    sa, sb = int(rng.choice(starts_a)), int(rng.choice(starts_b))
    lam = float(mix_ratio(rng, 1, beta)[0])
    wave = lam * np.asarray(a[sa:sa + length], np.float64) + (1.0 - lam) * np.asarray(b[sb:sb + length], np.float64)
    return AudioMix(wave.astype(np.float32), lam, sa, sb)


def mix_pairs(tempi_bpm: Sequence[float], rng: np.random.Generator) -> list[tuple[int, int]]:
    """Random disjoint pairs of clips within each tempo group (clips alone in their group stay unpaired)."""
    groups = tempo_group(np.asarray(tempi_bpm, np.float64))
    pairs: list[tuple[int, int]] = []
    for g in np.unique(groups):
        members = rng.permutation(np.flatnonzero(groups == g))
        pairs.extend((int(members[i]), int(members[i + 1])) for i in range(0, len(members) - 1, 2))
    return pairs


def tracked_downbeats(wave: np.ndarray, sample_rate: int) -> tuple[float | None, list[float]]:
    """(tempo, downbeats) from our own tracker, for clips without MIDI ground truth."""
    from worker.analysis.api import analyze_wave

    result = analyze_wave(np.asarray(wave, np.float32), sample_rate)
    return result.get("tempo_bpm"), list(result.get("downbeats_s") or [])
