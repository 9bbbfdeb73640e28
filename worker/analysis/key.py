"""Key and mode by correlating a track's chroma with the Krumhansl–Kessler probe-tone profiles (1982)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, C = 0
    mode: str  # "major" | "minor"
    confidence: float  # Pearson correlation with the winning profile, -1..1

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


def estimate_key(chroma: np.ndarray) -> Key | None:
    """Best of the 24 rotated profiles for a (frames, 12) chroma; None when there is no pitched content."""
    profile = np.asarray(chroma, np.float64).reshape(-1, 12).sum(axis=0)
    if not np.any(profile > 0) or np.ptp(profile) == 0:
        return None
    best: Key | None = None
    for mode, template in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(profile, np.roll(template, tonic))[0, 1])
            if best is None or r > best.confidence:
                best = Key(tonic=tonic, mode=mode, confidence=r)
    return best
