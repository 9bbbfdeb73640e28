"""Exact attributes of a clip as tokens (`fam:piano`, `tempo:fast`, …) and their words.

A caption is a set of tokens rendered in words; it matches every clip whose token set contains it, which
gives the multi-positive contrastive target (many clips are "fast").
"""

from __future__ import annotations

import numpy as np

from worker.encoders.offline.train.clip import Clip

# Curated General-MIDI programs per family: clean labels for what we choose, and the map for what we read.
FAMILIES: dict[str, tuple[int, ...]] = {
    "piano": (0, 1, 2, 3),
    "electric piano": (4, 5),
    "mallets": (8, 9, 10, 11, 12, 13, 14),
    "organ": (16, 17, 18, 19, 20),
    "guitar": (24, 25, 26, 27, 28, 29, 30),
    "bass": (32, 33, 34, 35, 36, 37, 38, 39),
    "strings": (40, 41, 42, 44, 45, 48, 49, 50),
    "harp": (46,),
    "choir": (52, 53),
    "brass": (56, 57, 58, 60, 61, 62),
    "saxophone": (64, 65, 66, 67),
    "woodwinds": (68, 69, 70, 71),
    "flute": (72, 73, 74, 75, 79),
    "synth lead": (80, 81, 82, 87),
    "synth pad": (88, 89, 90, 91, 92, 94, 95),
}
PROGRAM_FAMILY = {p: fam for fam, progs in FAMILIES.items() for p in progs}
FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "piano": ("piano", "acoustic piano", "grand piano"),
    "electric piano": ("electric piano", "rhodes", "electric keys"),
    "mallets": ("mallets", "bells", "vibraphone and marimba", "glockenspiel"),
    "organ": ("organ", "hammond organ", "church organ"),
    "guitar": ("guitar", "acoustic guitar", "electric guitar", "guitars"),
    "bass": ("bass", "bass guitar", "bassline"),
    "strings": ("strings", "string section", "violins", "orchestral strings"),
    "harp": ("harp", "orchestral harp"),
    "choir": ("choir", "voices", "choral pad"),
    "brass": ("brass", "trumpets", "horn section", "trombones"),
    "saxophone": ("saxophone", "sax"),
    "woodwinds": ("woodwinds", "clarinet", "oboe", "bassoon"),
    "flute": ("flute", "flutes", "pan flute"),
    "synth lead": ("synth lead", "synthesizer lead", "lead synth"),
    "synth pad": ("synth pad", "ambient pad", "synthesizer pad"),
}
TEMPO_BANDS = (("slow", 0.0, 80.0), ("moderate", 80.0, 110.0), ("upbeat", 110.0, 140.0), ("fast", 140.0, 1e9))
TEMPO_WORDS = {
    "slow": ("slow", "slow tempo", "laid-back", "unhurried"),
    "moderate": ("moderate tempo", "medium tempo", "mid-tempo"),
    "upbeat": ("upbeat", "lively", "brisk"),
    "fast": ("fast", "fast tempo", "uptempo", "quick", "energetic fast"),
}
OTHER_WORDS: dict[str, tuple[str, ...]] = {
    "drums:yes": ("drums", "with drums", "drum kit", "percussion", "beat"),
    "drums:no": ("no drums", "without drums", "no percussion"),
    "drums:only": ("drums only", "solo drums", "percussion only", "drum beat alone"),
    "solo": ("solo", "a single instrument", "unaccompanied"),
    "ensemble": ("ensemble", "band", "several instruments"),
    "mode:major": ("major key", "in a major key", "bright major harmony"),
    "mode:minor": ("minor key", "in a minor key", "dark minor harmony"),
    "density:sparse": ("sparse", "few notes", "minimal"),
    "density:dense": ("dense", "busy", "many notes"),
    "register:low": ("low register", "low-pitched", "deep"),
    "register:high": ("high register", "high-pitched"),
    "dynamics:soft": ("soft", "quiet", "gentle"),
    "dynamics:loud": ("loud", "forceful", "powerful"),
    "style:rock": ("rock", "rock beat"),
    "style:dance": ("dance", "four-on-the-floor", "disco"),
    "style:waltz": ("waltz", "in three", "3/4 time"),
    "style:swing": ("swing", "jazzy swing", "shuffle"),
    "style:bossa": ("bossa nova", "latin"),
    "style:ballad": ("ballad",),
    "style:game": ("video game music", "game soundtrack"),
}
SOLO_DENSITY = (3.0, 10.0)  # notes per second below: sparse, above: dense
REGISTER = (50.0, 74.0)  # mean MIDI pitch below: low, above: high
DYNAMICS = (55.0, 105.0)  # mean velocity below: soft, above: loud


