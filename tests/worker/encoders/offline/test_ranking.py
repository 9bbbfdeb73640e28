"""The committed model on fresh renders it has never seen: the query's facts decide the ranking."""

from __future__ import annotations

import numpy as np


def _scores(encoder, query: str, waves: dict[str, np.ndarray]) -> dict[str, float]:
    names = list(waves)
    audio = encoder.embed_audio([waves[n] for n in names])
    text = encoder.embed_text([query])[0]
    return dict(zip(names, (audio @ text).tolist(), strict=True))


def test_solo_piano_ranks_the_piano_render_above_the_drum_render(committed, rendered):
    scores = _scores(committed, "solo piano", {k: rendered[k] for k in ("piano", "drums")})
    assert scores["piano"] > scores["drums"]


def test_drums_ranks_the_drum_render_above_the_piano_render(committed, rendered):
    scores = _scores(committed, "drums only", {k: rendered[k] for k in ("piano", "drums")})
    assert scores["drums"] > scores["piano"]


def test_fast_ranks_the_160_bpm_render_above_the_70_bpm_one(committed, rendered):
    scores = _scores(committed, "fast", {k: rendered[k] for k in ("fast", "slow")})
    assert scores["fast"] > scores["slow"]


def test_slow_ranks_the_70_bpm_render_above_the_160_bpm_one(committed, rendered):
    scores = _scores(committed, "slow tempo", {k: rendered[k] for k in ("fast", "slow")})
    assert scores["slow"] > scores["fast"]
