"""Seeds → top-k windows per seed → merge per track → ranked results with in-points.

A plain query is one seed; the Diff4Steer prior supplies many. Per track the best window's score is kept
(that window's start is the in-point an editor wants); across seeds, tracks are ordered by reciprocal-rank
fusion so a track found by several directions rises, while one found strongly by a single direction survives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import faiss
import numpy as np

from worker.library.catalogue import KIND_TRACK, Library
from worker.library.vector_index import load_index, search

RRF_K = 60.0  # the usual reciprocal-rank-fusion constant
WINDOWS_PER_SEED = 64  # windows fetched per seed before merging per track


@dataclass
class Hit:
    track_id: int
    path: str
    score: float  # best cosine similarity over windows and seeds
    fused: float  # reciprocal-rank fusion across seeds
    in_point_s: float
    seeds: list[int] = field(default_factory=list)
    title: str | None = None
    artist: str | None = None
    duration_s: float | None = None
    also: list[str] = field(default_factory=list)  # the same bytes at other paths

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "score": round(self.score, 6), "fused": round(self.fused, 6),
                "in_point_s": round(self.in_point_s, 3), "seeds": self.seeds, "title": self.title,
                "artist": self.artist, "duration_s": self.duration_s, "also": self.also,
                "track_id": self.track_id}


class Searcher:
    """Holds the loaded FAISS index of one library; reloads when the catalogue's generation moves on."""

    def __init__(self, library: Library):
        self.library = library
        self._index: faiss.Index | None = None
        self._generation = -1

    def index(self) -> faiss.Index:
        generation = self.library.generation
        if self._index is None or self._generation != generation:
            loaded = load_index(self.library.folder)
            if loaded is None or loaded[1] != generation:
                from worker.library.indexer import rebuild_index

                rebuild_index(self.library)
                loaded = load_index(self.library.folder)
            assert loaded is not None
            self._index, self._generation = loaded
        return self._index

    def query(self, seeds: np.ndarray, k: int, *, exclude_tracks: set[int] | None = None,
              windows_per_seed: int = WINDOWS_PER_SEED) -> list[Hit]:
        """Top `k` tracks for unit-vector `seeds` (m, d)."""
        seeds = np.atleast_2d(np.asarray(seeds, np.float32))
        index = self.index()
        if index.ntotal == 0:
            return []
        if seeds.shape[1] != index.d:
            raise ValueError(f"query has {seeds.shape[1]} dimensions but the library's vectors have {index.d}")
        scores, ids = search(index, seeds, max(windows_per_seed, k * 4))
        info = self.library.segments_info(sorted({int(i) for i in ids.ravel() if i >= 0}))
        best: dict[int, float] = {}  # track -> best score over windows, whole-track vector and seeds
        best_window: dict[int, tuple[float, float]] = {}  # track -> (score, start) of its best window
        fused: dict[int, float] = {}
        found_by: dict[int, set[int]] = {}
        for s, (row_scores, row_ids) in enumerate(zip(scores, ids, strict=True)):
            rank = 0
            seen: set[int] = set()
            for score, seg in zip(row_scores, row_ids, strict=True):
                if seg < 0 or int(seg) not in info:
                    continue
                track, kind, start, _end = info[int(seg)]
                if exclude_tracks and track in exclude_tracks:
                    continue
                best[track] = max(best.get(track, -2.0), float(score))
                if kind != KIND_TRACK and score > best_window.get(track, (-2.0, 0.0))[0]:
                    best_window[track] = (float(score), float(start))
                if track in seen:
                    continue
                seen.add(track)
                fused[track] = fused.get(track, 0.0) + 1.0 / (RRF_K + rank)
                found_by.setdefault(track, set()).add(s)
                rank += 1
        order = sorted(fused, key=lambda t: (-fused[t], -best[t]))[:k]
        rows = self.library.track_rows(order)
        dups = self.library.duplicates_of(order)
        return [
            Hit(track_id=t, path=rows[t]["path"], score=best[t], fused=fused[t],
                in_point_s=best_window.get(t, (0.0, 0.0))[1],
                seeds=sorted(found_by[t]), title=rows[t]["title"], artist=rows[t]["artist"],
                duration_s=rows[t]["duration_s"], also=dups.get(t, []))
            for t in order if t in rows
        ]

    def track_vectors(self, track_ids: list[int]) -> np.ndarray:
        """Whole-track vectors of `track_ids` (for diversity reports)."""
        if not track_ids:
            return np.zeros((0, self.index().d), np.float32)
        marks = ",".join("?" * len(track_ids))
        with self.library.transaction() as tx:
            rows = dict(tx.execute(f"SELECT track_id, vector FROM segments WHERE kind = ? AND track_id IN ({marks})",
                                   (KIND_TRACK, *track_ids)).fetchall())
        return np.stack([np.frombuffer(rows[t], np.float32) for t in track_ids if t in rows])
