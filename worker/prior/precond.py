"""EDM preconditioning (Karras et al. 2022; paper eqs. 8–12) as a wrapper around the raw network F.

D(z̃, σ, q) = c_skip(σ)·z̃ + c_out(σ)·F(c_in(σ)·z̃, c_noise(σ), q) keeps F's inputs and targets near unit
variance at every noise level; σd is measured from the embeddings the prior is trained on.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

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
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        c_skip, c_out, c_in, c_noise = edm_coefficients(sigma, self.sigma_data)
        column = (lambda c: c.reshape(-1, 1)) if sigma.ndim else (lambda c: c)
        f = self.net(column(c_in) * x, c_noise.reshape(-1), condition)
        return column(c_skip) * x + column(c_out) * f
