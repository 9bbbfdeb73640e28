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


BACKENDS: dict[str, Callable[..., Generator]] = {"symbolic": _symbolic}
LICENCES: dict[str, str] = {
    "symbolic": "free to use (our own arranger; FluidR3_GM soundfont, MIT licence)",
}


def make_generator(backend: str, *, encoder: Encoder | None = None, **options: Any) -> Generator:
    if backend not in BACKENDS:
        raise GenerateError(f"unknown generator back-end {backend!r}; choose one of: {', '.join(BACKENDS)}")
    return BACKENDS[backend](encoder, **options)


def generate_cue(backend: str, *, encoder: Encoder | None, seeds: np.ndarray | None,
                 phrases: Iterable[Phrase | str | tuple[str, float]] | None, seconds: float | None, seed: int,
                 loop: bool = False, job: Job | None = None, bars: int | None = None,
                 **options: Any) -> GeneratedCue:
    """A cue from `backend` ("symbolic", "musicgen", "musicldm"): `seeds` are (m, d) embeddings in the
    encoder's space (e.g. sampled from the prior), phrases steer ("+solo piano", "-drums:0.5"), the length is
    `seconds` or `bars`, and `seed` makes it reproducible. `options` go to the back-end's constructor."""
    request = GenerateRequest(seeds=None if seeds is None else np.asarray(seeds, np.float32),
                              phrases=as_phrases(phrases), seconds=seconds, bars=bars, seed=int(seed), loop=loop)
    return make_generator(backend, encoder=encoder, **options).generate(request, job=job or Job())
