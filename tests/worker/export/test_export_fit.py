import numpy as np
import pytest

from worker.export.fit import FitPlan, map_times, plan_fit, render_fit

RATE = 8000


def _downbeats(duration: float, seed: int = 0) -> np.ndarray:
    """Bars of slightly varying length (a human performance) from a 1.1 s pickup."""
    rng = np.random.default_rng(seed)
    bars = 2.0 + 0.05 * rng.standard_normal(200)
    downs = 1.1 + np.concatenate([[0.0], np.cumsum(bars)])
    return downs[downs < duration - 0.5]


@pytest.mark.parametrize("target", [20.0, 33.3, 59.0, 75.0, 150.0, 400.0])
def test_fit_hits_the_target_cutting_only_on_downbeats(target):
    duration = 61.7
    downs = _downbeats(duration)
    plan = plan_fit(downs, duration, target)
    assert plan.within_tolerance and abs(plan.error_s) <= plan.tolerance_s
    assert plan.tolerance_s == pytest.approx(0.5 * np.median(np.diff(downs)))
    for t in plan.cuts:
        assert np.min(np.abs(downs - t)) < 1e-9, t
    assert plan.segments[0][0] == 0.0 and plan.segments[-1][1] == pytest.approx(duration)  # intro and ending kept
    assert plan.segments[-1][1] - plan.segments[-1][0] >= duration - downs[-2] - 1e-9  # last bars untouched
    assert sum(b - a for a, b in plan.segments) == pytest.approx(plan.duration_s)


def test_render_and_time_mapping_follow_the_plan():
    duration = 30.0
    downs = np.arange(1.0, 29.5, 2.0)
    t = np.arange(int(duration * RATE)) / RATE
    audio = np.stack([np.sin(2 * np.pi * 2.0 * t), np.cos(2 * np.pi * 2.0 * t)], axis=1).astype(np.float32)
    plan = plan_fit(downs, duration, 20.0)
    fitted = render_fit(audio, RATE, plan)
    assert len(fitted) == round(plan.duration_s * RATE)
    # a 2 Hz tone cut at 2 s bars continues seamlessly: the crossfades leave no click
    assert np.abs(np.diff(fitted, axis=0)).max() < 5 * np.abs(np.diff(audio, axis=0)).max()
    mapped = map_times(downs, plan)
    assert len(mapped) == len(downs) - round((duration - plan.duration_s) / 2.0)
    assert np.allclose(np.diff(mapped), 2.0)  # the bar grid survives the edit
    a, b = plan.segments[0][1], plan.segments[1][0]
    assert map_times([b], plan)[0] == pytest.approx(a)  # the downbeat after the cut lands on the join
    assert np.allclose(fitted[: round((a - 0.1) * RATE)], audio[: round((a - 0.1) * RATE)])


def test_nothing_to_do_or_nothing_to_cut_on():
    assert plan_fit([1.0, 3.0, 5.0], 7.0, 7.0).segments == [(0.0, 7.0)]
    plan = plan_fit([], 7.0, 5.0)
    assert isinstance(plan, FitPlan) and plan.segments == [(0.0, 7.0)] and not plan.within_tolerance
