"""Beat-synchronous latent mixup (MusicLDM §3.2, "BLM") for the prior's training pairs.

MusicLDM mixes two tracks of the same tempo group, aligned on downbeats, in the VAE's latent space with
λ ~ Beta(5, 5): y = λ·y₁ + (1 − λ)·y₂ — new training points between real ones, so the model interpolates
instead of memorising. Our prior's data are already embeddings (one per window), so the latent mixup is done
there: partners come from the same group (tempo group for library windows — their windows start on the
analysis grid — or any label that says "these mix musically"), the embedding is mixed and put back on the unit
sphere (the library's vectors are unit), and the condition (text/picture embedding) is mixed with the same λ,
as mixup mixes labels. The audio-space variant (BAM) for the offline model lives in
`worker.encoders.offline.train.mixup`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BETA = (5.0, 5.0)  # MusicLDM: λ ~ Beta(5, 5)
TEMPO_GROUP_RATIO = 1.06  # tempo groups are bins 6 % wide on a log-tempo axis (≈ ±3 % around their centre)
REFERENCE_BPM = 60.0


def tempo_group(bpm: float | np.ndarray, ratio: float = TEMPO_GROUP_RATIO) -> np.ndarray:
    """Tempo group index of each tempo: floor(log(bpm/60) / log(ratio)); tracks mix only within one group."""
    bpm = np.asarray(bpm, np.float64)
    if np.any(bpm <= 0):
        raise ValueError("tempi must be positive")
    return np.floor(np.log(bpm / REFERENCE_BPM) / np.log(ratio) + 1e-9).astype(int)


def mix_ratio(rng: np.random.Generator, n: int, beta: tuple[float, float] = BETA) -> np.ndarray:
    """n mixing ratios λ ~ Beta(a, b)."""
    return rng.beta(beta[0], beta[1], size=n)


def partners(groups: Sequence[int] | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For every item, another item of its own group (itself when the group has one member)."""
    groups = np.asarray(groups)
    out = np.arange(len(groups))
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if len(members) < 2:
            continue
        # a random other member: shift a random offset in 1..len-1 around the group's members
        shift = rng.integers(1, len(members), size=len(members))
        out[members] = members[(np.arange(len(members)) + shift) % len(members)]
    return out


def latent_mixup(vectors: np.ndarray, conditions: np.ndarray | None, groups: Sequence[int] | np.ndarray, *,
                 rng: np.random.Generator, beta: tuple[float, float] = BETA
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """One mixed copy of the set: (vectors, conditions, partner index, λ) with z = unit(λ·z_i + (1 − λ)·z_j),
    q = λ·q_i + (1 − λ)·q_j and j drawn from i's group."""
    z = np.asarray(vectors, np.float64)
    j = partners(groups, rng)
    lam = mix_ratio(rng, len(z), beta)
    mixed = lam[:, None] * z + (1.0 - lam[:, None]) * z[j]
    mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
    q = None
    if conditions is not None:
        c = np.asarray(conditions, np.float64)
        q = (lam[:, None] * c + (1.0 - lam[:, None]) * c[j]).astype(np.float32)
    return mixed.astype(np.float32), q, j, lam


def augment(vectors: np.ndarray, conditions: np.ndarray | None, groups: Sequence[int] | np.ndarray, *,
            copies: int = 1, seed: int = 0, beta: tuple[float, float] = BETA
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """The training set plus `copies` mixed copies of it (fresh partners and λ each time)."""
    rng = np.random.default_rng(seed)
    zs = [np.asarray(vectors, np.float32)]
    qs = None if conditions is None else [np.asarray(conditions, np.float32)]
    for _ in range(copies):
        z, q, _, _ = latent_mixup(vectors, conditions, groups, rng=rng, beta=beta)
        zs.append(z)
        if qs is not None:
            qs.append(q)
    return np.concatenate(zs), None if qs is None else np.concatenate(qs)
