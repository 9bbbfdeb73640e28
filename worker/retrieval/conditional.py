"""The library's conditional prior and regression baseline: trained on (condition, music) pairs, stored next to
the unconditional prior, tied to both the library's encoder and the encoder that embeds conditions.

Pairs come from (a) pseudo-pairs, descriptor phrases matched to every window (`phrasebook`), and (b) real
frame/soundtrack pairs cut from a folder of videos (`video_pairs`). Conditions live in the condition encoder's
space: CLIP when its weights are present (image and text towers), otherwise the library encoder's own
text space (the offline model, whose image bridge maps pictures there). Picture queries condition the prior
through CFG; `--mode regression` maps the query to one embedding with the regression checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from worker.encoders.base import Encoder, EncoderError
from worker.encoders.registry import get_encoder
from worker.jobs import Job
from worker.library.catalogue import KIND_WINDOW, Library
from worker.library.decode import DecodeError
from worker.prior.checkpoint import PriorCheckpoint, build_model, load_checkpoint, save_checkpoint, stale_reason
from worker.prior.seeds import regress
from worker.prior.training import train_prior, train_regression
from worker.retrieval import phrasebook, priors, video_pairs

CONDITIONAL = "conditional"
REGRESSION = "regression"
LIBRARY_SPACE = "library"  # condition encoder = the library's own encoder
TRAIN_STEPS = 1000
REGRESSION_STEPS = 600  # on demand (first `--mode regression` search): pseudo-pairs only
# CFG strength of a picture query. bench/prior_vs_regression.py sweep (R@10 / FMD / MISCS): ω=0 0.229/0.249/0.31,
# ω=1 0.193/0.164/0.56, ω=3 0.198/0.116/0.71, ω=9 0.198/0.093/0.83: guidance buys fidelity with diversity and a
# little recall; 1 is the middle (the paper's best retrieval was near 9 with a far larger net). --guidance scales it.
DEFAULT_OMEGA = 1.0
# A text query also steers its own conditional samples. bench/prior_vs_regression.py --part b (caption → held-out
# renders, 4×128, 256 queries; R@10 / MISCS): CFG alone 0.151 / 0.49 (ω=1), ω=3 + text k=0.1 0.216 / 0.68,
# k=0.3 0.265 / 0.83, query-kNN 0.312 / 1: 0.1 buys most of the recall the text adds and keeps the diversity.
TEXT_QUERY_STEER = 0.1
VIDEO_BATCH = 16  # frame/window pairs embedded per encoder call
MIN_PAIRS = 8


@dataclass
class PairSet:
    vectors: np.ndarray  # (n, d) library-space targets
    conditions: np.ndarray  # (n, c) condition-space inputs
    pseudo: int = 0
    video: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # videos that gave no pairs: {path, reason}


def condition_encoder(library_encoder: Encoder, name: str | None = None) -> Encoder:
    """CLIP when its weights are present (or asked for), else the library encoder's own text space."""
    if name is None:
        from worker.encoders.clip import clip_available

        name = "clip" if clip_available() else LIBRARY_SPACE
    if name in (LIBRARY_SPACE, library_encoder.id):
        if not library_encoder.has_text:
            raise EncoderError(f"the `{library_encoder.id}` encoder has no text tower, so no conditions can be "
                               "made in its space: pull CLIP (`cuesteer models pull clip`) or index with "
                               "`--encoder offline`")
        return library_encoder
    return get_encoder(name)


def _stamp(encoder: Encoder, library_encoder: Encoder) -> str:
    return LIBRARY_SPACE if encoder is library_encoder else encoder.id


