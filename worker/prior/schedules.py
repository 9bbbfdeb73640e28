"""Noise levels of the Diff4Steer prior (paper appendix A.1.2): the tangent schedule and the Karras time grid.

The forward process is variance exploding, σ(t) = σd·σ̂(t) with σ̂(t) = σ̂max·tan(αmax·t)/tan(αmax), so the
largest noise level is σd·σ̂max. Samplers step through a decreasing tensor of sigmas; `sampling_sigmas` builds
the paper's grid (Karras et al. 2022, ρ = 7, spaced in σ^(1/ρ) between σmax and σmin), which is what the
swirl-dynamics `edm_noise_decay` converts to solver times through the inverse of the tangent schedule.
"""

from __future__ import annotations

import math

import torch

ALPHA_MAX = 1.5  # tangent schedule: tan rescaled from [0, αmax] (paper eq. 6)
SIGMA_HAT_MAX = 100.0  # largest noise level in units of σd
SIGMA_MIN = 1e-4  # smallest training and sampling noise level (a clip against numerical blow-up)
RHO = 7.0  # Karras time-grid exponent
PAPER_STEPS = 256  # Euler–Maruyama steps in the paper


def sigma_max(sigma_data: float) -> float:
    """The largest noise level, σ(t=1) = σd·σ̂max."""
    return sigma_data * SIGMA_HAT_MAX


def tangent_sigma(t: torch.Tensor, sigma_data: float, alpha_max: float = ALPHA_MAX,
                  sigma_hat_max: float = SIGMA_HAT_MAX) -> torch.Tensor:
    """σ(t) = σd·σ̂max·tan(αmax·t)/tan(αmax) for t in [0, 1] (paper eqs. 5–6)."""
    return sigma_data * sigma_hat_max * torch.tan(alpha_max * t) / math.tan(alpha_max)


def tangent_time(sigma: torch.Tensor, sigma_data: float, alpha_max: float = ALPHA_MAX,
                 sigma_hat_max: float = SIGMA_HAT_MAX) -> torch.Tensor:
    """The inverse of `tangent_sigma`: the solver time at which the schedule reaches `sigma`."""
    return torch.atan(sigma / (sigma_data * sigma_hat_max) * math.tan(alpha_max)) / alpha_max


def karras_sigmas(n: int, sigma_min: float, sigma_max: float, rho: float = RHO) -> torch.Tensor:
    """n decreasing levels spaced evenly in σ^(1/ρ) from sigma_max to sigma_min (paper eq. 15), float64."""
    if n < 1:
        raise ValueError("need at least one noise level")
    if n == 1:
        return torch.tensor([sigma_max], dtype=torch.float64)
    ramp = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    lo, hi = sigma_min ** (1.0 / rho), sigma_max ** (1.0 / rho)
    return (hi + ramp * (lo - hi)) ** rho


def sampling_sigmas(sigma_data: float, steps: int = PAPER_STEPS, sigma_min: float = SIGMA_MIN,
                    rho: float = RHO) -> torch.Tensor:
    """The solver grid: `steps` + 1 levels from σd·σ̂max down to σmin, then a final 0 (clean sample).

    `steps` is the number of solver steps (network evaluations for Euler, about twice that for Heun).
    """
    grid = karras_sigmas(steps, sigma_min, sigma_max(sigma_data), rho)
    return torch.cat([grid, grid.new_zeros(1)])


def training_sigmas(u: torch.Tensor, sigma_data: float, sigma_min: float = SIGMA_MIN,
                    sigma_hat_max: float = SIGMA_HAT_MAX) -> torch.Tensor:
    """Training noise levels σ = σmin·(σd·σ̂max/σmin)^δ for δ = u ~ U[0, 1] (paper eq. 13): log-uniform."""
    return sigma_min * (sigma_data * sigma_hat_max / sigma_min) ** u
