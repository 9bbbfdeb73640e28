"""The beat network's training mix: each shard group keeps its sources' shares, so cached shards stay valid and
earlier models' data is reproduced; OpenMSX songs are drawn only where their group asks for them."""

from __future__ import annotations

import numpy as np
import pytest

from worker.analysis.beat_train.data import SHARES, draw_excerpts, offbeat_share, shares
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


def test_offbeat_accents_fall_half_way_between_beats_and_leave_the_beats_alone():
    rng = np.random.default_rng(5)
    clips = draw_excerpts(8, [("steady", steady_piece())], rng, seed_base=1, mix=(1.0, 0.0, 0.0), offbeat=1.0)
    for clip in clips:
        beats = np.asarray(clip.extra["beats"])
        layer = clip.parts[-1]
        assert clip.source.endswith("+offbeats") and layer.is_drum and min(n[3] for n in layer.notes) >= 95
        hits = np.array([n[0] for n in layer.notes])
        halfway = (beats[:-1] + beats[1:]) / 2
        assert np.abs(hits[:, None] - halfway[None]).min(axis=1).max() < 1e-9
        assert np.abs(hits[:, None] - beats[None]).min() > 0.1  # none on a beat
        kicks = np.array(sorted(n[0] for p in clip.parts[:-1] if p.is_drum for n in p.notes))
        assert np.abs(kicks[:, None] - beats[None]).min(axis=1).max() < 1e-6  # the truth still on the kicks


def test_earlier_shards_draw_no_offbeat_layers():
    assert offbeat_share(0) == offbeat_share(119) == 0.0 and offbeat_share(120) > 0
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    piece = [("steady", steady_piece())]
    plain = draw_excerpts(4, piece, rng_a, seed_base=1, mix=(1.0, 0.0, 0.0))
    again = draw_excerpts(4, piece, rng_b, seed_base=1, mix=(1.0, 0.0, 0.0), offbeat=offbeat_share(119))
    assert [c.extra["beats"] for c in plain] == [c.extra["beats"] for c in again]
    assert not any(c.source.endswith("+offbeats") for c in again)
