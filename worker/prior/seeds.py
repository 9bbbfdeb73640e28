"""From a query to seed embeddings: the plain functions retrieval calls (numpy in, unit numpy vectors out).

One seed per sample, so a result's seed regenerates it; CFG strength, signed phrase strengths and the
optional spherical interpolation are plain arguments. The default sampler and step count are the cheapest
setting that keeps Recall@10 within 2 points of the paper's 256 Euler–Maruyama steps (bench/prior_latency.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from worker.prior.guidance import STEER_MAX_SIGMA, Denoiser, Guidance, network_condition, slerp, to_unit_sphere
from worker.prior.network import Regressor, ResidualMLP
from worker.prior.precond import EDMPrecond, GridDenoiser
from worker.prior.rng import StackedRandomGenerator
from worker.prior.samplers import SAMPLERS, Callback
from worker.prior.schedules import sampling_sigmas

DEFAULT_SAMPLER = "dpmpp_2m"
# bench/prior_latency.py + prior_vs_regression.py (width 256, 3000 training steps): dpmpp_2m/8 reaches Recall@10
# 0.224 (ω=0, 192 queries) and 0.188 (ω=3, 128 queries) against 0.208 / 0.188 for 256 Euler–Maruyama steps, at
# about half the sampling time of 16 steps; Recall@100 costs 2–4 points. Fewer steps do not pay: with ρ = 7 the
# second-order extrapolation overshoots on the last long log-σ step (6×256, ω=3, 256 queries: R@10 0.195 at 4 steps,
# 0.008 at 5, 0.180 at 6, 0.199 at 8). 4×128 (the library default since): 0.172 at 8 vs 0.160 at 256 EM steps.
DEFAULT_STEPS = 8
DEFAULT_SEEDS = 16
# Intra-op threads while sampling: a 32-row step gains nothing from a second thread, and on busy shared cores
# OpenMP's waiting made a query 35× slower on 2 threads (bench/prior_latency.py --threads 2: 1.8 s CPU p50 vs
# 52 ms on 1). Thread counts are per calling thread, so other jobs of the worker keep theirs.
SAMPLING_THREADS = 1


def _tensor(values: np.ndarray | Sequence[float] | None) -> torch.Tensor | None:
    return None if values is None else torch.as_tensor(np.asarray(values, dtype=np.float32))


def generate_seeds(model: EDMPrecond, seeds: Sequence[int], *, condition: np.ndarray | None = None,
                   omega: float = 0.0, directions: np.ndarray | None = None,
                   strengths: Sequence[float] | None = None, sampler: str = DEFAULT_SAMPLER,
                   steps: int = DEFAULT_STEPS, slerp_target: np.ndarray | None = None,
                   slerp_ratio: float = 0.0, callback: Callback | None = None,
                   steer_max_sigma: float = STEER_MAX_SIGMA) -> np.ndarray:
    """(len(seeds), d) unit float32 seed embeddings; row i depends only on seeds[i] and the query.

    condition: the query embedding (c,) for a conditional prior (None: unconditional); omega: CFG strength
    (−1 = unconditional); directions (n, d) text embeddings with signed `strengths` (n,); slerp_target (d,)
    and slerp_ratio in [0, 1]: spherical interpolation of the finished samples toward a text embedding.
    steer_max_sigma: no steering gradient above this many σd (math.inf: on every step).
    Benchmarks batch many queries in one call: condition (len(seeds), c), directions (len(seeds), n, d),
    strengths (len(seeds), n) and slerp_target (len(seeds), d) give each row its own query.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    generator = StackedRandomGenerator(seeds)
    dim = model.net.config.dim
    noise = generator.randn((len(generator.seeds), dim))
    guidance = Guidance(condition=_tensor(condition), omega=float(omega), directions=_tensor(directions),
                        strengths=_tensor(strengths), steer_max_sigma=steer_max_sigma * model.sigma_data)
    sigmas = sampling_sigmas(model.sigma_data, steps).to(noise.dtype)
    with torch_threads(SAMPLING_THREADS):
        x = SAMPLERS[sampler](grid_denoiser(model, sigmas, guidance, len(noise)), noise, sigmas, guidance,
                              callback, generator)
    x = to_unit_sphere(x)
    if slerp_target is not None and slerp_ratio > 0.0:
        x = slerp(x, torch.atleast_2d(_tensor(slerp_target)), float(slerp_ratio))
    return x.numpy().astype(np.float32)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """At most `count` torch threads in the calling thread for the block (restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(min(count, before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def grid_denoiser(model: EDMPrecond, sigmas: torch.Tensor, guidance: Guidance, batch: int) -> Denoiser:
    """The model with its modulation precomputed for this run's noise levels and condition rows."""
    if not isinstance(model.net, ResidualMLP):
        return model
    condition = guidance.condition
    rows = None if condition is None else network_condition(condition, guidance.omega, batch, sigmas.dtype)
    return GridDenoiser(model, sigmas, [rows])


@torch.no_grad()
def regress(model: Regressor, conditions: np.ndarray) -> np.ndarray:
    """The regression baseline's single unit embedding per condition row: (n, d)."""
    q = torch.as_tensor(np.atleast_2d(np.asarray(conditions, dtype=np.float32)))
    return to_unit_sphere(model(q)).numpy().astype(np.float32)