def tempo_band(bpm: float) -> str:
    return next(name for name, lo, hi in TEMPO_BANDS if lo <= bpm < hi)


def clip_tokens(clip: Clip) -> set[str]:
    """All exact attributes of a clip as tokens."""
    tokens: set[str] = {f"tempo:{tempo_band(clip.bpm)}"}
    melodic = clip.melodic()
    for part in melodic:
        fam = PROGRAM_FAMILY.get(part.program)
        if fam:
            tokens.add(f"fam:{fam}")
    drums = clip.has_drums()
    if drums and not melodic:
        tokens |= {"drums:only", "drums:yes"}
    else:
        tokens.add("drums:yes" if drums else "drums:no")
    n_parts = len(melodic) + int(drums)
    if n_parts == 1 and melodic:
        tokens.add("solo")
    elif n_parts >= 2:
        tokens.add("ensemble")
    if clip.mode and melodic:
        tokens.add(f"mode:{clip.mode}")
    if clip.style:
        tokens.add(f"style:{clip.style}")
    notes = [n for p in melodic for n in p.notes]
    if notes:
        rate = len(notes) / clip.seconds
        if rate < SOLO_DENSITY[0]:
            tokens.add("density:sparse")
        elif rate > SOLO_DENSITY[1]:
            tokens.add("density:dense")
        pitch = float(np.mean([n[2] for n in notes]))
        if pitch < REGISTER[0]:
            tokens.add("register:low")
        elif pitch > REGISTER[1]:
            tokens.add("register:high")
    all_notes = [n for p in clip.parts for n in p.notes]
    if all_notes:
        vel = float(np.mean([n[3] for n in all_notes]))
        if vel < DYNAMICS[0]:
            tokens.add("dynamics:soft")
        elif vel > DYNAMICS[1]:
            tokens.add("dynamics:loud")
    return tokens


def token_words(token: str) -> tuple[str, ...]:
    if token.startswith("fam:"):
        return FAMILY_WORDS[token[4:]]
    if token.startswith("tempo:"):
        return TEMPO_WORDS[token[6:]]
    return OTHER_WORDS[token]


def all_tokens() -> list[str]:
    return ([f"fam:{f}" for f in FAMILIES] + [f"tempo:{t[0]}" for t in TEMPO_BANDS] + list(OTHER_WORDS))


KRUMHANSL_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KRUMHANSL_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MODE_MARGIN = 0.1  # best-major vs best-minor correlation gap needed to call the mode of read MIDI


def estimate_mode(clip: Clip) -> str | None:
    """Krumhansl–Kessler mode of the clip's melodic notes (duration-weighted), None when not clear."""
    hist = np.zeros(12)
    for part in clip.melodic():
        for start, end, pitch, _ in part.notes:
            hist[pitch % 12] += end - start
    if hist.sum() <= 0:
        return None
    best = {}
    for name, profile in (("major", KRUMHANSL_MAJOR), ("minor", KRUMHANSL_MINOR)):
        best[name] = max(np.corrcoef(hist, np.roll(profile, k))[0, 1] for k in range(12))
    if abs(best["major"] - best["minor"]) < MODE_MARGIN:
        return None
    return max(best, key=best.get)
