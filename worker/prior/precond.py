"""EDM preconditioning (Karras et al. 2022; paper eqs. 8–12) as a wrapper around the raw network F.

D(z̃, σ, q) = c_skip(σ)·z̃ + c_out(σ)·F(c_in(σ)·z̃, c_noise(σ), q) keeps F's inputs and targets near unit
variance at every noise level; σd is measured from the embeddings the prior is trained on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from worker.prior.network import Modulation

SIGMA_DATA_FLOOR = 1e-6  # guards a degenerate training set (all vectors equal)


def measure_sigma_data(vectors: np.ndarray | torch.Tensor) -> float:
    """Population standard deviation of all coordinates of the training embeddings (paper: ≈0.088 for MuLan).

    Unit vectors in d dimensions give about 1/√d (0.044 for 512-d CLAP).
    """
    values = torch.as_tensor(np.asarray(vectors)) if isinstance(vectors, np.ndarray) else vectors
    if values.numel() == 0:
        raise ValueError("cannot measure σ_data of an empty set of embeddings")
    return max(float(values.double().std(unbiased=False)), SIGMA_DATA_FLOOR)


def edm_coefficients(sigma: torch.Tensor, sigma_data: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(c_skip, c_out, c_in, c_noise) for noise levels `sigma` (paper eqs. 9–12)."""
    total = sigma**2 + sigma_data**2
    c_skip = sigma_data**2 / total
    c_out = sigma * sigma_data / total.sqrt()
    c_in = 1.0 / total.sqrt()
    c_noise = sigma.log() / 4.0
    return c_skip, c_out, c_in, c_noise


class EDMPrecond(nn.Module):
    """The denoiser D wrapping a raw network `net(x, c_noise, condition)`; `forward` takes plain σ."""

    def __init__(self, net: nn.Module, sigma_data: float):
        super().__init__()
        self.net = net
        self.sigma_data = float(sigma_data)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float,
                condition: torch.Tensor | None = None) -> torch.Tensor:
        """Denoised x (b, d) at noise level `sigma` (a scalar or (b,)); condition (b|1, c) or None.

        A scalar σ and a single condition row let the network compute its modulation once for the batch.
        """
        if not torch.is_tensor(sigma) or sigma.ndim == 0:  # sampling: plain floats, no tensor operations
            c_skip, c_out, c_in, c_noise = scalar_coefficients(float(sigma), self.sigma_data)
            f = self.net(x * c_in, torch.full((1,), c_noise, dtype=x.dtype, device=x.device), condition)
            return torch.add(x * c_skip, f, alpha=c_out)
        sigma = sigma.to(dtype=x.dtype, device=x.device)
        c_skip, c_out, c_in, c_noise = edm_coefficients(sigma, self.sigma_data)
        f = self.net(c_in.reshape(-1, 1) * x, c_noise.reshape(-1), condition)
        return c_skip.reshape(-1, 1) * x + c_out.reshape(-1, 1) * f


def scalar_coefficients(sigma: float, sigma_data: float) -> tuple[float, float, float, float]:
    """`edm_coefficients` of one noise level as floats."""
    total = sigma * sigma + sigma_data * sigma_data
    return sigma_data**2 / total, sigma * sigma_data / math.sqrt(total), 1.0 / math.sqrt(total), math.log(sigma) / 4


class GridDenoiser:
    """D of an EDMPrecond around a ResidualMLP for one sampling run, with the network's modulation precomputed
    for every level of the sampler's grid and each condition it will be called with (one pass per layer instead
    of one per step). Values equal the model's; an unforeseen (σ, condition) falls back to the model itself."""

    def __init__(self, model: EDMPrecond, sigmas: torch.Tensor, conditions: Sequence[torch.Tensor | None]):
        self.model = model
        levels = [float(s) for s in sigmas if float(s) > 0]
        c_noise = torch.tensor([math.log(s) / 4 for s in levels], dtype=torch.float32)
        self._modulations: dict[tuple[float, object], Modulation] = {}
        with torch.no_grad():
            for condition in conditions:
                grid = model.net.modulation_grid(c_noise, condition)
                for level, modulation in zip(levels, grid, strict=True):
                    self._modulations[(level, _key(condition))] = modulation

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor | float, condition: torch.Tensor | None = None
                 ) -> torch.Tensor:
        level = float(sigma)
        modulation = self._modulations.get((level, _key(condition)))
        if modulation is None:
            return self.model(x, sigma, condition)
        c_skip, c_out, c_in, _ = scalar_coefficients(level, self.model.sigma_data)
        return torch.add(x * c_skip, self.model.net.trunk(x * c_in, modulation), alpha=c_out)


def _key(condition: torch.Tensor | None) -> object:
    """Conditions are matched by value: callers rebuild the same rows at every step."""
    if condition is None:
        return None
    return tuple(condition.shape), str(condition.dtype), condition.detach().contiguous().numpy().tobytes()
