"""Stem separation front door: Demucs when installed (or asked for), the labelled HPSS fallback otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.analysis import stems_demucs, stems_hpss

BACKENDS = ("auto", stems_demucs.BACKEND, stems_hpss.BACKEND)


@dataclass(frozen=True)
class Stems:
    backend: str  # "demucs" | "hpss": goes into file names and metadata
    tracks: dict[str, np.ndarray]


def separate(samples: np.ndarray, sample_rate: int, backend: str = "auto") -> Stems:
    """Split (n,) or (n, channels) audio into stems that sum back to it.

    "auto" uses Demucs only when the package is importable; asking for "demucs" explicitly without it
    raises DemucsUnavailable with the install commands, rather than silently giving HPSS stems.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown stem backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == stems_demucs.BACKEND or (backend == "auto" and stems_demucs.demucs_available()):
        try:
            return Stems(stems_demucs.BACKEND, stems_demucs.separate_demucs(samples, sample_rate))
        except stems_demucs.DemucsUnavailable:
            if backend != "auto":
                raise
    return Stems(stems_hpss.BACKEND, stems_hpss.separate_hpss(samples, sample_rate))