def pseudo_pairs(vectors: np.ndarray, library_encoder: Encoder, cond_encoder: Encoder, *, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Descriptor phrases matched to each vector in the library space, expressed in the condition space."""
    if not library_encoder.has_text:
        raise EncoderError(f"pseudo-pairs match phrases to music in the library's space, and `{library_encoder.id}`"
                           " has no text tower: index with `--encoder offline` (or clap)")
    phrases = list(phrasebook.PHRASES)
    in_library = library_encoder.embed_text(phrases)
    rows, chosen = phrasebook.match_phrases(vectors, in_library, seed=seed)
    in_condition = in_library if cond_encoder is library_encoder else cond_encoder.embed_text(phrases)
    return np.asarray(vectors, np.float32)[rows], phrasebook.pair_conditions(chosen, in_condition)


def video_pair_vectors(folder: str, library_encoder: Encoder, cond_encoder: Encoder, job: Job
                       ) -> tuple[np.ndarray, np.ndarray, list[dict[str, str]]]:
    """(audio vectors, image conditions, skipped files) of every video under `folder`."""
    files = video_pairs.video_files(folder)
    audio, images, skipped = [], [], []
    for i, path in enumerate(files):
        job.checkpoint()
        job.progress("video pairs", i / max(1, len(files)), f"{path.name}")
        try:
            pairs = list(video_pairs.cut_pairs(path, library_encoder.sample_rate))
        except (DecodeError, OSError, ValueError) as exc:
            skipped.append({"path": str(path), "reason": str(exc)})
            continue
        if not pairs:
            skipped.append({"path": str(path), "reason": f"shorter than {video_pairs.WINDOW_S:g} s"})
            continue
        for start in range(0, len(pairs), VIDEO_BATCH):
            batch = pairs[start:start + VIDEO_BATCH]
            audio.append(library_encoder.embed_audio([p.wave for p in batch]))
            images.append(cond_encoder.embed_image([p.frame for p in batch]))
    if not audio:
        return (np.zeros((0, library_encoder.dim), np.float32), np.zeros((0, cond_encoder.dim), np.float32),
                skipped)
    return np.concatenate(audio), np.concatenate(images), skipped


def build_pairs(library: Library, library_encoder: Encoder, cond_encoder: Encoder, *, videos: str | None = None,
                pseudo: bool = True, seed: int = 0, job: Job | None = None) -> PairSet:
    job = job or Job()
    parts_z, parts_q, counts = [], [], {"pseudo": 0, "video": 0}
    skipped: list[dict[str, str]] = []
    if pseudo:
        _, vectors = library.vectors(kind=KIND_WINDOW)
        if len(vectors):
            z, q = pseudo_pairs(vectors, library_encoder, cond_encoder, seed=seed)
            parts_z.append(z)
            parts_q.append(q)
            counts["pseudo"] = len(z)
    if videos:
        z, q, skipped = video_pair_vectors(videos, library_encoder, cond_encoder, job)
        if len(z):
            parts_z.append(z)
            parts_q.append(q)
            counts["video"] = len(z)
    total = sum(counts.values())
    if total < MIN_PAIRS:
        raise ValueError(f"only {total} training pairs ({counts['pseudo']} pseudo, {counts['video']} from videos): "
                         "index more music or give a folder with longer videos")
    return PairSet(np.concatenate(parts_z), np.concatenate(parts_q), counts["pseudo"], counts["video"], skipped)


def _tag(checkpoint: PriorCheckpoint, pairs: PairSet, library: Library, cond_encoder: Encoder,
         library_encoder: Encoder, videos: str | None) -> PriorCheckpoint:
    checkpoint.info.update({
        "condition_encoder": _stamp(cond_encoder, library_encoder), "condition_version": cond_encoder.version,
        "vectors": int(library.counts().get("vectors", 0)), "pseudo_pairs": pairs.pseudo,
        "video_pairs": pairs.video, "videos": videos or ""})
    return checkpoint


def train_conditional(library: Library, *, job: Job | None = None, videos: str | None = None,
                      condition_encoder_name: str | None = None, steps: int | None = None,
                      regression_steps: int | None = None, seed: int = 0, width: int | None = None,
                      depth: int | None = None, library_encoder: Encoder | None = None,
                      conditional: bool = True) -> tuple[dict[str, PriorCheckpoint], PairSet]:
    """Train the conditional prior (unless `conditional` is False) and the regression baseline on the same
    pairs; store both atomically beside the library's unconditional prior."""
    job = job or Job()
    enc = library.encoder
    if enc is None:
        raise ValueError("the library is empty: index music first")
    library_encoder = library_encoder or get_encoder(enc[0])
    cond_encoder = condition_encoder(library_encoder, condition_encoder_name)
    if videos and not cond_encoder.has_image:
        raise EncoderError(f"video frames need a condition encoder that embeds pictures, and `{cond_encoder.id}` "
                           "does not: pull CLIP (`cuesteer models pull clip`) or use the offline encoder")
    pairs = build_pairs(library, library_encoder, cond_encoder, videos=videos, seed=seed, job=job)
    width, depth = width or priors.TRAIN_WIDTH, depth or priors.TRAIN_DEPTH
    batch = min(priors.TRAIN_BATCH, len(pairs.vectors))
    out: dict[str, PriorCheckpoint] = {}
    if conditional:
        out[CONDITIONAL] = train_prior(pairs.vectors, pairs.conditions, steps=steps or TRAIN_STEPS, batch=batch,
                                       seed=seed, job=job, width=width, depth=depth, encoder_id=enc[0],
                                       encoder_version=enc[1])
    out[REGRESSION] = train_regression(pairs.vectors, pairs.conditions, steps=regression_steps or REGRESSION_STEPS,
                                       batch=batch, seed=seed, job=job, width=width, depth=depth,
                                       encoder_id=enc[0], encoder_version=enc[1])
    for kind, checkpoint in out.items():
        save_checkpoint(_tag(checkpoint, pairs, library, cond_encoder, library_encoder, videos),
                        priors.prior_path(library, kind))
    return out, pairs


def load(library: Library, kind: str) -> tuple[PriorCheckpoint | None, str | None]:
    """(checkpoint, None) when the stored `kind` fits the library and its condition encoder, else (None, why)."""
    path = priors.prior_path(library, kind)
    if not path.exists():
        return None, f"no {kind} model trained for this library yet: run `cuesteer prior train --conditional`"
    checkpoint = load_checkpoint(path)
    enc = library.encoder
    reason = stale_reason(checkpoint, enc[0], enc[1]) if enc else "the library is empty"
    if reason is None:
        reason = priors.growth_reason(library, checkpoint)
    if reason is None:
        reason = _condition_reason(checkpoint)
    return (checkpoint if reason is None else None), reason


def _condition_reason(checkpoint: PriorCheckpoint) -> str | None:
    name = str(checkpoint.info.get("condition_encoder", LIBRARY_SPACE))
    if name == LIBRARY_SPACE:
        return None
    try:
        version = get_encoder(name).version
    except EncoderError as exc:
        return f"its condition encoder `{name}` is not available ({exc})"
    if version != checkpoint.info.get("condition_version"):
        return (f"it was trained on `{name}` {checkpoint.info.get('condition_version')} conditions, this build "
                f"has {version}: run `cuesteer prior train --conditional`")
    return None


def encoder_of(checkpoint: PriorCheckpoint, library_encoder: Encoder) -> Encoder:
    name = str(checkpoint.info.get("condition_encoder", LIBRARY_SPACE))
    return library_encoder if name == LIBRARY_SPACE else get_encoder(name)


def condition_vector(encoder: Encoder, *, texts: Sequence[str] = (), images: Sequence[object] = (),
                     phrases: Sequence[tuple[str, float]] = (), extra: Sequence[np.ndarray] = ()
                     ) -> np.ndarray | None:
    """One unit query in the condition space: texts and the mean of the images' unit embeddings (several
    frames are one query) averaged, plus Σ weight·phrase; `extra` adds vectors already in that space."""
    parts = [np.asarray(v, np.float32) for v in extra]
    if texts:
        parts.extend(encoder.embed_text(list(texts)))
    if images:
        parts.append(phrasebook.unit_rows(encoder.embed_image(list(images))).mean(axis=0))
    total = np.mean(parts, axis=0) if parts else None
    if phrases:
        steer = np.asarray([w for _, w in phrases], np.float32) @ encoder.embed_text([t for t, _ in phrases])
        total = steer if total is None else total + steer
    if total is None or float(np.linalg.norm(total)) < 1e-9:
        return None
    return phrasebook.unit_rows(total)


def image_prior(library: Library, library_encoder: Encoder, images: Sequence[str] | None
                ) -> tuple[PriorCheckpoint, Encoder] | None:
    """The conditional prior and its condition encoder when a picture query should go through it; None when the
    library encoder embeds pictures itself and no conditional prior fits (the unconditional path serves)."""
    if not images:
        return None
    checkpoint, reason = load(library, CONDITIONAL)
    if checkpoint is not None:
        return checkpoint, encoder_of(checkpoint, library_encoder)
    if library_encoder.has_image:
        return None
    raise ValueError(f"picture queries on a `{library_encoder.id}` library go through the conditional prior, "
                     f"and {reason[0].lower() + reason[1:]}")


def text_prior(library: Library, library_encoder: Encoder) -> tuple[PriorCheckpoint, Encoder] | None:
    """The conditional prior and its condition encoder when a text query can condition it (one fits the library
    and its condition encoder embeds text); None: the unconditional prior, steered by the text, serves."""
    checkpoint, _ = load(library, CONDITIONAL)
    if checkpoint is None:
        return None
    cond_encoder = encoder_of(checkpoint, library_encoder)
    return (checkpoint, cond_encoder) if cond_encoder.has_text else None


def text_seeds(model: tuple[PriorCheckpoint, Encoder], text: str, query: np.ndarray | None, *, n: int, seed: int,
               directions: np.ndarray | None, strengths: list[float], guidance: float | None, job: Job
               ) -> tuple[np.ndarray, list[int], float]:
    """Seeds from the conditional prior, CFG on the text's embedding in the condition space (the paper's text
    condition; pseudo-pairs trained it on descriptor phrases), steered by the phrases and by the text's own
    library-space embedding `query` (TEXT_QUERY_STEER says why)."""
    checkpoint, cond_encoder = model
    condition = condition_vector(cond_encoder, texts=[text])
    omega = DEFAULT_OMEGA * (1.0 if guidance is None else float(guidance))
    if query is not None:
        directions = np.asarray(query, np.float32)[None] if directions is None else np.vstack([directions, query])
        strengths = [*strengths, TEXT_QUERY_STEER * (1.0 if guidance is None else float(guidance))]
    job.progress("seeds", 0.5, f"sampling {n} seed embeddings conditioned on the text, ω={omega:g}")
    vectors, ids = priors.sample_seeds(checkpoint, n=n, seed=seed, directions=directions,
                                       strengths=strengths or None, omega=omega, condition=condition, job=job)
    return vectors, ids, omega


def image_seeds(model: tuple[PriorCheckpoint, Encoder], images: Sequence[str], *, n: int, seed: int,
                directions: np.ndarray | None, strengths: list[float], guidance: float | None, job: Job
                ) -> tuple[np.ndarray, list[int], float]:
    """Seeds from the conditional prior, CFG on the pictures' mean unit embedding, steered by the phrases."""
    checkpoint, cond_encoder = model
    condition = condition_vector(cond_encoder, images=images)
    omega = DEFAULT_OMEGA * (1.0 if guidance is None else float(guidance))
    job.progress("seeds", 0.5, f"sampling {n} seed embeddings conditioned on {len(images)} picture(s), ω={omega:g}")
    vectors, ids = priors.sample_seeds(checkpoint, n=n, seed=seed, directions=directions,
                                       strengths=strengths or None, omega=omega, condition=condition, job=job)
    return vectors, ids, omega


def regression_seed(library: Library, library_encoder: Encoder, *, job: Job, text: str | None,
                    images: Sequence[str] | None, phrases: Sequence[tuple[str, float]],
                    library_query: np.ndarray | None) -> np.ndarray:
    """The regression baseline's one unit embedding (1, d) for the query; trains the regressor on pseudo-pairs
    first when none fits. `library_query` (text/--like in the library space) is used when conditions live
    there; a CLIP-conditioned regressor embeds text and pictures with CLIP instead."""
    checkpoint, reason = load(library, REGRESSION)
    if checkpoint is None:
        job.progress("regression", 0.0, f"training the regression baseline on pseudo-pairs ({reason})")
        checkpoint = train_conditional(library, job=job, library_encoder=library_encoder,
                                       conditional=False)[0][REGRESSION]
    cond_encoder = encoder_of(checkpoint, library_encoder)
    if cond_encoder is library_encoder:
        extra = [] if library_query is None else [library_query]
        condition = condition_vector(cond_encoder, images=images or (), phrases=phrases, extra=extra)
    else:
        condition = condition_vector(cond_encoder, texts=[text] if text else [], images=images or (),
                                     phrases=phrases)
    if condition is None:
        raise ValueError(f"the regression baseline maps text or pictures (in `{cond_encoder.id}` space) to music; "
                         "give --text, --image or --steer")
    return regress(build_model(checkpoint), condition)
