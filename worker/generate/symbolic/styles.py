"""The arranger's vocabulary: General-MIDI instruments (each one stem) and the styles that combine them.

A style names its tempo range, metre, modes, the instruments each role may take and the patterns each role
plays; `plan.sample_plan` draws one concrete plan from it. Instrument names are the stem names users see.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    """A GM program with the register it sounds good in (MIDI pitches) and the family phrases name it by."""

    name: str
    program: int  # General MIDI program, 0-based
    low: int
    high: int
    family: str

    @property
    def centre(self) -> int:
        return (self.low + self.high) // 2


def _instruments(*rows: tuple[str, int, int, int, str]) -> dict[str, Instrument]:
    return {row[0]: Instrument(*row) for row in rows}


INSTRUMENTS: dict[str, Instrument] = _instruments(
    ("piano", 0, 48, 84, "piano"),
    ("e_piano", 4, 48, 81, "piano"),
    ("celesta", 8, 60, 96, "bells"),
    ("music_box", 10, 60, 96, "bells"),
    ("vibraphone", 11, 53, 89, "bells"),
    ("marimba", 12, 48, 84, "bells"),
    ("organ", 16, 48, 84, "organ"),
    ("accordion", 21, 53, 84, "organ"),
    ("nylon_guitar", 24, 40, 76, "guitar"),
    ("steel_guitar", 25, 40, 76, "guitar"),
    ("jazz_guitar", 26, 40, 76, "guitar"),
    ("clean_guitar", 27, 40, 79, "guitar"),
    ("overdrive_guitar", 29, 40, 79, "guitar"),
    ("distortion_guitar", 30, 40, 72, "guitar"),
    ("acoustic_bass", 32, 28, 55, "bass"),
    ("finger_bass", 33, 28, 55, "bass"),
    ("pick_bass", 34, 28, 55, "bass"),
    ("fretless_bass", 35, 28, 55, "bass"),
    ("synth_bass", 38, 28, 55, "bass"),
    ("violin", 40, 55, 91, "strings"),
    ("cello", 42, 36, 67, "strings"),
    ("contrabass", 43, 28, 50, "bass"),
    ("harp", 46, 36, 91, "strings"),
    ("strings", 48, 48, 84, "strings"),
    ("slow_strings", 49, 48, 84, "strings"),
    ("choir", 52, 52, 79, "choir"),
    ("trumpet", 56, 55, 82, "brass"),
    ("tuba", 58, 28, 55, "bass"),
    ("french_horn", 60, 48, 77, "brass"),
    ("brass", 61, 48, 79, "brass"),
    ("sax", 65, 49, 81, "wind"),
    ("oboe", 68, 58, 89, "wind"),
    ("clarinet", 71, 50, 86, "wind"),
    ("flute", 73, 60, 93, "wind"),
    ("whistle", 78, 60, 91, "wind"),
    ("square_lead", 80, 55, 84, "synth"),
    ("saw_lead", 81, 55, 84, "synth"),
    ("warm_pad", 89, 48, 79, "pad"),
    ("poly_pad", 90, 48, 79, "synth"),
    ("halo_pad", 94, 48, 79, "pad"),
)
DRUM_STEM = "drums"
ROLES = ("bass", "comp", "pad", "melody")  # pitched roles, in the order their stems are listed


@dataclass(frozen=True)
class Style:
    name: str
    tempo: tuple[float, float]  # BPM range the style is drawn from
    beats_per_bar: int
    modes: tuple[str, ...]
    bass: tuple[str, ...]  # instrument options per role; "" = the role may rest, () = it never plays
    comp: tuple[str, ...]
    pad: tuple[str, ...]
    melody: tuple[str, ...]
    bass_patterns: tuple[str, ...]
    comp_patterns: tuple[str, ...]
    drums: str | None  # drum pattern name; None: no drums unless a phrase asks for them
    density: tuple[float, float]
    swing: float = 0.0  # beats an off-beat eighth is delayed by (1/6 = triplet swing)
    sevenths: bool = False
    bars_per_chord: int = 1


STYLES: dict[str, Style] = {s.name: s for s in (
    Style("ambient", (60, 80), 4, ("lydian", "major", "dorian", "minor"), ("fretless_bass", "cello"),
          ("warm_pad", "halo_pad", "slow_strings"), (), ("celesta", "vibraphone", "piano", "flute", "harp"),
          ("whole",), ("sustain",), None, (0.15, 0.4), bars_per_chord=2),
    Style("cinematic", (70, 100), 4, ("minor", "dorian", "phrygian", "major"), ("contrabass", "cello"),
          ("strings", "slow_strings"), ("choir", "warm_pad", ""), ("french_horn", "brass", "oboe", "violin"),
          ("whole", "eighths"), ("sustain", "ostinato"), "cinematic", (0.3, 0.7)),
    Style("pop", (96, 124), 4, ("major", "minor", "mixolydian"), ("finger_bass", "pick_bass"),
          ("piano", "clean_guitar", "steel_guitar"), ("strings", "warm_pad", ""),
          ("square_lead", "piano", "vibraphone", "flute"), ("root_fifth", "eighths"),
          ("block", "arpeggio", "strum"), "pop", (0.4, 0.8)),
    Style("rock", (108, 144), 4, ("minor", "mixolydian", "major"), ("pick_bass",),
          ("distortion_guitar", "overdrive_guitar"), ("organ", ""), ("overdrive_guitar", "saw_lead"),
          ("eighths",), ("power",), "rock", (0.5, 0.9)),
    Style("electronic", (118, 132), 4, ("minor", "dorian", "phrygian"), ("synth_bass",),
          ("poly_pad", "square_lead"), ("warm_pad", "halo_pad"), ("saw_lead", "square_lead"),
          ("offbeat", "eighths"), ("arpeggio", "offbeat"), "four_on_floor", (0.5, 0.9)),
    Style("jazz", (90, 160), 4, ("dorian", "major", "minor"), ("acoustic_bass",),
          ("piano", "e_piano", "jazz_guitar"), (), ("sax", "trumpet", "vibraphone"),
          ("walking",), ("stabs",), "jazz_ride", (0.4, 0.8), swing=1 / 6, sevenths=True),
    Style("folk", (80, 112), 4, ("major", "mixolydian", "dorian"), ("acoustic_bass",),
          ("steel_guitar", "nylon_guitar"), (), ("flute", "violin", "whistle", "accordion"),
          ("root_fifth",), ("strum", "arpeggio"), "folk", (0.3, 0.6)),
    Style("hiphop", (78, 96), 4, ("minor", "dorian"), ("finger_bass", "synth_bass"), ("e_piano", "piano"),
          ("warm_pad", ""), ("vibraphone", "flute", "e_piano"), ("syncopated",), ("block", "stabs"),
          "boom_bap", (0.3, 0.6), swing=1 / 12, sevenths=True),
    Style("waltz", (84, 132), 3, ("major", "minor"), ("acoustic_bass", "tuba"), ("piano", "accordion", "harp"),
          ("strings", ""), ("violin", "flute", "clarinet"), ("oompah",), ("oompah",), None, (0.3, 0.6)),
)}
# Which drum pattern a style borrows when a phrase asks for drums it does not have by default.
FALLBACK_DRUMS = {"ambient": "folk", "waltz": "waltz"}
