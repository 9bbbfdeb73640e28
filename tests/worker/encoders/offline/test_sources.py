"""Data recipe 2's sources: mma grooves and music21 scores give clips with exact facts, whole pieces stay on one
side of the split, and without the training extras the recipe falls back to our generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.encoders.offline.train import dataset, mma_source, music21_source
from worker.encoders.offline.train.attributes import clip_tokens, tempo_band

SECONDS = 4.0


def test_recipe_is_chosen_by_shard_index_so_cached_recipe1_shards_stay_valid():
    assert dataset.recipe("train", 0) == 1 and dataset.recipe("train", dataset.RECIPE2_FROM["train"]) == 2
    assert dataset.recipe("eval", dataset.RECIPE2_FROM["eval"] - 1) == 1


def test_recipe2_without_extra_sources_falls_back_to_the_solo_heavy_generator():
    index = dataset.RECIPE2_FROM["train"]
    clips = dataset.make_clips("train", index, seed=3, pieces=dataset.Sources(), n_clips=16, seconds=SECONDS)
    again = dataset.make_clips("train", index, seed=3, pieces=dataset.Sources(), n_clips=16, seconds=SECONDS)
    assert all(c.source.startswith("gen-") for c in clips)
    assert [c.source for c in clips] == [c.source for c in again]  # seeded
    solos = sum("solo" in clip_tokens(c) for c in clips)
    assert solos >= 4  # SOLO_HEAVY: half the arrangements are solos


def test_mma_grooves_split_by_library_file_and_play_exact_tempo_and_mode():
    if not mma_source.available():  # the fallback: no grooves, so recipe 2 uses the generator (tested above)
        assert mma_source.grooves() == () and mma_source.split_grooves("train") == []
        return
    train, held = mma_source.split_grooves("train"), mma_source.split_grooves("eval")
    assert train and held and not {f for f, _ in train} & {f for f, _ in held}
    assert mma_source.style_of("rockwaltz") == "waltz" and mma_source.style_of("bossanova") == "bossa"
    rng = np.random.default_rng(0)
    piece = next(g for g in train if g[0] == "basicrock")
    clip = None
    while clip is None:
        clip = mma_source.make_clip(piece, 1, SECONDS, rng)
    tokens = clip_tokens(clip)
    assert clip.has_drums() and "style:rock" in tokens and "drums:yes" in tokens
    assert f"tempo:{tempo_band(clip.bpm)}" in tokens and f"mode:{clip.mode}" in tokens
    assert all(0 <= n[0] < SECONDS for p in clip.parts for n in p.notes)


def test_mma_plays_the_same_midi_for_the_same_draws():
    if not mma_source.available():
        assert mma_source.play("60sRock", 120.0, ["C"] * 8) is None
        return
    chords = mma_source.chart(np.random.default_rng(1), "major", 0, 16)
    first, again = (mma_source.play("60sRock", 120.0, chords) for _ in range(2))  # a groove with random jitter
    notes = [[(n.start, n.end, n.pitch, n.velocity) for n in i.notes] for i in first.instruments]
    assert notes and notes == [[(n.start, n.end, n.pitch, n.velocity) for n in i.notes] for i in again.instruments]


def test_music21_score_converts_with_its_seeded_tempo(tmp_path: Path):
    try:
        from music21 import corpus
    except ImportError:  # the fallback: no scores at all
        assert music21_source.prepare(tmp_path) == []
        return
    from worker.encoders.offline.train.midi_slices import load_piece, slice_piece

    path = Path(corpus.getWork("bach/bwv66.6"))
    name = music21_source.piece_name(path)
    assert name == "bach-bwv66.6"
    assert music21_source.is_held_out(name) == music21_source.is_held_out("bach-bwv66.6")  # by name only
    out = music21_source.convert(path, tmp_path / f"{name}.mid")
    pm = load_piece(out)
    _, tempi = pm.get_tempo_changes()
    assert abs(float(tempi[0]) - music21_source.seeded_bpm(name)) < 0.5
    assert len([i for i in pm.instruments if i.notes]) == 4  # a four-part chorale
    clip = slice_piece(pm, f"music21-{name}", SECONDS, np.random.default_rng(1), None, 0.0)
    assert clip is not None and clip.style is None and "ensemble" in clip_tokens(clip)
