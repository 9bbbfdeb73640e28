"""Guidance of the prior at sampling time (paper §2): classifier-free guidance and signed text steering.

CFG: D' = (1+ω)·D(z̃, σ, q) − ω·D(z̃, σ, 0); ω = −1 is the unconditional prior, ω = 0 the plain conditional.
Steering: D'' = D' + Σₙ kₙ·∇_z̃⟨D'(z̃), z_t,n⟩ with one signed strength per phrase (positive attracts, negative
repels). By linearity the sum is one vector-Jacobian product with s = Σₙ kₙ·z_t,n, so any number of phrases
costs one backward pass. Spherical interpolation toward a text embedding is applied to finished samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Denoiser = Callable[..., torch.Tensor]
"""denoiser(x (b, d), sigma (scalar tensor), condition (b|1, c) or None) → denoised (b, d): EDMPrecond."""

PAPER_IMAGE_OMEGA = 19.0  # the paper's image-guidance default (retrieval peaked near 9)
PAPER_STEER_STRENGTH = 0.07  # human study used 0.06–0.08 per phrase (unit-norm embeddings)
PAPER_SLERP_RATIO = 0.55  # interpolation ratio in the human study
# Steering gradient only below this many σd: above it the gradient moves the sample by < 0.4 % of the noise level
# (trained 6×256 prior, CFG + 2 phrases at k = ±0.07: |∇|/|s| is 0.03 at 100σd and 0.07 at 44σd), so the first
# 2 of 8 steps skip their backward pass (bench/prior_latency.py).
STEER_MAX_SIGMA = 20.0


@dataclass(frozen=True)
class Guidance:
    """What steers one sampling run. condition: (c,), (1, c) or (b, c) per row; directions (n, d) for the
    whole batch or (b, n, d) per row; strengths (n,) or (b, n)."""

    condition: torch.Tensor | None = None
    omega: float = 0.0
    directions: torch.Tensor | None = None
    strengths: torch.Tensor | None = None
    steer_max_sigma: float = math.inf  # no steering gradient above this noise level (see STEER_MAX_SIGMA)

    def steering_vector(self) -> torch.Tensor | None:
        """s = Σₙ kₙ·z_t,n ((d,) or (b, d) per row), or None when there is nothing to steer by."""
        if self.directions is None or self.directions.numel() == 0:
            return None
        directions = torch.atleast_2d(self.directions)
        phrases = directions.shape[-2]
        strengths = (torch.ones(phrases, dtype=directions.dtype) if self.strengths is None
                     else torch.as_tensor(self.strengths, dtype=directions.dtype))
        if strengths.shape[-1] != phrases:
            raise ValueError(f"{phrases} steering phrases but {strengths.shape[-1]} strengths")
        if not torch.any(strengths != 0):
            return None
        return (strengths.unsqueeze(-1) * directions).sum(dim=-2)


def cfg_denoise(denoiser: Denoiser, x: torch.Tensor, sigma: torch.Tensor,
                condition: torch.Tensor | None, omega: float) -> torch.Tensor:
    """D' = (1+ω)·D(x, σ, q) − ω·D(x, σ, 0) (paper eq. 3); no condition means the unconditional D."""
    if condition is None:
        return denoiser(x, sigma)
    rows = network_condition(condition, omega, len(x), x.dtype)
    if omega == 0.0:
        return denoiser(x, sigma, rows)
    conditional, unconditional = denoiser(torch.cat([x, x]), sigma, rows).chunk(2)
    return (1.0 + omega) * conditional - omega * unconditional


def network_condition(condition: torch.Tensor, omega: float, batch: int, dtype: torch.dtype = torch.float32
                      ) -> torch.Tensor:
    """The condition rows `cfg_denoise` gives the denoiser for a batch of `batch` samples.

    With CFG both branches go in one batch (the unconditional one with a zero condition, as in training): on a
    CPU a small batch costs per operation, not per row, so this nearly halves a guided step. A shared condition
    stays two rows (one per branch), so the network modulates each half of the batch once, not per row.
    """
    condition = torch.atleast_2d(condition).to(dtype)
    if omega == 0.0:
        return condition
    rows = 1 if len(condition) == 1 else batch
    return torch.cat([condition.expand(rows, -1), condition.new_zeros(rows, condition.shape[-1])])


def guided_denoise(denoiser: Denoiser, x: torch.Tensor, sigma: torch.Tensor,
                   guidance: Guidance | None) -> torch.Tensor:
    """D'' (paper eq. 4): CFG plus the steering gradient when there are phrases; a detached tensor."""
    if guidance is None:
        return denoiser(x, sigma)
    steer = guidance.steering_vector()
    if steer is None or float(sigma) > guidance.steer_max_sigma:
        return cfg_denoise(denoiser, x, sigma, guidance.condition, guidance.omega)
    with torch.enable_grad():
        z = x.detach().requires_grad_(True)
        denoised = cfg_denoise(denoiser, z, sigma, guidance.condition, guidance.omega)
        (grad,) = torch.autograd.grad(denoised, z, grad_outputs=steer.to(x.dtype).expand_as(denoised))
    return denoised.detach() + grad


def to_unit_sphere(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Rows scaled to unit norm: retrieval ranks by cosine."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def slerp(a: torch.Tensor, b: torch.Tensor, ratio: float) -> torch.Tensor:
    """Spherical interpolation of unit rows a toward unit b: ratio 0 gives a, 1 gives b."""
    a, b = to_unit_sphere(a), to_unit_sphere(b).expand_as(a)
    cos = (a * b).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6
    w_a = torch.where(parallel, 1.0 - ratio, torch.sin((1.0 - ratio) * omega) / sin.clamp_min(1e-12))
    w_b = torch.where(parallel, torch.full_like(cos, ratio), torch.sin(ratio * omega) / sin.clamp_min(1e-12))
    return to_unit_sphere(w_a * a + w_b * b)
