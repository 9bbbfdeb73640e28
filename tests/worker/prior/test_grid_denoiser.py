"""The precomputed-modulation denoiser of one sampling run gives the model's own values, and seeds stay the same."""

from __future__ import annotations

import math

import numpy as np
import torch

from worker.prior.guidance import Guidance, network_condition
from worker.prior.network import NetworkConfig, ResidualMLP
from worker.prior.precond import EDMPrecond, GridDenoiser
from worker.prior.schedules import sampling_sigmas
from worker.prior.seeds import generate_seeds

DIM, COND = 12, 5


def _model() -> EDMPrecond:
    torch.manual_seed(3)
    net = ResidualMLP(NetworkConfig(dim=DIM, cond_dim=COND, width=32, depth=2, emb_dim=16))
    for p in net.parameters():  # output layers start at zero: give every weight a value
        torch.nn.init.normal_(p, std=0.3)
    return EDMPrecond(net, 0.2).eval().requires_grad_(False)


def test_grid_denoiser_equals_the_model_at_every_level_and_falls_back_elsewhere() -> None:
    model = _model()
    sigmas = sampling_sigmas(model.sigma_data, 6).float()
    condition = torch.randn(COND)
    rows = network_condition(condition, 2.0, 8)
    assert rows.shape == (2, COND)  # one row per CFG branch, not one per sample
    grid = GridDenoiser(model, sigmas, [rows, None])
    x = torch.randn(16, DIM)
    for sigma in sigmas[:-1]:
        for cond in (rows, None):
            assert torch.allclose(grid(x, sigma, cond), model(x, sigma, cond), atol=1e-5)
    other = torch.randn(2, COND)
    assert torch.allclose(grid(x, sigmas[1], other), model(x, sigmas[1], other), atol=1e-6)  # not prepared
    assert torch.allclose(grid(x, 0.123, rows), model(x, 0.123, rows), atol=1e-6)
    per_row = torch.randn(16, COND)  # one condition per row needs no grouping
    assert torch.allclose(model(x, sigmas[2], per_row),
                          torch.cat([model(x[i:i + 1], sigmas[2], per_row[i:i + 1]) for i in range(16)]), atol=1e-5)


def test_seeds_with_the_grid_equal_seeds_from_the_plain_sampler_loop() -> None:
    """generate_seeds (grid denoiser, grouped CFG rows) against the same sampler on the bare model."""
    from worker.prior.rng import StackedRandomGenerator
    from worker.prior.samplers import SAMPLERS

    model = _model()
    rng = np.random.default_rng(0)
    condition = rng.normal(size=COND).astype(np.float32)
    directions = rng.normal(size=(2, DIM)).astype(np.float32)
    strengths = (0.3, -0.2)
    got = generate_seeds(model, range(5), condition=condition, omega=2.0, directions=directions,
                         strengths=strengths, steps=6, steer_max_sigma=math.inf)
    generator = StackedRandomGenerator(range(5))
    noise = generator.randn((5, DIM))
    guidance = Guidance(condition=torch.as_tensor(condition), omega=2.0, directions=torch.as_tensor(directions),
                        strengths=torch.as_tensor(strengths))
    x = SAMPLERS["dpmpp_2m"](model, noise, sampling_sigmas(model.sigma_data, 6).float(), guidance, None, generator)
    expected = (x / x.norm(dim=-1, keepdim=True)).numpy()
    assert np.allclose(got, expected, atol=1e-5)
    again = generate_seeds(model, range(5), condition=condition, omega=2.0, directions=directions,
                           strengths=strengths, steps=6, steer_max_sigma=math.inf)
    assert np.array_equal(got, again)
    cut = generate_seeds(model, range(5), condition=condition, omega=2.0, directions=directions,
                         strengths=strengths, steps=6)
    assert not np.array_equal(got, cut) and np.allclose(got, cut, atol=0.05)  # the cut-off only skips tiny terms


def test_sampling_runs_on_one_thread_and_restores_the_callers_setting() -> None:
    from worker.prior.seeds import SAMPLING_THREADS

    seen: list[int] = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        generate_seeds(_model(), range(2), steps=3, callback=lambda info: seen.append(torch.get_num_threads()))
        assert seen == [SAMPLING_THREADS] * 3 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
