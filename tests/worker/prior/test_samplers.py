"""Samplers driven by the exact denoiser of a Gaussian: samples must have the data's mean and covariance."""

import numpy as np
import pytest
import torch

from worker.prior.rng import StackedRandomGenerator
from worker.prior.samplers import SAMPLERS, evaluations, sample_euler_maruyama, sample_heun
from worker.prior.schedules import PAPER_STEPS, sampling_sigmas

COUNT = 3000


class OneStream:
    """All rows from one torch.Generator: fast for statistics over thousands of samples."""

    def __init__(self, seed: int):
        self.generator = torch.Generator().manual_seed(seed)

    def randn_like(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=self.generator, dtype=x.dtype)


def _sigma_data(gaussian) -> float:
    return float(np.sqrt(np.trace(gaussian.cov) / len(gaussian.cov)))


def _relative_cov_error(x: torch.Tensor, cov: np.ndarray) -> float:
    return float(np.linalg.norm(np.cov(x.numpy().T) - cov) / np.linalg.norm(cov))


@pytest.mark.parametrize(("sampler", "steps", "cov_tolerance"), [
    ("euler_maruyama", PAPER_STEPS, 0.12),  # the paper's setting
    ("heun", 32, 0.12),
    ("dpmpp_2m", 48, 0.12),
])
def test_samples_match_gaussian_mean_and_covariance(gaussian, sampler, steps, cov_tolerance):
    normals = OneStream(1)
    noise = normals.randn_like(torch.zeros(COUNT, len(gaussian.mean), dtype=torch.float64))
    x = SAMPLERS[sampler](gaussian.optimal_denoiser(), noise, sampling_sigmas(_sigma_data(gaussian), steps),
                          generator=normals)
    spread = np.sqrt(np.trace(gaussian.cov))
    assert np.linalg.norm(x.numpy().mean(0) - gaussian.mean) < 0.1 * spread
    assert _relative_cov_error(x, gaussian.cov) < cov_tolerance


def test_euler_maruyama_without_its_noise_term_collapses_diversity(gaussian):
    """Guard on the SDE's noise term: the same drift with a zero generator must lose most of the variance."""

    class Zeros:
        @staticmethod
        def randn_like(x):
            return torch.zeros_like(x)

    noise = OneStream(2).randn_like(torch.zeros(COUNT, len(gaussian.mean), dtype=torch.float64))
    sigmas = sampling_sigmas(_sigma_data(gaussian), 64)
    x = sample_euler_maruyama(gaussian.optimal_denoiser(), noise, sigmas, generator=Zeros())
    assert np.trace(np.cov(x.numpy().T)) < 0.2 * np.trace(gaussian.cov)


def test_same_seeds_give_the_same_samples_whatever_the_batch(gaussian):
    sigmas = sampling_sigmas(_sigma_data(gaussian), 12)
    denoiser = gaussian.optimal_denoiser()

    def run(seeds):
        generator = StackedRandomGenerator(seeds)
        noise = generator.randn((len(seeds), len(gaussian.mean)), dtype=torch.float64)
        return sample_euler_maruyama(denoiser, noise, sigmas, generator=generator)

    first, again, alone = run([5, 6, 7]), run([5, 6, 7]), run([7])
    assert torch.equal(first, again)
    assert torch.allclose(first[2], alone[0], atol=1e-12)
    assert not torch.allclose(first[0], first[1])


def test_callback_sees_every_step_and_evaluations_are_counted(gaussian):
    seen = []
    calls = []
    base = gaussian.optimal_denoiser()

    def counting(x, sigma, condition=None):
        calls.append(float(sigma))
        return base(x, sigma)

    noise = torch.randn(4, len(gaussian.mean), dtype=torch.float64)
    sample_heun(counting, noise, sampling_sigmas(_sigma_data(gaussian), 6), callback=seen.append)
    assert [info["i"] for info in seen] == list(range(6))
    assert seen[-1]["sigma_next"] == 0.0
    assert len(calls) == evaluations("heun", 6) == 11
