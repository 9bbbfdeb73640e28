"""Phrases that name something act on the plan itself: parsing, constraints, and plans drawn under them."""

from __future__ import annotations

import numpy as np
import pytest

from worker.generate.base import GenerateError, GenerateRequest, Phrase, as_phrases, parse_phrase
from worker.generate.symbolic.directives import FAST_TEMPO, SLOW_TEMPO, constraints_from
from worker.generate.symbolic.generator import candidate_plans
from worker.generate.symbolic.styles import INSTRUMENTS
from worker.generate.symbolic.theory import MINOR_MODES

PLANS = 40


def plans_for(*phrases: str, seed: int = 0) -> list:
    return candidate_plans(GenerateRequest(seconds=10.0, seed=seed, phrases=as_phrases(phrases)), PLANS)


@pytest.mark.parametrize(("spec", "text", "weight"), [
    ("+warm acoustic guitar:0.8", "warm acoustic guitar", 0.8), ("-vocals:0.5", "vocals", -0.5),
    ("fast", "fast", 1.0), ("- drums", "drums", -1.0), ("−drums", "drums", -1.0), (" +solo piano ", "solo piano", 1.0),
])
def test_parse_phrase(spec: str, text: str, weight: float) -> None:
    assert parse_phrase(spec) == Phrase(text, weight)


def test_parse_phrase_rejects_empty() -> None:
    with pytest.raises(GenerateError, match="steering phrase"):
        parse_phrase("+ :0.5")


def test_negation_inside_a_positive_phrase() -> None:
    assert constraints_from(as_phrases(["no drums"])).drums is False
    assert constraints_from(as_phrases(["-drums"])).drums is False
    assert constraints_from(as_phrases(["+drums"])).drums is True
    assert "piano" in constraints_from(as_phrases(["jazz without piano"])).exclude


@pytest.mark.parametrize("phrase", ["+solo piano", "piano only", "only piano", "+ solo piano:0.7"])
def test_solo_piano_plans_only_piano(phrase: str) -> None:
    for plan in plans_for(phrase):
        assert plan.drums is None
        assert {INSTRUMENTS[name].family for _, name in plan.instruments} == {"piano"}


def test_minus_drums_and_minus_instrument() -> None:
    for plan in plans_for("-drums", "-guitar", "rock"):
        assert plan.drums is None
        assert all(INSTRUMENTS[name].family != "guitar" for _, name in plan.instruments)
        assert plan.style == "rock"


def test_plus_drums_adds_drums_to_styles_without_them() -> None:
    assert all(plan.drums is not None for plan in plans_for("ambient", "+drums"))
    assert all(plan.drums is None for plan in plans_for("ambient"))


def test_fast_and_slow_bound_the_tempo() -> None:
    fast = [p.tempo_bpm for p in plans_for("fast")]
    slow = [p.tempo_bpm for p in plans_for("slow")]
    assert min(fast) >= FAST_TEMPO[0] and max(slow) <= SLOW_TEMPO[1]


def test_mood_picks_the_mode_family() -> None:
    assert all(p.mode in MINOR_MODES for p in plans_for("dark"))
    assert all(p.mode not in MINOR_MODES for p in plans_for("happy"))
    assert all(p.mode not in MINOR_MODES for p in plans_for("-sad"))


def test_named_instrument_is_included() -> None:
    for plan in plans_for("+flute"):
        assert "flute" in dict(plan.instruments).values()


def test_candidates_are_reproducible_and_seed_dependent() -> None:
    assert plans_for(seed=5) == plans_for(seed=5)
    assert plans_for(seed=5) != plans_for(seed=6)
    styles = {p.style for p in plans_for()}
    assert len(styles) >= 5  # free queries explore the styles


def test_request_validation() -> None:
    with pytest.raises(GenerateError, match="either in seconds or in bars"):
        GenerateRequest(seconds=5.0, bars=4)
    with pytest.raises(GenerateError, match="longer than 0"):
        GenerateRequest(seconds=0.0)
    with pytest.raises(GenerateError, match=r"\(m, d\)"):
        GenerateRequest(seconds=5.0, seeds=np.zeros(8))


def test_conflicts_go_to_the_stronger_then_more_specific_phrase() -> None:
    assert constraints_from(as_phrases(["-drums", "+energetic drums"])).drums is False
    assert constraints_from(as_phrases(["+energetic drums", "-drums"])).drums is False
    assert constraints_from(as_phrases(["-drums:0.5", "+energetic drums"])).drums is True
    assert constraints_from(as_phrases(["fast", "calm"])).tempo == SLOW_TEMPO  # equal: the later one
    assert constraints_from(as_phrases(["fast:2", "calm"])).tempo == FAST_TEMPO
