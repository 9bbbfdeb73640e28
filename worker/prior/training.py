"""Training the prior (EDM loss, paper appendix A) and the regression baseline on the same network.

Diffusion: σ log-uniform in [σmin, σd·σ̂max], loss λ(σ)·‖D(z + σε, σ, q) − z‖² with EDM's λ = (σ²+σd²)/(σ·σd)²
(the weighting that makes the effective target of F unit-variance at every σ), condition replaced by zeros
with p = 0.1 so one network serves conditional, unconditional and CFG sampling. Regression: condition → one
embedding, no noise (paper §3.3). Both: Adam, linear warm-up then cosine decay, EMA of the weights. Progress
and cancel go through `worker.jobs.Job`; nothing here touches files.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from worker.jobs import Job
from worker.prior.checkpoint import KIND_DIFFUSION, KIND_REGRESSION, PriorCheckpoint, data_fingerprint
from worker.prior.network import NetworkConfig, Regressor, ResidualMLP
from worker.prior.precond import EDMPrecond, measure_sigma_data
from worker.prior.schedules import training_sigmas

P_UNCOND = 0.1  # condition dropped to zeros (paper: p_mask = 0.1)
PEAK_LR = 1e-3  # the paper's 1e-5 is for 2M steps at width 4096; thousands of CPU steps need more
WARMUP_FRACTION = 0.05  # paper: 10k warm-up steps of 2M, from lr 0
EMA_DECAY = 0.999
EMA_WARMUP_STEPS = 10  # decay ramps as (1+i)/(10+i) so early weights do not linger
REGRESSION_INIT_STD = 0.1  # output-layer init of the regression baseline (the prior's starts at zero)
PROGRESS_EVERY = 25  # steps between progress reports
LOSS_SMOOTHING = 0.98


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 4000
    batch: int = 256
    seed: int = 0
    peak_lr: float = PEAK_LR
    warmup_fraction: float = WARMUP_FRACTION
    ema_decay: float = EMA_DECAY
    p_uncond: float = P_UNCOND


def edm_weight(sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    """λ(σ) = (σ² + σd²)/(σ·σd)²."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def edm_loss(model: EDMPrecond, z: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor,
             condition: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over the batch of λ(σ)·mean-over-dimensions ‖D(z + σε, σ, q) − z‖²."""
    denoised = model(z + sigma.reshape(-1, 1) * noise, sigma, condition)
    return (edm_weight(sigma, model.sigma_data) * ((denoised - z) ** 2).mean(dim=-1)).mean()


def cosine_regression_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (1.0 - F.cosine_similarity(predicted, target, dim=-1)).mean()


def mse_regression_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((predicted - target) ** 2).sum(dim=-1).mean()


REGRESSION_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cosine": cosine_regression_loss, "mse": mse_regression_loss}


def lr_factor(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up from 0, then cosine annealing to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, step: int, decay: float) -> None:
    rate = min(decay, (1.0 + step) / (EMA_WARMUP_STEPS + step))
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p, 1.0 - rate)


def _init_network(config: NetworkConfig, seed: int) -> ResidualMLP:
    """Weights that depend only on the seed, without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ResidualMLP(config)


