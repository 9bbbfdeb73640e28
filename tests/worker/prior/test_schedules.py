import math

import pytest
import torch

from worker.prior.schedules import (
    ALPHA_MAX,
    SIGMA_HAT_MAX,
    SIGMA_MIN,
    karras_sigmas,
    sampling_sigmas,
    tangent_sigma,
    tangent_time,
    training_sigmas,
)

SIGMA_DATA = 0.044


def test_tangent_schedule_spans_zero_to_hundred_sigma_data():
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    sigma = tangent_sigma(t, SIGMA_DATA)
    assert sigma[0] == 0.0
    assert sigma[2] == pytest.approx(SIGMA_DATA * SIGMA_HAT_MAX)
    half = SIGMA_DATA * SIGMA_HAT_MAX * math.tan(ALPHA_MAX / 2) / math.tan(ALPHA_MAX)
    assert sigma[1] == pytest.approx(half)


def test_tangent_time_inverts_the_schedule():
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    assert torch.allclose(tangent_time(tangent_sigma(t, SIGMA_DATA), SIGMA_DATA), t, atol=1e-12)


def test_karras_grid_endpoints_and_spacing():
    sigmas = karras_sigmas(5, 0.01, 10.0, rho=7.0)
    assert sigmas[0] == pytest.approx(10.0) and sigmas[-1] == pytest.approx(0.01)
    steps = torch.diff(sigmas ** (1 / 7))
    assert torch.allclose(steps, steps[0].expand_as(steps))
    assert torch.all(torch.diff(sigmas) < 0)


def test_sampling_grid_ends_at_zero_after_sigma_min():
    sigmas = sampling_sigmas(SIGMA_DATA, steps=8)
    assert len(sigmas) == 9
    assert sigmas[0] == pytest.approx(SIGMA_DATA * SIGMA_HAT_MAX)
    assert sigmas[-2] == pytest.approx(SIGMA_MIN) and sigmas[-1] == 0.0


def test_training_sigmas_are_log_uniform_between_the_bounds():
    u = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    sigma = training_sigmas(u, SIGMA_DATA)
    top = SIGMA_DATA * SIGMA_HAT_MAX
    assert sigma[0] == pytest.approx(SIGMA_MIN)
    assert sigma[2] == pytest.approx(top)
    assert sigma[1] == pytest.approx(math.sqrt(SIGMA_MIN * top))
