"""The raw network F of the prior: a residual MLP whose blocks are modulated by noise level and condition.

Paper appendix A.1.1: a ResNet of 6 blocks (width 4096) and a final linear projection, the noise level
entering through an adaptive scaling layer as in Dhariwal & Nichol. Here each block is
h + W₂·SiLU(W₁·(LN(h)·(1 + scale) + shift)), where (scale, shift) are a linear map of an embedding of c_noise
plus the projected condition (AdaLN, as in DiT). Output layers start at zero, so an untrained F returns 0 and
the preconditioned denoiser starts as c_skip·z̃. The width default comes from `bench/prior_latency.py`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_WIDTH = 128  # bench/prior_latency.py: 4×128 makes the 60-ms steered query (45 ms CPU) and outscores 4×256
DEFAULT_DEPTH = 6  # residual blocks, as in the paper
DEFAULT_EMB_DIM = 256  # noise/condition embedding that drives the modulation
FOURIER_FEATURES = 32  # sin/cos pairs of c_noise
FOURIER_MIN_FREQ, FOURIER_MAX_FREQ = 0.25, 32.0  # cycles per unit of c_noise = ¼·log σ (range ≈ [-2.3, 0.5])


@dataclass(frozen=True)
class NetworkConfig:
    """Everything needed to rebuild the network; stored in checkpoints as a plain dict."""

    dim: int  # embedding dimension of the audio space
    cond_dim: int = 0  # condition (query) dimension; 0 = unconditional prior
    width: int = DEFAULT_WIDTH
    depth: int = DEFAULT_DEPTH
    emb_dim: int = DEFAULT_EMB_DIM

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, int]) -> NetworkConfig:
        return cls(**{k: int(v) for k, v in values.items()})


Modulation = list[tuple[torch.Tensor, torch.Tensor]]
"""(gain = 1 + scale, shift) of each residual block, then of the output layer."""


class FourierFeatures(nn.Module):
    """c_noise → [c_noise, sin(2πf·c), cos(2πf·c)] at fixed log-spaced frequencies."""

    def __init__(self, pairs: int = FOURIER_FEATURES):
        super().__init__()
        freqs = torch.exp(torch.linspace(math.log(FOURIER_MIN_FREQ), math.log(FOURIER_MAX_FREQ), pairs))
        self.register_buffer("freqs", 2.0 * math.pi * freqs, persistent=False)
        self.out_dim = 2 * pairs + 1

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        angles = c.reshape(-1, 1) * self.freqs
        return torch.cat([c.reshape(-1, 1), angles.sin(), angles.cos()], dim=-1)


class ModulatedBlock(nn.Module):
    """One residual block with adaptive scale/shift of its normalised input."""

    def __init__(self, width: int, emb_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.modulation = nn.Linear(emb_dim, 2 * width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        for layer in (self.modulation, self.fc2):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, h: torch.Tensor, gain: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """gain = 1 + scale and shift come from `self.modulation` (ResidualMLP.modulation computes them)."""
        return h + self.fc2(F.silu(self.fc1(torch.addcmul(shift, self.norm(h), gain))))


class ResidualMLP(nn.Module):
    """F(x, c_noise, condition) → (b, dim); c_noise (b,) or (1,); condition (b|1, cond_dim), None = zeros."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        self.features = FourierFeatures()
        self.noise_mlp = nn.Sequential(nn.Linear(self.features.out_dim, config.emb_dim), nn.SiLU(),
                                       nn.Linear(config.emb_dim, config.emb_dim))
        self.cond_proj = nn.Linear(config.cond_dim, config.emb_dim) if config.cond_dim else None
        self.input = nn.Linear(config.dim, config.width)
        self.blocks = nn.ModuleList(ModulatedBlock(config.width, config.emb_dim) for _ in range(config.depth))
        self.out_norm = nn.LayerNorm(config.width, elementwise_affine=False)
        self.out_modulation = nn.Linear(config.emb_dim, 2 * config.width)
        self.output = nn.Linear(config.width, config.dim)
        for layer in (self.out_modulation, self.output):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def embed(self, c_noise: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """The modulation input, one row per distinct (noise level, condition): (1, E) when shared."""
        emb = self.noise_mlp(self.features(c_noise))
        if self.cond_proj is not None:
            emb = emb + (self.cond_proj.bias if condition is None else self.cond_proj(condition))
        return F.silu(emb)

    def _modulation_layers(self) -> list[nn.Linear]:
        return [*(block.modulation for block in self.blocks), self.out_modulation]

    def modulation(self, c_noise: torch.Tensor, condition: torch.Tensor | None) -> Modulation:
        """(gain = 1 + scale, shift) of every block and of the output layer for one noise level (or one per row)."""
        emb = self.embed(c_noise, condition)
        return [(1.0 + scale, shift) for scale, shift in (layer(emb).chunk(2, dim=-1)
                                                          for layer in self._modulation_layers())]

    def modulation_grid(self, c_noise: torch.Tensor, condition: torch.Tensor | None) -> list[Modulation]:
        """`modulation` for each of S noise levels (c_noise (S,)) and a shared condition (g, c) or None, computed
        in one pass per layer: a sampler's grid is known before its first step, and on a CPU a step pays per
        operation, not per row."""
        emb = self.noise_mlp(self.features(c_noise)).unsqueeze(1)  # (S, 1, E)
        if self.cond_proj is not None:
            emb = emb + (self.cond_proj.bias if condition is None else self.cond_proj(condition))
        emb = F.silu(emb)  # (S, g, E)
        layers = [layer(emb).chunk(2, dim=-1) for layer in self._modulation_layers()]
        gains = [1.0 + scale for scale, _ in layers]
        return [[(gain[i], shift[i]) for gain, (_, shift) in zip(gains, layers, strict=True)]
                for i in range(len(c_noise))]

    def trunk(self, x: torch.Tensor, modulation: Modulation) -> torch.Tensor:
        """F given its modulation, whose rows are 1 (shared), one per row of x, or g < b groups of b/g contiguous
        rows each (CFG's two branches): the modulation is then computed once per group instead of once per row."""
        groups = modulation[0][0].shape[0]
        h = self.input(x)
        if groups not in (1, len(x)):
            if len(x) % groups:
                raise ValueError(f"{len(x)} rows cannot share {groups} condition rows in equal groups")
            h = h.reshape(groups, -1, h.shape[-1])
            modulation = [(gain.unsqueeze(1), shift.unsqueeze(1)) for gain, shift in modulation]
        for block, (gain, shift) in zip(self.blocks, modulation, strict=False):
            h = block(h, gain, shift)
        gain, shift = modulation[-1]
        out = self.output(torch.addcmul(shift, self.out_norm(h), gain))
        return out.reshape(len(x), -1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, condition: torch.Tensor | None = None
                ) -> torch.Tensor:
        return self.trunk(x, self.modulation(c_noise, condition))


class Regressor(nn.Module):
    """The deterministic baseline: the same network with no noise, condition → one embedding (paper §3.3)."""

    def __init__(self, net: ResidualMLP):
        super().__init__()
        self.net = net

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        x = condition.new_zeros(condition.shape[0], self.net.config.dim)
        return self.net(x, condition.new_zeros(1), condition)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
