"""Scales, diatonic chords, progressions and cadences: the harmony the arranger builds on.

Pitch classes are integers 0..11 (C = 0); degrees are 0-based scale steps. Progressions are lists of degrees
diatonic to their mode, all starting on the tonic so a section (and a loop) begins at home.
"""

from __future__ import annotations

from dataclasses import dataclass

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}
MINOR_MODES = frozenset({"minor", "dorian", "phrygian"})

PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (0, 3, 0, 4), (0, 2, 3, 4), (0, 5, 1, 4)),
    "lydian": ((0, 1, 0, 1), (0, 1, 4, 0), (0, 6, 1, 0)),
    "mixolydian": ((0, 6, 3, 0), (0, 3, 6, 3), (0, 6, 4, 3)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 5, 4), (0, 5, 3, 4), (0, 2, 6, 3)),
    "dorian": ((0, 3, 0, 3), (0, 3, 6, 0), (0, 1, 2, 3)),
    "phrygian": ((0, 1, 0, 6), (0, 1, 2, 1), (0, 6, 1, 0)),
}

TRIAD = (0, 2, 4)  # scale steps stacked in thirds
SEVENTH = (0, 2, 4, 6)
MAJOR_TRIAD = (0, 4, 7)
MINOR_TRIAD = (0, 3, 7)
DOMINANT_SEVENTH = (0, 4, 7, 10)
FOURTH, FIFTH = 5, 7  # semitones above the tonic of the cadence's IV/iv and V


@dataclass(frozen=True)
class Chord:
    """A chord as its root pitch class and the pitch classes it holds (root first)."""

    root: int
    pitch_classes: tuple[int, ...]

    @property
    def fifth(self) -> int:
        return self.pitch_classes[2] if len(self.pitch_classes) > 2 else self.root

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes


def scale_pitch_classes(tonic: int, mode: str) -> tuple[int, ...]:
    return tuple((tonic + step) % 12 for step in MODES[mode])


def diatonic_chord(tonic: int, mode: str, degree: int, sevenths: bool = False) -> Chord:
    """The chord on `degree` built from the mode's own notes (triad, or seventh chord for jazzier styles)."""
    scale = MODES[mode]
    stack = SEVENTH if sevenths else TRIAD
    pcs = tuple((tonic + scale[(degree + step) % 7]) % 12 for step in stack)
    return Chord(root=pcs[0], pitch_classes=pcs)


def chord_from_intervals(root: int, intervals: tuple[int, ...]) -> Chord:
    return Chord(root=root % 12, pitch_classes=tuple((root + i) % 12 for i in intervals))


def cadence(tonic: int, mode: str) -> tuple[Chord, Chord, Chord]:
    """IV–V7–I (major family) or iv–V7–i (minor family): the dominant is major whatever the mode, so the
    ending resolves onto the tonic the way listeners expect."""
    minor = mode in MINOR_MODES
    subdominant = chord_from_intervals(tonic + FOURTH, MINOR_TRIAD if minor else MAJOR_TRIAD)
    dominant = chord_from_intervals(tonic + FIFTH, DOMINANT_SEVENTH)
    home = chord_from_intervals(tonic, MINOR_TRIAD if minor else MAJOR_TRIAD)
    return subdominant, dominant, home


def dominant(tonic: int) -> Chord:
    """V7: the chord a loop ends on so its last bar leads back into its first."""
    return chord_from_intervals(tonic + FIFTH, DOMINANT_SEVENTH)


def key_name(tonic: int, mode: str) -> str:
    return f"{PITCH_NAMES[tonic % 12]} {mode}"


def nearest_pitch(pitch_class: int, target: int, low: int, high: int) -> int:
    """The MIDI pitch of `pitch_class` closest to `target` within [low, high] (clamped by octaves)."""
    candidates = [p for p in range(low, high + 1) if p % 12 == pitch_class % 12]
    if not candidates:
        return min(max(target, low), high)
    return min(candidates, key=lambda p: (abs(p - target), p))


def voice_chord(chord: Chord, centre: int, size: int = 4) -> list[int]:
    """A close voicing of `size` notes around `centre`: chord tones cycled upward from the one nearest it."""
    pcs = chord.pitch_classes
    start = nearest_pitch(pcs[0], centre - 5, centre - 12, centre + 12)
    voicing = [start]
    index = 1
    while len(voicing) < size:
        pc = pcs[index % len(pcs)]
        pitch = voicing[-1] + 1
        while pitch % 12 != pc:
            pitch += 1
        voicing.append(pitch)
        index += 1
    return voicing