def _fit(model: nn.Module, batch_loss: Callable[[torch.Tensor, torch.Generator], torch.Tensor], n: int,
         settings: TrainSettings, job: Job | None, stage: str) -> tuple[nn.Module, float]:
    """The shared loop: Adam + warm-up/cosine + EMA; returns (EMA model, smoothed final loss)."""
    job = job or Job()
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.peak_lr)
    warmup = max(1, int(settings.warmup_fraction * settings.steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: lr_factor(i, settings.steps, warmup))
    ema = copy.deepcopy(model).requires_grad_(False)
    smoothed = math.nan
    model.train()
    for step in range(settings.steps):
        job.checkpoint()
        indices = torch.randint(0, n, (settings.batch,), generator=generator)
        loss = batch_loss(indices, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        update_ema(ema, model, step, settings.ema_decay)
        value = loss.detach().item()
        if not math.isfinite(value):
            raise FloatingPointError(f"training diverged at step {step} (loss {value}): lower the peak lr")
        smoothed = value if math.isnan(smoothed) else LOSS_SMOOTHING * smoothed + (1 - LOSS_SMOOTHING) * value
        if step % PROGRESS_EVERY == 0 or step == settings.steps - 1:
            job.progress(stage, (step + 1) / settings.steps,
                         f"step {step + 1}/{settings.steps}, loss {smoothed:.4f}")
    return ema.eval(), smoothed


def _as_tensor(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.array(values, dtype=np.float32))  # a writable copy (catalogue arrays are read-only)


def train_prior(vectors: np.ndarray, conditions: np.ndarray | None = None, *, steps: int = 4000,
                batch: int = 256, seed: int = 0, job: Job | None = None, width: int | None = None,
                depth: int | None = None, settings: TrainSettings | None = None, encoder_id: str = "",
                encoder_version: str = "", library_generation: int | None = None) -> PriorCheckpoint:
    """Train a diffusion prior on embeddings (n, d), conditional when `conditions` (n, c) are given."""
    settings = replace(settings or TrainSettings(), steps=steps, batch=batch, seed=seed)
    z_all = _as_tensor(vectors)
    q_all = None if conditions is None else _as_tensor(conditions)
    if q_all is not None and len(q_all) != len(z_all):
        raise ValueError(f"{len(z_all)} embeddings but {len(q_all)} conditions")
    config = _config(z_all.shape[1], 0 if q_all is None else q_all.shape[1], width, depth)
    sigma_data = measure_sigma_data(z_all)
    model = EDMPrecond(_init_network(config, seed), sigma_data)

    def batch_loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = z_all[indices]
        u = torch.rand(len(z), generator=generator, dtype=torch.float64)
        sigma = training_sigmas(u, sigma_data).float()
        noise = torch.randn(z.shape, generator=generator)
        condition = None
        if q_all is not None:
            keep = torch.rand(len(z), 1, generator=generator) >= settings.p_uncond
            condition = q_all[indices] * keep
        return edm_loss(model, z, sigma, noise, condition)

    ema, final = _fit(model, batch_loss, len(z_all), settings, job, "train prior")
    return PriorCheckpoint(
        kind=KIND_DIFFUSION, config=config, state_dict=_copy_state(ema.net), sigma_data=sigma_data,
        encoder_id=encoder_id, encoder_version=encoder_version, library_generation=library_generation,
        data_fingerprint=data_fingerprint(vectors, conditions), trained_steps=settings.steps,
        final_loss=final, info=asdict(settings))


def train_regression(vectors: np.ndarray, conditions: np.ndarray, *, steps: int = 4000, batch: int = 256,
                     seed: int = 0, job: Job | None = None, width: int | None = None,
                     depth: int | None = None, loss: str = "mse", settings: TrainSettings | None = None,
                     encoder_id: str = "", encoder_version: str = "") -> PriorCheckpoint:
    """The deterministic baseline on the same network: condition → one embedding, MSE (or cosine) loss.

    For unit-norm targets both losses share the optimal direction, E[z | q]; the output layer starts small
    but not at zero, because the cosine's gradient is undefined at a zero prediction.
    """
    settings = replace(settings or TrainSettings(), steps=steps, batch=batch, seed=seed)
    z_all, q_all = _as_tensor(vectors), _as_tensor(conditions)
    if len(q_all) != len(z_all):
        raise ValueError(f"{len(z_all)} embeddings but {len(q_all)} conditions")
    config = _config(z_all.shape[1], q_all.shape[1], width, depth)
    net = _init_network(config, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        nn.init.normal_(net.output.weight, std=REGRESSION_INIT_STD / math.sqrt(config.width))
    model = Regressor(net)
    loss_fn = REGRESSION_LOSSES[loss]

    def batch_loss(indices: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return loss_fn(model(q_all[indices]), z_all[indices])

    ema, final = _fit(model, batch_loss, len(z_all), settings, job, "train regression")
    return PriorCheckpoint(
        kind=KIND_REGRESSION, config=config, state_dict=_copy_state(ema.net),
        sigma_data=measure_sigma_data(z_all), encoder_id=encoder_id, encoder_version=encoder_version,
        data_fingerprint=data_fingerprint(vectors, conditions), trained_steps=settings.steps,
        final_loss=final, info={**asdict(settings), "loss": loss})


def _config(dim: int, cond_dim: int, width: int | None, depth: int | None) -> NetworkConfig:
    config = NetworkConfig(dim=dim, cond_dim=cond_dim)
    return replace(config, width=width or config.width, depth=depth or config.depth)


def _copy_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
