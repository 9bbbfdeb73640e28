"""Phrases that name something the arranger controls act on the plan directly ("+ solo piano", "- drums",
"fast", "dark jazz"), so steering works even with an encoder that has no text tower.

A phrase's sign decides the direction; a negation inside a positive phrase ("no drums", "without piano")
flips it for the word it governs. Words the arranger does not know are left to the encoder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from worker.generate.base import Phrase
from worker.generate.symbolic.styles import INSTRUMENTS

FAST_TEMPO = (128.0, 152.0)
SLOW_TEMPO = (60.0, 76.0)
NOT_FAST_TEMPO = (60.0, 100.0)
NOT_SLOW_TEMPO = (100.0, 140.0)
SPARSE = (0.1, 0.3)
DENSE = (0.7, 0.95)

TEMPO_WORDS = {
    "fast": ("fast", "faster", "quick", "upbeat", "up-tempo", "uptempo", "energetic", "driving", "frantic",
             "hectic", "action"),
    "slow": ("slow", "slower", "calm", "relaxed", "gentle", "peaceful", "downtempo", "ballad", "tranquil",
             "meditative"),
}
MOOD_WORDS = {
    "minor": ("dark", "sad", "melancholic", "melancholy", "tense", "ominous", "suspense", "suspenseful", "minor",
              "mysterious", "somber", "sombre", "gloomy", "eerie"),
    "major": ("happy", "bright", "uplifting", "joyful", "cheerful", "major", "hopeful", "sunny", "playful"),
}
DENSITY_WORDS = {
    "sparse": ("sparse", "minimal", "simple", "quiet", "soft", "delicate", "intimate"),
    "dense": ("busy", "dense", "full", "lush", "powerful", "massive"),
}
STYLE_WORDS = {
    "ambient": ("ambient", "atmospheric", "drone", "ethereal"),
    "cinematic": ("cinematic", "orchestral", "orchestra", "epic", "film", "trailer", "score", "soundtrack"),
    "pop": ("pop",),
    "rock": ("rock", "punk", "grunge", "metal"),
    "electronic": ("electronic", "edm", "techno", "house", "synthwave", "dance", "trance", "electro"),
    "jazz": ("jazz", "jazzy", "swing", "bebop", "lounge"),
    "folk": ("folk", "acoustic", "country", "celtic"),
    "hiphop": ("hip hop", "hip-hop", "hiphop", "lofi", "lo-fi", "rap", "boom bap"),
    "waltz": ("waltz",),
}
DRUM_WORDS = ("drums", "drum", "percussion", "beat", "beats", "groove")
# Words naming instruments: either a family (every instrument in it) or one instrument.
INSTRUMENT_WORDS: dict[str, tuple[str, ...]] = {
    "piano": ("piano", "e_piano"), "keys": ("piano", "e_piano"), "rhodes": ("e_piano",),
    "electric piano": ("e_piano",), "guitar": tuple(n for n, i in INSTRUMENTS.items() if i.family == "guitar"),
    "acoustic guitar": ("steel_guitar", "nylon_guitar"), "electric guitar": ("clean_guitar", "overdrive_guitar",
                                                                              "distortion_guitar"),
    "strings": ("strings", "slow_strings", "violin", "cello", "harp"), "violin": ("violin",),
    "fiddle": ("violin",), "cello": ("cello",), "harp": ("harp",), "synth": ("square_lead", "saw_lead",
                                                                             "poly_pad", "synth_bass"),
    "brass": ("brass", "trumpet", "french_horn"), "trumpet": ("trumpet",), "horn": ("french_horn",),
    "horns": ("french_horn", "brass"), "flute": ("flute",), "woodwind": ("flute", "oboe", "clarinet"),
    "woodwinds": ("flute", "oboe", "clarinet"), "oboe": ("oboe",), "clarinet": ("clarinet",),
    "sax": ("sax",), "saxophone": ("sax",), "bells": ("celesta", "music_box", "vibraphone"),
    "celesta": ("celesta",), "music box": ("music_box",), "vibraphone": ("vibraphone",),
    "marimba": ("marimba",), "organ": ("organ",), "accordion": ("accordion",), "choir": ("choir",),
    "voices": ("choir",), "pad": ("warm_pad", "halo_pad"), "pads": ("warm_pad", "halo_pad"),
    "whistle": ("whistle",), "bass": tuple(n for n, i in INSTRUMENTS.items() if i.family == "bass"),
}
NEGATIONS = ("no", "without", "not", "less", "minus")
SOLO_WORDS = ("solo", "only", "alone", "unaccompanied")


@dataclass
class Constraints:
    """What the phrases demand of a plan; None/empty means "free"."""

    styles: set[str] = field(default_factory=set)
    excluded_styles: set[str] = field(default_factory=set)
    tempo: tuple[float, float] | None = None
    minor: bool | None = None
    density: tuple[float, float] | None = None
    drums: bool | None = None
    solo: tuple[str, ...] = ()  # instruments one of which plays every role
    include: list[tuple[str, ...]] = field(default_factory=list)  # per phrase: one of these must play
    exclude: set[str] = field(default_factory=set)  # instruments that must not play


def constraints_from(phrases: Sequence[Phrase]) -> Constraints:
    """Read every phrase. Where phrases conflict ("-drums" and "+energetic drums", "fast" and "calm") the
    stronger one wins, then the more specific one (fewer words: "-drums" is a directive, "energetic drums" a
    description), then the later one."""
    found = Constraints()
    for phrase in sorted(phrases, key=lambda p: (abs(p.weight), -len(p.text.split()))):  # stable: order kept
        _apply(found, phrase.text.lower(), phrase.weight > 0)
    return found


def _apply(found: Constraints, text: str, positive: bool) -> None:
    for word, negated in _terms(text):
        wants = positive != negated
        _apply_word(found, word, wants)


def _apply_word(found: Constraints, word: str, wants: bool) -> None:
    for direction, words in TEMPO_WORDS.items():
        if word in words:
            fast = direction == "fast"
            found.tempo = (FAST_TEMPO if fast else SLOW_TEMPO) if wants else (NOT_FAST_TEMPO if fast
                                                                              else NOT_SLOW_TEMPO)
            return
    for mood, words in MOOD_WORDS.items():
        if word in words:
            found.minor = (mood == "minor") == wants
            return
    for level, words in DENSITY_WORDS.items():
        if word in words:
            found.density = (SPARSE if level == "sparse" else DENSE) if wants else (DENSE if level == "sparse"
                                                                                  else SPARSE)
            return
    for style, words in STYLE_WORDS.items():
        if word in words:
            (found.styles if wants else found.excluded_styles).add(style)
            (found.excluded_styles if wants else found.styles).discard(style)
            return
    if word in DRUM_WORDS:
        found.drums = wants
        return
    if word.startswith("solo "):
        instruments = INSTRUMENT_WORDS[word.removeprefix("solo ")]
        if wants:
            found.solo = instruments
            found.drums = False
        else:
            found.solo = ()
        return
    if word in INSTRUMENT_WORDS:
        instruments = INSTRUMENT_WORDS[word]
        if wants:
            found.include.append(instruments)
            found.exclude.difference_update(instruments)
        else:
            found.exclude.update(instruments)
            found.include = [group for group in found.include if set(group) - found.exclude]


def _vocabulary() -> list[str]:
    words = [w for group in (TEMPO_WORDS, MOOD_WORDS, DENSITY_WORDS, STYLE_WORDS) for ws in group.values()
             for w in ws]
    words += list(DRUM_WORDS) + list(INSTRUMENT_WORDS)
    words += [f"solo {w}" for w in INSTRUMENT_WORDS]
    return sorted(set(words), key=lambda w: (-len(w), w))  # longest first: "solo piano" before "piano"


_VOCABULARY = _vocabulary()
_TERM = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in _VOCABULARY) + r")(?![\w-])")
_SOLO_SUFFIX = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in INSTRUMENT_WORDS) +
                          r")\s+(?:" + "|".join(SOLO_WORDS[1:]) + r")(?![\w-])")
_NEGATION = re.compile(r"(?<![\w-])(" + "|".join(NEGATIONS) + r")\s+$")


def _terms(text: str) -> list[tuple[str, bool]]:
    """Known words in `text` (longest match wins) with whether a negation directly precedes them."""
    text = re.sub(r"\s+", " ", text.replace("_", " ")).strip()
    text = _SOLO_SUFFIX.sub(lambda m: f"solo {m.group(1)}", text)  # "piano only" -> "solo piano"
    text = re.sub(r"(?<![\w-])(?:" + "|".join(SOLO_WORDS[1:]) + r")\s+(?=\w)", "solo ", text)  # "only piano"
    out = []
    for match in _TERM.finditer(text):
        negated = _NEGATION.search(text[: match.start()]) is not None
        out.append((match.group(1), negated))
    return out
