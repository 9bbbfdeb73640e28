"""Samplers of the prior: pure functions of (denoiser, noise, sigmas, guidance, callback, generator).

Shaped like `sample_heun` in k-diffusion and `edm_sampler` in NVlabs/edm: `noise` is standard normal (b, d),
`sigmas` a decreasing grid ending in 0 (`schedules.sampling_sigmas`), randomness comes only from `generator`
(one seed per row, `rng.StackedRandomGenerator`), progress leaves through `callback(dict)`. They return raw
samples; `seeds.generate_seeds` puts them on the unit sphere for retrieval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch

from worker.prior.guidance import Denoiser, Guidance, guided_denoise

Callback = Callable[[dict[str, Any]], None]


class NormalSource(Protocol):
    def randn_like(self, x: torch.Tensor) -> torch.Tensor: ...


class _GlobalNormals:
    """The global torch RNG, for callers that do not care about reproducibility."""

    @staticmethod
    def randn_like(x: torch.Tensor) -> torch.Tensor:
        return torch.randn_like(x)


def _report(callback: Callback | None, i: int, x: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor,
            denoised: torch.Tensor) -> None:
    if callback is not None:
        callback({"i": i, "x": x, "sigma": float(sigma), "sigma_next": float(sigma_next),
                  "denoised": denoised})


@torch.no_grad()
def sample_euler_maruyama(denoiser: Denoiser, noise: torch.Tensor, sigmas: torch.Tensor,
                          guidance: Guidance | None = None, callback: Callback | None = None,
                          generator: NormalSource | None = None) -> torch.Tensor:
    """First-order Euler–Maruyama on the reverse SDE (the paper's sampler, eq. 2; 256 steps there).

    With the noise level itself as the time variable the reverse SDE reads dz = 2(z − D)/σ·dσ + √(2σ)·dW̄
    (the paper prints the z term without the 2; this is the VE form whose marginals match the forward
    process). The last step, to σ = 0, returns the denoised estimate.
    """
    normals = generator or _GlobalNormals()
    sigmas = sigmas.to(noise.dtype)
    x = noise * sigmas[0]
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = guided_denoise(denoiser, x, sigma, guidance)
        if sigma_next == 0:
            x = denoised
        else:
            dsigma = sigma_next - sigma  # negative: time runs backwards
            drift = 2.0 * (x - denoised) / sigma * dsigma
            x = x + drift + (-2.0 * sigma * dsigma).sqrt() * normals.randn_like(x)
        _report(callback, i, x, sigma, sigma_next, denoised)
    return x


@torch.no_grad()
def sample_heun(denoiser: Denoiser, noise: torch.Tensor, sigmas: torch.Tensor,
                guidance: Guidance | None = None, callback: Callback | None = None,
                generator: NormalSource | None = None) -> torch.Tensor:
    """Deterministic 2nd-order Heun on the probability-flow ODE dz/dσ = (z − D)/σ (EDM Algorithm 1, no churn).

    2·steps − 1 denoiser evaluations; the seed only enters through `noise`. `generator` is accepted so all
    samplers share one signature.
    """
    sigmas = sigmas.to(noise.dtype)
    x = noise * sigmas[0]
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = guided_denoise(denoiser, x, sigma, guidance)
        slope = (x - denoised) / sigma
        x_euler = x + slope * (sigma_next - sigma)
        if sigma_next == 0:
            x = x_euler
        else:
            slope_next = (x_euler - guided_denoise(denoiser, x_euler, sigma_next, guidance)) / sigma_next
            x = x + 0.5 * (slope + slope_next) * (sigma_next - sigma)
        _report(callback, i, x, sigma, sigma_next, denoised)
    return x


@torch.no_grad()
def sample_euler_ancestral(denoiser: Denoiser, noise: torch.Tensor, sigmas: torch.Tensor,
                           guidance: Guidance | None = None, callback: Callback | None = None,
                           generator: NormalSource | None = None) -> torch.Tensor:
    """Stochastic sampler that stays exact for large steps (k-diffusion `sample_euler_ancestral`, η = 1).

    Each step jumps deterministically to σ_down and adds fresh noise σ_up, with σ_down² + σ_up² = σ_next²:
    for an exact denoiser this is the true posterior step, so it keeps the SDE's diversity at 8–16 steps where
    Euler–Maruyama's first-order noise term overshoots.
    """
    normals = generator or _GlobalNormals()
    sigmas = sigmas.to(noise.dtype)
    x = noise * sigmas[0]
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = guided_denoise(denoiser, x, sigma, guidance)
        sigma_up = torch.minimum(sigma_next, (sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2).sqrt())
        sigma_down = (sigma_next**2 - sigma_up**2).sqrt()
        x = x + (x - denoised) / sigma * (sigma_down - sigma)
        if sigma_next > 0:
            x = x + sigma_up * normals.randn_like(x)
        _report(callback, i, x, sigma, sigma_next, denoised)
    return x


@torch.no_grad()
def sample_dpmpp_2m(denoiser: Denoiser, noise: torch.Tensor, sigmas: torch.Tensor,
                    guidance: Guidance | None = None, callback: Callback | None = None,
                    generator: NormalSource | None = None) -> torch.Tensor:
    """Deterministic 2nd-order multistep solver, one evaluation per step (k-diffusion `sample_dpmpp_2m`).

    Solves the probability-flow ODE exactly in log σ for a denoised estimate extrapolated linearly from the
    previous step's, so it reaches Heun's accuracy at about half the evaluations: what a steered query on a
    CPU can afford (each evaluation is a forward and a backward pass).
    """
    sigmas = sigmas.to(noise.dtype)
    x = noise * sigmas[0]
    previous: torch.Tensor | None = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = guided_denoise(denoiser, x, sigma, guidance)
        if sigma_next == 0:
            x = denoised
        else:
            h = (sigma / sigma_next).log()
            estimate = denoised
            if previous is not None:
                r = (sigmas[i - 1] / sigma).log() / h
                estimate = (1.0 + 1.0 / (2.0 * r)) * denoised - 1.0 / (2.0 * r) * previous
            x = sigma_next / sigma * x - torch.expm1(-h) * estimate
        previous = denoised
        _report(callback, i, x, sigma, sigma_next, denoised)
    return x


SAMPLERS: dict[str, Callable[..., torch.Tensor]] = {
    "euler_maruyama": sample_euler_maruyama,
    "heun": sample_heun,
    "euler_ancestral": sample_euler_ancestral,
    "dpmpp_2m": sample_dpmpp_2m,
}


def evaluations(sampler: str, steps: int) -> int:
    """Denoiser evaluations a sampler makes for `steps` solver steps (Heun re-evaluates all but the last)."""
    return 2 * steps - 1 if sampler == "heun" else steps

