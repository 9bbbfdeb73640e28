"""Shared tiny fixtures: a Gaussian data set with its analytic optimal denoiser, and a prior trained on it.

Training here is a few hundred steps of a width-64 network (seconds); one torch thread, because on two busy
cores a thread pool makes tiny matrix products many times slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from worker.prior.checkpoint import PriorCheckpoint
from worker.prior.training import train_prior

GAUSS_DIM = 8
GAUSS_COUNT = 4096
TRAIN_STEPS = 600
TRAIN_WIDTH = 64
TRAIN_DEPTH = 2


@dataclass(frozen=True)
class GaussianData:
    mean: np.ndarray
    cov: np.ndarray
    samples: np.ndarray  # float32 draws

    def optimal_denoiser(self):
        """D*(x, σ) = μ + Σ(Σ + σ²I)⁻¹(x − μ): the exact posterior mean, in float64."""
        mu = torch.as_tensor(self.mean)
        cov = torch.as_tensor(self.cov)

        def denoise(x: torch.Tensor, sigma: torch.Tensor | float, condition: object = None) -> torch.Tensor:
            gain = cov @ torch.linalg.inv(cov + float(sigma) ** 2 * torch.eye(len(cov), dtype=cov.dtype))
            return (mu + (x.double() - mu) @ gain.T).to(x.dtype)

        return denoise


@pytest.fixture(autouse=True, scope="module")
def one_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (tests/conftest.py says why)."""


@pytest.fixture(scope="session")
def gaussian() -> GaussianData:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(GAUSS_DIM, GAUSS_DIM)) * 0.05
    cov = a @ a.T + 0.001 * np.eye(GAUSS_DIM)
    mean = rng.normal(size=GAUSS_DIM) * 0.1
    samples = rng.multivariate_normal(mean, cov, size=GAUSS_COUNT).astype(np.float32)
    return GaussianData(mean=mean, cov=cov, samples=samples)


@pytest.fixture(scope="session")
def gaussian_prior(gaussian: GaussianData) -> PriorCheckpoint:
    torch.set_num_threads(1)
    return train_prior(gaussian.samples, steps=TRAIN_STEPS, batch=256, seed=0, width=TRAIN_WIDTH,
                       depth=TRAIN_DEPTH, encoder_id="test", encoder_version="1", library_generation=3)
