"""The beat network's training mix: each shard group keeps its sources' shares, so cached shards stay valid and
earlier models' data is reproduced; OpenMSX songs are drawn only where their group asks for them."""

from __future__ import annotations

import numpy as np
import pytest

from worker.analysis.beat_train.data import SHARES, draw_excerpts, shares
from worker.analysis.beat_train.excerpts import MIN_BEATS, piece_of


def steady_piece(bpm: float = 120.0, seconds: float = 70.0):
    """A loaded 'real' MIDI piece: kick on every beat, a piano chord on every bar."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    drums, piano = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(0)
    beat = 60.0 / bpm
    for k in range(int(seconds / beat)):
        drums.notes.append(pretty_midi.Note(100, 36, k * beat, k * beat + 0.1))
        if k % 4 == 0:
            piano.notes.append(pretty_midi.Note(80, 60, k * beat, (k + 4) * beat))
    pm.instruments += [drums, piano]
    return piece_of(pm)


def test_each_shard_group_keeps_its_shares():
    assert shares(0) == shares(39) == (0.6, 0.0, 0.0)
    assert shares(40) == shares(79) == (0.4, 0.4, 0.0)
    assert shares(80) == SHARES[-1][1] and shares(80)[2] > 0 and sum(shares(80)) < 1


def test_openmsx_share_draws_from_its_own_pool_with_exact_beats():
    rng = np.random.default_rng(3)
    clips = draw_excerpts(6, [], rng, seed_base=1, mix=(0.0, 0.0, 1.0), openmsx=[("steady", steady_piece())])
    assert [c.source for c in clips] == ["openmsx-steady"] * 6
    for clip in clips:
        beats = np.asarray(clip.extra["beats"])
        kicks = np.array(sorted(n[0] for p in clip.parts if p.is_drum for n in p.notes))
        assert len(beats) >= MIN_BEATS and np.abs(kicks[:, None] - beats[None]).min(axis=1).max() < 1e-6


def test_openmsx_share_without_the_songs_says_what_to_install():
    with pytest.raises(RuntimeError, match="openttd-openmsx"):
        draw_excerpts(2, [], np.random.default_rng(0), seed_base=1, mix=(0.0, 0.0, 1.0), openmsx=[])
