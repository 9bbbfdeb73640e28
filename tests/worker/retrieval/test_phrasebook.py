"""Pseudo-pairs: phrases are drawn from those nearest each track, and a condition is their unit mean."""

from __future__ import annotations

import numpy as np

from worker.retrieval.phrasebook import match_phrases, pair_conditions, unit_rows


def test_each_track_is_described_by_its_nearest_phrases_in_several_ways() -> None:
    rng = np.random.default_rng(0)
    phrases = unit_rows(rng.normal(size=(20, 32)))
    owner = rng.integers(0, 20, size=50)
    tracks = unit_rows(phrases[owner] + 0.1 * rng.normal(size=(50, 32)))
    rows, chosen = match_phrases(tracks, phrases, seed=1, per_item=3, candidates=4)
    assert rows.tolist() == np.repeat(np.arange(50), 3).tolist()
    assert all(1 <= len(c) <= 3 and len(set(c)) == len(c) for c in chosen)
    nearest = np.argsort(-(tracks @ phrases.T), axis=1)[:, :4]
    assert all(set(c) <= set(nearest[r]) for r, c in zip(rows, chosen, strict=True))
    assert np.mean([owner[r] in c for r, c in zip(rows, chosen, strict=True)]) > 0.9  # the closest dominates
    assert len({tuple(sorted(c)) for c in chosen}) > 50  # one-to-many: a track gets different descriptions


def test_a_condition_is_the_unit_mean_of_its_phrases() -> None:
    vectors = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    conditions = pair_conditions([[0], [0, 1], [0, 1, 2]], vectors)
    np.testing.assert_allclose(conditions, [[1, 0, 0], [2**-0.5, 2**-0.5, 0], [3**-0.5] * 3], atol=1e-6)
