"""Novelty guard (MusicLDM §4.2.2): is a generated cue an accidental copy of something the user already has?

The cue is embedded with the library's encoder — every 10-s window (hop 5 s, as the library) plus the whole cue
— and compared by cosine similarity with every library window and track vector (and, optionally, with a set of
training-render vectors, for the offline model). The cue's similarity is the maximum over all those pairs: its
nearest neighbour, as MusicLDM takes "the similarity of the nearest neighbour in the training set". A cue whose
nearest neighbour lies above `WARN_SIMILARITY` is flagged ("too close to <track>, 0.93").

SIM_AA@τ over many cues is the fraction whose nearest-neighbour similarity is above τ (MusicLDM reports τ = 0.90
and 0.95): lower means fewer near-copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worker.encoders.base import Encoder, unit
from worker.library.catalogue import KIND_TRACK, Library
from worker.library.windows import windows
from worker.settings import HOP_SECONDS, WINDOW_SECONDS

WARN_SIMILARITY = 0.90  # MusicLDM's lower SIM_AA threshold (CLAP space): above it a cue counts as too close
# Spaces where 0.90 is not "a copy": bench/novelty.py found 15 % of held-out *different* real recordings above
# 0.90 in the learning-free `descriptor` space, none above 0.95, and every copied excerpt above 0.95.
WARN_BY_ENCODER = {"descriptor": 0.95}
SIM_AA_THRESHOLDS = (0.90, 0.95)
NEAREST = 3  # neighbours (distinct tracks) kept with the cue
SEARCH_DEPTH = 32  # windows fetched per query vector before merging per track
TRAINING_VECTORS_STEM = "render-vectors"  # <cache>/offline-train/render-vectors-<version>.npz


@dataclass(frozen=True)
class Neighbour:
    """One track (or training render) near the cue: its best similarity and where in it that was."""

    label: str  # the track's path, or a training render's name
    similarity: float
    at_s: float | None = None  # start of the matching library window (None: the whole track matched)
    cue_at_s: float | None = None  # start of the cue's matching window (None: the whole cue)
    source: str = "library"  # "library" or "training"

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "similarity": round(self.similarity, 6), "at_s": self.at_s,
                "cue_at_s": self.cue_at_s, "source": self.source}


@dataclass(frozen=True)
class NoveltyReport:
    encoder: str
    nearest: list[Neighbour] = field(default_factory=list)  # best first, one per track
    threshold: float = WARN_SIMILARITY

    @property
    def similarity(self) -> float:
        """The nearest neighbour's similarity (−1 when there was nothing to compare with)."""
        return self.nearest[0].similarity if self.nearest else -1.0

    @property
    def too_close(self) -> bool:
        return self.similarity > self.threshold

    def warning(self) -> str | None:
        if not self.too_close:
            return None
        top = self.nearest[0]
        where = f" at {top.at_s:.1f} s" if top.at_s is not None else ""
        return f"too close to {top.label}{where}, {top.similarity:.2f}"

    def to_dict(self) -> dict[str, object]:
        return {"encoder": self.encoder, "similarity": round(self.similarity, 6), "threshold": self.threshold,
                "too_close": self.too_close, "warning": self.warning(),
                "nearest": [n.to_dict() for n in self.nearest]}


# -- the math ---------------------------------------------------------------------------------------------------
def sim_aa(nearest_similarities: Sequence[float] | np.ndarray, threshold: float) -> float:
    """SIM_AA@τ: the fraction of generated outputs whose nearest-neighbour similarity is above τ."""
    values = np.asarray(nearest_similarities, np.float64)
    if values.size == 0:
        raise ValueError("SIM_AA needs at least one generated output")
    return float(np.mean(values > threshold))


def nearest_per_label(similarities: Sequence[float] | np.ndarray, labels: Sequence[str],
                      starts: Sequence[float | None], query_starts: Sequence[float | None], k: int
                      ) -> list[Neighbour]:
    """The best candidate pair per distinct label, best first, at most `k`.

    Candidate pair i matched a cue vector starting at `query_starts[i]` with a reference vector of `labels[i]`
    starting at `starts[i]`, with cosine similarity `similarities[i]`."""
    values = np.asarray(similarities, np.float64)
    out: dict[str, Neighbour] = {}
    for i in np.argsort(-values, kind="stable"):
        if labels[i] not in out:
            out[labels[i]] = Neighbour(labels[i], float(values[i]), starts[i], query_starts[i])
            if len(out) == k:
                break
    return list(out.values())


