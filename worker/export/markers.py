"""Markers an editor sees on the timeline: bars (or beats) from the tempo map plus the user's cue points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BAR_COLOR = "Blue"
BEAT_COLOR = "Cyan"
CUE_COLOR = "Red"
LEVELS = ("bar", "beat")


@dataclass(frozen=True)
class Marker:
    time_s: float  # from the start of the exported file
    name: str
    color: str = BAR_COLOR
    note: str = ""


def beat_markers(beats_s, downbeats_s, level: str = "bar") -> list[Marker]:
    """"Bar N" on every downbeat, or "N.b" on every beat (b counts from 1 at each downbeat)."""
    if level not in LEVELS:
        raise ValueError(f"marker level must be one of {LEVELS}, got {level!r}")
    beats = np.asarray(beats_s, np.float64)
    downs = np.asarray(downbeats_s, np.float64)
    if level == "bar":
        return [Marker(float(t), f"Bar {i + 1}") for i, t in enumerate(downs)]
    out = []
    for t in beats:
        bar = int(np.searchsorted(downs, t + 1e-6))  # bars started at or before t
        start = downs[bar - 1] if bar else (beats[0] if len(beats) else 0.0)
        beat_in_bar = int(np.sum((beats >= start - 1e-6) & (beats < t - 1e-6))) + 1
        out.append(Marker(float(t), f"{max(bar, 0)}.{beat_in_bar}", BAR_COLOR if beat_in_bar == 1 else BEAT_COLOR))
    return out


def merge(*groups: list[Marker]) -> list[Marker]:
    return sorted((m for group in groups for m in group), key=lambda m: m.time_s)
