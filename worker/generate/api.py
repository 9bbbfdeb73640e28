"""The generation entry points the service and CLI call: pick a back-end by name, build a cue, write it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from worker.encoders.base import Encoder
from worker.generate.base import GeneratedCue, GenerateError, GenerateRequest, Generator, Phrase, as_phrases
from worker.generate.writer import write_cue
from worker.jobs import Job

__all__ = ["BACKENDS", "LICENCES", "generate_cue", "make_generator", "write_cue"]


def _symbolic(encoder: Encoder | None, **options: Any) -> Generator:
    from worker.generate.symbolic.generator import SymbolicGenerator

    return SymbolicGenerator(encoder=encoder, **options)


def _musicgen(encoder: Encoder | None, **options: Any) -> Generator:
    from worker.generate.musicgen import MusicGenGenerator

    return MusicGenGenerator(encoder, **options)


def _musicgen_melody(encoder: Encoder | None, **options: Any) -> Generator:
    from worker.generate.musicgen_melody import MusicGenMelodyGenerator

    return MusicGenMelodyGenerator(encoder, **options)


def _musicldm(encoder: Encoder | None, **options: Any) -> Generator:
    from worker.generate.musicldm import MusicLDMGenerator

    return MusicLDMGenerator(encoder, **options)


BACKENDS: dict[str, Callable[..., Generator]] = {"symbolic": _symbolic, "musicgen": _musicgen,
                                                 "musicgen-melody": _musicgen_melody, "musicldm": _musicldm}
# Shown where the user picks a back-end (kept here so listing them imports no model code).
LICENCES: dict[str, str] = {
    "symbolic": "free to use: our own arranger, rendered with the FluidR3_GM soundfont (MIT licence)",
    "musicgen": "MusicGen weights (Meta): CC-BY-NC 4.0 — non-commercial use only",
    "musicgen-melody": "MusicGen weights (Meta): CC-BY-NC 4.0 — non-commercial use only",
    "musicldm": "MusicLDM weights: CC-BY-NC-SA 4.0 — non-commercial use, share alike",
}


def make_generator(backend: str, *, encoder: Encoder | None = None, **options: Any) -> Generator:
    """A back-end by name; building MusicGen/MusicLDM loads their weights (keep the object to reuse them)."""
    if backend not in BACKENDS:
        raise GenerateError(f"unknown generator back-end {backend!r}; choose one of: {', '.join(BACKENDS)}")
    return BACKENDS[backend](encoder, **options)


def generate_cue(backend: str, *, encoder: Encoder | None, seeds: np.ndarray | None,
                 phrases: Iterable[Phrase | str | tuple[str, float]] | None, seconds: float | None, seed: int,
                 loop: bool = False, job: Job | None = None, bars: int | None = None,
                 generator: Generator | None = None, **options: Any) -> GeneratedCue:
    """A cue from `backend` (see BACKENDS): `seeds` are (m, d) embeddings in the encoder's space (e.g. sampled
    from the prior), phrases steer ("+solo piano", "-drums:0.5"), the length is `seconds` or `bars`, and `seed`
    makes it reproducible. `generator` reuses a loaded back-end; otherwise one is built with `options` as
    constructor arguments."""
    request = GenerateRequest(seeds=None if seeds is None else np.asarray(seeds, np.float32),
                              phrases=as_phrases(phrases), seconds=seconds, bars=bars, seed=int(seed), loop=loop)
    if generator is None:
        generator = make_generator(backend, encoder=encoder, **options)
    elif generator.name != backend:
        raise GenerateError(f"asked for the {backend} back-end but was given a {generator.name} generator")
    return generator.generate(request, job=job or Job())