# -- embedding a cue --------------------------------------------------------------------------------------------
def cue_vectors(wave: np.ndarray, sample_rate: int, encoder: Encoder) -> tuple[np.ndarray, list[float | None]]:
    """The cue's window vectors and its whole-cue vector (the windows' normalised mean, as a library track's),
    as (n+1, d) rows with each row's start in the cue (None for the whole cue)."""
    mono = np.asarray(wave, np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    if sample_rate != encoder.sample_rate:
        import soxr

        mono = soxr.resample(mono, sample_rate, encoder.sample_rate).astype(np.float32)
    cut = list(windows([mono], encoder.sample_rate, WINDOW_SECONDS, HOP_SECONDS))
    if not cut:
        raise ValueError("the cue has no audio to compare")
    vectors = unit(encoder.embed_audio([w.samples for w in cut]))
    whole = unit(vectors.mean(axis=0))
    return np.vstack([vectors, whole[None, :]]), [w.start_s for w in cut] + [None]


# -- references -------------------------------------------------------------------------------------------------
def library_neighbours(library: Library, queries: np.ndarray, query_starts: Sequence[float | None], *,
                       k: int = NEAREST, index=None) -> list[Neighbour]:
    """Nearest library tracks of the cue's vectors, through the library's FAISS index (built if stale)."""
    from worker.library.vector_index import search
    from worker.retrieval.searcher import Searcher

    index = index if index is not None else Searcher(library).index()
    if index.ntotal == 0:
        return []
    scores, ids = search(index, queries, min(SEARCH_DEPTH, int(index.ntotal)))
    info = library.segments_info(sorted({int(i) for i in ids.ravel() if i >= 0}))
    rows = library.track_rows(sorted({t for t, *_ in info.values()}))
    flat_scores, labels, starts, q_starts = [], [], [], []
    for q, (row_scores, row_ids) in enumerate(zip(scores, ids, strict=True)):
        for score, seg in zip(row_scores, row_ids, strict=True):
            if seg < 0 or int(seg) not in info:
                continue
            track, kind, start, _end = info[int(seg)]
            if track not in rows:
                continue
            flat_scores.append(float(score))
            labels.append(rows[track]["path"])
            starts.append(None if kind == KIND_TRACK else float(start))
            q_starts.append(query_starts[q])
    return nearest_per_label(flat_scores, labels, starts, q_starts, k)


@dataclass(frozen=True)
class VectorReference:
    """Vectors that are not in the library (e.g. the offline model's training renders), one label each."""

    vectors: np.ndarray  # (n, d) unit rows
    labels: list[str]
    source: str = "training"

    def neighbours(self, queries: np.ndarray, query_starts: Sequence[float | None], k: int = NEAREST
                   ) -> list[Neighbour]:
        if len(self.labels) == 0:
            return []
        scores = np.asarray(queries, np.float32) @ np.asarray(self.vectors, np.float32).T  # (m, n)
        m, n = scores.shape
        found = nearest_per_label(scores.ravel(), self.labels * m, [None] * (m * n),
                                  [s for s in query_starts for _ in range(n)], k)
        return [Neighbour(x.label, x.similarity, None, x.cue_at_s, self.source) for x in found]


def load_vector_reference(path: str | Path) -> VectorReference | None:
    """An `.npz` with `vectors` (n, d) and `labels` (n,) — e.g. embeddings of the training renders — or None."""
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return VectorReference(unit(data["vectors"]), [str(x) for x in data["labels"]])


def check_novelty(wave: np.ndarray, sample_rate: int, encoder: Encoder, *, library: Library | None = None,
                  extra: Sequence[VectorReference] = (), k: int = NEAREST, threshold: float = WARN_SIMILARITY,
                  index=None) -> NoveltyReport:
    """The cue's nearest neighbours in the library (and in `extra` references), best first."""
    queries, starts = cue_vectors(wave, sample_rate, encoder)
    found: list[Neighbour] = []
    if library is not None:
        found.extend(library_neighbours(library, queries, starts, k=k, index=index))
    for reference in extra:
        if reference.vectors.shape[1:] == (queries.shape[1],):
            found.extend(reference.neighbours(queries, starts, k))
    found.sort(key=lambda n: -n.similarity)
    return NoveltyReport(encoder=encoder.id, nearest=found[:k], threshold=threshold)


def training_reference_path(encoder: Encoder) -> Path | None:
    """Where the embeddings of an encoder's training renders are kept, when it has any (the offline model)."""
    if encoder.id != "offline":
        return None
    from worker.settings import cache_dir

    return cache_dir() / "offline-train" / f"{TRAINING_VECTORS_STEM}-{encoder.version}.npz"


def warn_threshold(encoder: Encoder) -> float:
    return WARN_BY_ENCODER.get(encoder.id, WARN_SIMILARITY)


def guard_cue(wave: np.ndarray, sample_rate: int, encoder: Encoder | None, library: Library | None,
              threshold: float | None = None) -> dict[str, object] | None:
    """The novelty report of a finished cue as stored with it (None when there is no encoder to compare with);
    the warning threshold is the encoder's own (`WARN_BY_ENCODER`) unless given."""
    if encoder is None:
        return None
    threshold = warn_threshold(encoder) if threshold is None else threshold
    reference = training_reference_path(encoder)
    extra = [r for r in [load_vector_reference(reference)] if r is not None] if reference else []
    report = check_novelty(wave, sample_rate, encoder, library=library, extra=extra, threshold=threshold)
    return report.to_dict()
