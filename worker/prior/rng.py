"""Injected randomness: one generator per sample, so a seed reproduces its sample whatever shares the batch.

After NVlabs/edm's `StackedRandomGenerator`: row i of every draw comes from torch.Generator(seed_i), so the
seed recorded with a result is enough to regenerate it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class StackedRandomGenerator:
    """Draws (n, ...) normals whose row i depends only on seeds[i] and how many draws came before."""

    def __init__(self, seeds: Sequence[int], device: torch.device | str = "cpu"):
        self.seeds = [int(s) for s in seeds]
        self.generators = [torch.Generator(device).manual_seed(s) for s in self.seeds]

    def randn(self, size: Sequence[int], dtype: torch.dtype = torch.float32,
              device: torch.device | str = "cpu") -> torch.Tensor:
        if size[0] != len(self.generators):
            raise ValueError(f"asked for {size[0]} rows from {len(self.generators)} seeds")
        return torch.stack([torch.randn(tuple(size[1:]), generator=g, dtype=dtype, device=device)
                            for g in self.generators])

    def randn_like(self, x: torch.Tensor) -> torch.Tensor:
        return self.randn(x.shape, dtype=x.dtype, device=x.device)
