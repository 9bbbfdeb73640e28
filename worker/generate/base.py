"""One interface for every generator (DESIGN §8): a request in, a cue out (mix + stems + tempo map + MIDI).

Back-ends differ in what they can honour (the symbolic arranger gives true stems and exact MIDI; audio models
give one stem and an estimated tempo map), but all take the same `GenerateRequest` and return a
`GeneratedCue` whose stems have identical length and start and sum to the mix.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worker.jobs import Job, JobFailed

DEFAULT_WEIGHT = 1.0
_PHRASE = re.compile(r"^\s*(?P<sign>[+\-−])?\s*(?P<text>.*?)\s*(?::\s*(?P<weight>[0-9]*\.?[0-9]+))?\s*$")


class GenerateError(JobFailed):
    """A generator cannot run (weights or tools missing, bad request); the message names the fix."""


@dataclass(frozen=True)
class Phrase:
    """A steering phrase: positive weight pulls toward it, negative pushes away. `vector` is its embedding in
    the active encoder's space when the caller has one (the generator embeds it itself otherwise, if it can)."""

    text: str
    weight: float = DEFAULT_WEIGHT
    vector: np.ndarray | None = field(default=None, compare=False)

    @property
    def positive(self) -> bool:
        return self.weight > 0


def parse_phrase(spec: str) -> Phrase:
    """`"+warm acoustic guitar:0.8"`, `"-vocals:0.5"`, `"fast"` (DESIGN §12 steering syntax; weight defaults
    to 1, a leading minus makes it negative)."""
    match = _PHRASE.match(spec)
    if match is None or not match["text"]:
        raise GenerateError(f"cannot read the steering phrase {spec!r}; write it like \"+warm guitar:0.8\"")
    weight = float(match["weight"]) if match["weight"] else DEFAULT_WEIGHT
    sign = -1.0 if match["sign"] in ("-", "−") else 1.0
    return Phrase(text=match["text"], weight=sign * weight)


def as_phrases(items: Iterable[Phrase | str | tuple[str, float]] | None) -> tuple[Phrase, ...]:
    """Phrases from `Phrase`s, steering strings or (text, signed weight) pairs."""
    out: list[Phrase] = []
    for item in items or ():
        if isinstance(item, Phrase):
            out.append(item)
        elif isinstance(item, str):
            out.append(parse_phrase(item))
        else:
            text, weight = item
            out.append(Phrase(text=str(text), weight=float(weight)))
    return tuple(out)


@dataclass(frozen=True)
class GenerateRequest:
    """What to make: seed embeddings (m, d) from the prior (or None), phrases, a length in seconds or bars,
    the random seed that makes the result reproducible, and whether the cue must loop seamlessly."""

    seeds: np.ndarray | None = None
    phrases: tuple[Phrase, ...] = ()
    seconds: float | None = None
    bars: int | None = None
    seed: int = 0
    loop: bool = False

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.bars is None):
            raise GenerateError("give the cue's length either in seconds or in bars (exactly one of them)")
        if self.seconds is not None and not self.seconds > 0:
            raise GenerateError(f"the cue must be longer than 0 s, got {self.seconds}")
        if self.bars is not None and self.bars < 1:
            raise GenerateError(f"the cue must have at least one bar, got {self.bars}")
        if self.seeds is not None and np.asarray(self.seeds).ndim != 2:
            raise GenerateError(f"seeds must be an (m, d) array, got shape {np.asarray(self.seeds).shape}")

    @property
    def positive_phrases(self) -> tuple[Phrase, ...]:
        return tuple(p for p in self.phrases if p.weight > 0)

    @property
    def negative_phrases(self) -> tuple[Phrase, ...]:
        return tuple(p for p in self.phrases if p.weight < 0)


@dataclass
class GeneratedCue:
    """A finished cue. Waves are float32 (samples, channels); every stem starts at sample 0 and has the mix's
    length, and the stems sum to the mix. `midi` is a `mido.MidiFile` for symbolic back-ends, else None."""

    mix: np.ndarray
    sample_rate: int
    stems: dict[str, np.ndarray]
    beat_times: np.ndarray  # seconds of every beat from the start
    beats_per_bar: int
    tempo_bpm: float | None
    key: str | None
    licence: str
    metadata: dict[str, Any]
    midi: Any = None

    @property
    def seconds(self) -> float:
        return len(self.mix) / self.sample_rate

    @property
    def downbeat_times(self) -> np.ndarray:
        return self.beat_times[:: self.beats_per_bar]


class Generator(ABC):
    """A back-end: `generate` builds a cue in memory (no files); `worker.generate.writer` writes it."""

    name: str = ""
    licence: str = ""

    @abstractmethod
    def generate(self, request: GenerateRequest, *, job: Job | None = None) -> GeneratedCue:
        """The cue for `request`, reporting progress to and stopping at checkpoints of `job`."""


def prompt_text(phrases: Sequence[Phrase]) -> str:
    """A text prompt from the positive phrases, strongest first (what audio models are conditioned on)."""
    positives = sorted((p for p in phrases if p.weight > 0), key=lambda p: -p.weight)
    return ", ".join(p.text for p in positives)


def negative_text(phrases: Sequence[Phrase]) -> str:
    negatives = sorted((p for p in phrases if p.weight < 0), key=lambda p: p.weight)
    return ", ".join(p.text for p in negatives)
