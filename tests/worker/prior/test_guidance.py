import math

import numpy as np
import pytest
import torch
from torch import nn

from worker.prior.checkpoint import build_model
from worker.prior.guidance import Guidance, cfg_denoise, guided_denoise, slerp, to_unit_sphere
from worker.prior.network import NetworkConfig, ResidualMLP
from worker.prior.precond import EDMPrecond
from worker.prior.samplers import SAMPLERS
from worker.prior.schedules import sampling_sigmas
from worker.prior.seeds import generate_seeds

DIM, COND_DIM = 6, 3


def _random_conditional_denoiser(seed: int = 0) -> EDMPrecond:
    """A conditional denoiser whose output depends on the condition (zero-initialised layers randomised)."""
    torch.manual_seed(seed)
    net = ResidualMLP(NetworkConfig(dim=DIM, cond_dim=COND_DIM, width=16, depth=2, emb_dim=16))
    for p in net.parameters():
        nn.init.normal_(p, std=0.3)
    return EDMPrecond(net, sigma_data=0.4).eval().requires_grad_(False)


def test_cfg_is_the_affine_combination_of_conditional_and_unconditional():
    model = _random_conditional_denoiser()
    x, sigma, q = torch.randn(5, DIM), torch.tensor(0.3), torch.randn(1, COND_DIM)
    conditional, unconditional = model(x, sigma, q), model(x, sigma, None)
    assert not torch.allclose(conditional, unconditional)
    expected = 3.5 * conditional - 2.5 * unconditional
    assert torch.allclose(cfg_denoise(model, x, sigma, q, 2.5), expected, atol=1e-5)
    assert torch.allclose(cfg_denoise(model, x, sigma, q, 0.0), conditional)
    assert torch.allclose(model(x, sigma, torch.zeros(1, COND_DIM)), unconditional, atol=1e-6)


@pytest.mark.parametrize("sampler", ["euler_maruyama", "heun", "dpmpp_2m"])
def test_omega_minus_one_equals_the_unconditional_sampler(sampler):
    model = _random_conditional_denoiser(1)
    sigmas = sampling_sigmas(0.4, 10)
    q = torch.randn(COND_DIM)

    def run(guidance):
        torch.manual_seed(3)
        return SAMPLERS[sampler](model, torch.randn(8, DIM), sigmas, guidance)

    unconditional = run(Guidance(condition=None))
    assert torch.allclose(run(Guidance(condition=q, omega=-1.0)), unconditional, atol=1e-5)
    assert not torch.allclose(run(Guidance(condition=q, omega=0.0)), unconditional, atol=1e-3)


def test_steering_adds_the_gradient_of_the_alignment(gaussian):
    """For the exact Gaussian denoiser D = μ + M(x − μ), ∇ₓ⟨D, s⟩ = Mᵀs with s = Σ kₙ tₙ."""
    denoiser = gaussian.optimal_denoiser()
    sigma = 0.05
    cov = torch.as_tensor(gaussian.cov)
    gain = cov @ torch.linalg.inv(cov + sigma**2 * torch.eye(len(cov), dtype=cov.dtype))
    directions = torch.randn(2, len(cov), dtype=torch.float64)
    strengths = torch.tensor([0.5, -0.2], dtype=torch.float64)
    x = torch.randn(4, len(cov), dtype=torch.float64)
    guidance = Guidance(directions=directions, strengths=strengths)
    steered = guided_denoise(denoiser, x, torch.tensor(sigma), guidance)
    expected = denoiser(x, sigma) + gain.T @ (strengths @ directions)
    assert torch.allclose(steered, expected, atol=1e-10)
    assert not steered.requires_grad


def test_steering_vector_is_the_signed_sum_and_zero_strength_is_no_steering():
    t = torch.eye(3)
    assert torch.allclose(Guidance(directions=t[:2], strengths=torch.tensor([1.0, -2.0])).steering_vector(),
                          torch.tensor([1.0, -2.0, 0.0]))
    assert Guidance(directions=t[:2], strengths=torch.zeros(2)).steering_vector() is None
    with pytest.raises(ValueError):
        Guidance(directions=t, strengths=torch.ones(2)).steering_vector()


def test_positive_phrase_attracts_and_negative_repels(gaussian_prior):
    model = build_model(gaussian_prior)
    rng = np.random.default_rng(4)
    seeds = list(range(48))

    def mean_alignment(text: np.ndarray, strength: float) -> float:
        samples = generate_seeds(model, seeds, directions=text[None], strengths=[strength], steps=12)
        return float((samples @ text).mean())

    for _ in range(2):
        text = rng.normal(size=gaussian_prior.config.dim)
        text /= np.linalg.norm(text)
        plain = mean_alignment(text, 0.0)
        assert mean_alignment(text, 0.05) > plain + 0.02
        assert mean_alignment(text, -0.05) < plain - 0.02


def test_slerp_endpoints_midpoint_and_unit_norm():
    a = to_unit_sphere(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    b = torch.tensor([[0.0, 0.0, 1.0]])
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-6)
    assert torch.allclose(slerp(a, b, 1.0), b.expand_as(a), atol=1e-6)
    middle = slerp(a, b, 0.5)
    assert torch.allclose(middle.norm(dim=1), torch.ones(2))
    assert torch.allclose(middle @ b.T, torch.full((2, 1), math.cos(math.pi / 4)), atol=1e-6)
    assert torch.allclose(slerp(b, b, 0.3), b, atol=1e-6)  # parallel: no division by sin 0
