"""Ruler ticks and snapping for the timeline: pure arithmetic on seconds and pixels."""

from __future__ import annotations

from collections.abc import Iterable

NICE_STEPS_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def tick_step(px_per_s: float, min_gap_px: float) -> float:
    """The smallest nice step whose labels are at least `min_gap_px` apart."""
    for step in NICE_STEPS_S:
        if step * px_per_s >= min_gap_px:
            return step
    return NICE_STEPS_S[-1]


def ticks(start_s: float, end_s: float, step_s: float) -> list[float]:
    """Multiples of `step_s` in [start_s, end_s] (computed by index, so 0.1-steps don't drift)."""
    first = max(0, int(start_s / step_s) - 1)
    out = []
    i = first
    while i * step_s <= end_s + 1e-9:
        t = round(i * step_s, 6)
        if t >= start_s - 1e-9:
            out.append(t)
        i += 1
    return out


def snap(value_s: float, candidates: Iterable[float], px_per_s: float, snap_px: float) -> float:
    """`value_s` moved to the nearest candidate within `snap_px` pixels, else unchanged."""
    best, best_gap = value_s, snap_px / px_per_s if px_per_s > 0 else 0.0
    for c in candidates:
        if abs(c - value_s) <= best_gap:
            best, best_gap = c, abs(c - value_s)
    return best
