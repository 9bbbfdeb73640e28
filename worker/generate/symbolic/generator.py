"""The offline default back-end: plan many candidate arrangements, render short previews, embed them with the
active encoder, keep the one nearest the seeds (away from negative phrases), then render it at full length
one instrument at a time — true stems, their exact sum as the mix, the exact MIDI and its tempo map."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

from worker.encoders.base import Encoder, EncoderError
from worker.generate import mixdown, steer
from worker.generate.base import GeneratedCue, GenerateRequest, Generator, Phrase
from worker.generate.symbolic.arrange import Arrangement, arrange
from worker.generate.symbolic.directives import constraints_from
from worker.generate.symbolic.midi import beat_times, previews_to_midi, solo_track, stem_names, to_midi
from worker.generate.symbolic.plan import CuePlan, fit_length, sample_plan
from worker.generate.symbolic.render import PARALLEL, SAMPLE_RATE, SOUNDFONT, render_many
from worker.jobs import Job

NAME = "symbolic"
LICENCE = ("cuesteer symbolic arranger: the output is yours to use without restriction; rendered with the "
           "FluidR3_GM soundfont (MIT licence)")
DEFAULT_CANDIDATES = 24
PREVIEW_SECONDS = 8.0  # most of one 10-s encoder window
MIN_PREVIEW_BARS = 2
PREVIEW_GAP_SECONDS = 1.5  # silence between previews in a shared render: releases die away
MIN_PREVIEW_RATE = 16_000  # previews render at the encoder's rate (cost grows with the rate), never below this
TAIL_SECONDS = 3.0  # rendered after the last bar: releases (folded onto the start for loops)
MICROSECONDS = 1e6
PREVIEW_CACHE_SIZE = 4096  # preview embeddings remembered per encoder (a few MB)


@dataclass(frozen=True)
class Composition:
    arrangement: Arrangement
    candidates: int
    chosen: int
    scores: np.ndarray | None  # per candidate, None when nothing steered the choice
    seed_similarity: np.ndarray | None = None  # per candidate: the seed term of `scores` alone (benchmarks)


@dataclass
class SymbolicGenerator(Generator):
    encoder: Encoder | None = None
    candidates: int = DEFAULT_CANDIDATES
    preview_seconds: float = PREVIEW_SECONDS
    sample_rate: int = SAMPLE_RATE
    soundfont: Path = SOUNDFONT
    name: str = NAME
    licence: str = LICENCE
    _preview_cache: dict[tuple[str, str, float, str], dict[CuePlan, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False)

    def generate(self, request: GenerateRequest, *, job: Job | None = None) -> GeneratedCue:
        job = job or Job()
        composition = self.compose(request, job=job)
        arrangement = composition.arrangement
        plan = arrangement.plan
        job.progress("render", 0.5, f"rendering {len(arrangement.parts)} stems of a {plan.style} cue in {plan.key}")
        cue = self.render_cue(arrangement, request)
        job.progress("render", 1.0, "done")
        scores = composition.scores
        cue.metadata.update(candidates=composition.candidates, chosen=composition.chosen, plan=plan.describe(),
                            candidate_scores=None if scores is None else [round(float(s), 6) for s in scores])
        return cue

    def compose(self, request: GenerateRequest, *, job: Job | None = None) -> Composition:
        """The chosen arrangement (notes only, nothing rendered at full length): plan candidates, and when
        there is something to steer by, render and embed their previews and keep the best-scoring one."""
        job = job or Job()
        job.progress("plan", 0.0, "planning candidate arrangements")
        plans = candidate_plans(request, self.candidates)
        phrase_vectors = self.phrase_vectors(request.phrases)
        scores: np.ndarray | None = None
        similarity: np.ndarray | None = None
        chosen = 0
        if self.encoder is not None and (request.seeds is not None or phrase_vectors):
            job.checkpoint()
            embeddings = self.embed_previews(plans, job)
            scores = steer.candidate_scores(embeddings, request.seeds, phrase_vectors)
            chosen = steer.best(scores)
            if request.seeds is not None:
                similarity = steer.candidate_scores(embeddings, request.seeds)
        job.checkpoint()
        plan, bars = fit_length(plans[chosen], seconds=request.seconds, bars=request.bars)
        return Composition(arrangement=arrange(plan, bars, loop=request.loop), candidates=len(plans),
                           chosen=chosen, scores=scores, seed_similarity=similarity)

    def phrase_vectors(self, phrases: Sequence[Phrase]) -> list[tuple[np.ndarray, float]]:
        """(vector, signed weight) for every phrase that has or can get an embedding in the encoder's space."""
        given = [(p.vector, p.weight) for p in phrases if p.vector is not None]
        missing = [p for p in phrases if p.vector is None]
        if not missing or self.encoder is None or not self.encoder.has_text:
            return given
        try:
            vectors = self.encoder.embed_text([p.text for p in missing])
        except EncoderError:
            return given
        return given + [(v, p.weight) for v, p in zip(vectors, missing, strict=True)]

    def embed_previews(self, plans: Sequence[CuePlan], job: Job) -> np.ndarray:
        """One embedding per candidate, from a short render of its section A. Embeddings are remembered per
        plan, so steering the same query again (other phrases, other seeds) renders nothing new."""
        assert self.encoder is not None
        key = (self.encoder.id, self.encoder.version, self.preview_seconds, str(self.soundfont))
        cache = self._preview_cache.setdefault(key, {})
        missing = list(dict.fromkeys(p for p in plans if p not in cache))
        if missing:
            job.progress("preview", 0.1, f"rendering {len(missing)} candidate previews")
            for plan, vector in zip(missing, self._embed_new_previews(missing, job), strict=True):
                cache[plan] = vector
            while len(cache) > PREVIEW_CACHE_SIZE:
                cache.pop(next(iter(cache)))
        return np.stack([cache[p] for p in plans])

    def _embed_new_previews(self, plans: Sequence[CuePlan], job: Job) -> np.ndarray:
        """The previews are laid end to end in PARALLEL files, so the renderer starts only a couple of times."""
        assert self.encoder is not None
        rate = min(max(self.encoder.sample_rate, MIN_PREVIEW_RATE), self.sample_rate)
        previews = [preview_arrangement(p, self.preview_seconds) for p in plans]
        groups = [previews[i::PARALLEL] for i in range(min(PARALLEL, len(previews)))]
        laid_out = [previews_to_midi(group, PREVIEW_GAP_SECONDS) for group in groups]
        audio = render_many([midi for midi, _ in laid_out], sample_rate=rate, soundfont=self.soundfont)
        job.checkpoint()
        job.progress("preview", 0.3, "embedding previews")
        waves: list[np.ndarray] = [np.zeros(0, np.float32)] * len(previews)
        for g, (group, (_, starts), rendered) in enumerate(zip(groups, laid_out, audio, strict=True)):
            for k, (arrangement, start) in enumerate(zip(group, starts, strict=True)):
                first = int(round(start * rate))
                wave = rendered[first : first + int(round(arrangement.seconds * rate))].mean(axis=1)
                waves[g + k * len(groups)] = to_rate(wave, rate, self.encoder.sample_rate)
        return self.encoder.embed_audio(waves)

    def render_cue(self, arrangement: Arrangement, request: GenerateRequest) -> GeneratedCue:
        plan = arrangement.plan
        midi = to_midi(arrangement, tail_seconds=TAIL_SECONDS)
        names = stem_names(midi)
        raw = render_many([solo_track(midi, i) for i in range(1, len(midi.tracks))], sample_rate=self.sample_rate,
                          soundfont=self.soundfont)
        beats = beat_times(midi, arrangement.beats + 1)  # one more: where the last bar ends
        seconds = request.seconds if request.seconds is not None else float(beats[-1])
        length = int(round(seconds * self.sample_rate))
        stems, mix = mixdown.finish(dict(zip(names, raw, strict=True)), length, self.sample_rate,
                                    loop=request.loop)
        tempo = next(m.tempo for m in midi.tracks[0] if m.type == "set_tempo")
        return GeneratedCue(
            mix=mix, sample_rate=self.sample_rate, stems=stems, beat_times=beats[:-1],
            beats_per_bar=plan.beats_per_bar, tempo_bpm=60.0 * MICROSECONDS / tempo, key=plan.key,
            licence=self.licence, midi=midi,
            metadata={"backend": self.name, "seed": request.seed, "loop": request.loop, "bars": arrangement.bars,
                      "phrases": [(p.text, p.weight) for p in request.phrases],
                      "encoder": None if self.encoder is None else f"{self.encoder.id}@{self.encoder.version}",
                      "soundfont": Path(self.soundfont).name})


def candidate_plans(request: GenerateRequest, count: int) -> list[CuePlan]:
    """`count` plans drawn in sequence from the request's seed (candidate k does not depend on `count`)."""
    constraints = constraints_from(request.phrases)
    rng = np.random.default_rng(request.seed)
    return [sample_plan(constraints, rng) for _ in range(max(1, count))]


def preview_arrangement(plan: CuePlan, seconds: float) -> Arrangement:
    bars = max(MIN_PREVIEW_BARS, math.ceil(seconds / plan.seconds_per_bar))
    return arrange(plan, bars, preview=True)


def to_rate(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return wave.astype(np.float32)
    return soxr.resample(wave.astype(np.float32), rate, target).astype(np.float32)
