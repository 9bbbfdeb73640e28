"""The trainable parts: an audio tower and a text projection over frozen MiniLM.

Two audio towers: "stats" (an MLP over pooled log-mel statistics + the tempo autocorrelation; ≈0.6M
parameters, a few MFLOP per 10-s window) and "cnn" (a log-mel CNN + tempo branch; ≈1M parameters, ≈0.1 GFLOP).
Both are small so indexing on a laptop CPU runs hundreds of times faster than real time. Weights travel as one
`.pt` file holding the config and the state dict.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from worker.encoders.offline import features

TEXT_DIM = 384  # all-MiniLM-L6-v2 sentence embeddings


@dataclass(frozen=True)
class ModelConfig:
    tower: str = "stats"  # "stats": MLP over pooled log-mel statistics; "cnn": conv net (needs more compute)
    stats_features: str = "timbre"  # "basic": band statistics + tempo (the first weights); "timbre": + timbre
    stats_hidden: int = 512
    widths: tuple[int, ...] = (24, 48, 96, 192)
    rhythm_hidden: int = 64
    embed_dim: int = 256
    text_hidden: int = 512
    dropout: float = 0.1


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
    )


class AudioTower(nn.Module):
    """log-mel (B, M, T) → unit (B, embed_dim): conv blocks with 2×2 pooling, mean+max over time."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        w = cfg.widths
        self.norm = nn.BatchNorm2d(1)
        self.stem = nn.Sequential(nn.Conv2d(1, w[0], 5, stride=2, padding=2, bias=False),
                                  nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True))
        self.blocks = nn.ModuleList(_block(a, b) for a, b in zip(w[:-1], w[1:], strict=True))
        n_rhythm = len(features.RHYTHM_BANDS) * len(features.TEMPO_BPM)
        self.rhythm = nn.Sequential(nn.Linear(n_rhythm, cfg.rhythm_hidden), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(cfg.dropout),
                                  nn.Linear(2 * w[-1] + cfg.rhythm_hidden, cfg.embed_dim))

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.norm(logmel.unsqueeze(1))
        x = self.stem(x)
        for block in self.blocks:
            x = block(nn.functional.max_pool2d(x, 2, ceil_mode=True))
        x = x.mean(dim=2)  # pool frequency → (B, C, T)
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        r = self.rhythm(features.rhythm(logmel))
        return nn.functional.normalize(self.head(torch.cat([pooled, r], dim=1)), dim=-1)


def mel_statistics(logmel: torch.Tensor, kind: str = "timbre") -> torch.Tensor:
    """(B, stats_dim(kind)) pooled descriptors of a log-mel: per-band mean, spread, movement, peaks; the tempo
    autocorrelation; overall level and its variation; with kind "timbre" also `features.timbre`."""
    delta = (logmel[..., 1:] - logmel[..., :-1]).abs()
    level = logmel.mean(dim=1)  # (B, T) broadband level in bels
    parts = [logmel.mean(-1), logmel.std(-1), delta.mean(-1), logmel.amax(-1) - logmel.mean(-1),
             features.rhythm(logmel), torch.stack([level.mean(-1), level.std(-1)], dim=1)]
    if kind == "timbre":
        parts.append(features.timbre(logmel))
    return torch.cat(parts, dim=1)


STATS_DIM = 4 * features.N_MELS + len(features.RHYTHM_BANDS) * len(features.TEMPO_BPM) + 2  # kind "basic"
STATS_KINDS = {"basic": STATS_DIM, "timbre": STATS_DIM + features.TIMBRE_DIM}


class StatsTower(nn.Module):
    """log-mel (B, M, T) → unit (B, embed_dim): standardised pooled statistics through an MLP. Trains in
    minutes on a busy CPU, embeds at thousands × real time; the CNN is the option for more compute."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.kind = cfg.stats_features
        dim = STATS_KINDS[self.kind]
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        h = cfg.stats_hidden
        self.mlp = nn.Sequential(nn.Linear(dim, h), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(h, h),
                                 nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(h, cfg.embed_dim))

    def fit_normaliser(self, stats: torch.Tensor) -> None:
        self.mean.copy_(stats.mean(0))
        self.std.copy_(stats.std(0).clamp(min=1e-4))

    def forward_stats(self, stats: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.mlp((stats - self.mean) / self.std), dim=-1)

    def statistics(self, logmel: torch.Tensor) -> torch.Tensor:
        return mel_statistics(logmel, self.kind)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.forward_stats(self.statistics(logmel))


class TextProjection(nn.Module):
    """Frozen MiniLM sentence vectors (B, 384) → unit (B, embed_dim), residual over a linear map."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.linear = nn.Linear(TEXT_DIM, cfg.embed_dim)
        self.mlp = nn.Sequential(nn.Linear(TEXT_DIM, cfg.text_hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(cfg.text_hidden, cfg.embed_dim))

    def forward(self, sentence: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.linear(sentence) + self.mlp(sentence), dim=-1)


class OfflineModel(nn.Module):
    def __init__(self, cfg: ModelConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or ModelConfig()
        self.audio = StatsTower(self.cfg) if self.cfg.tower == "stats" else AudioTower(self.cfg)
        self.text = TextProjection(self.cfg)
        self.log_scale = nn.Parameter(torch.tensor(2.66))  # learned inverse temperature, exp(2.66) ≈ 1/0.07

    def embed_waves(self, waves: torch.Tensor) -> torch.Tensor:
        return self.audio(features.log_mel(waves))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def weights_blob(model: OfflineModel, meta: dict[str, object]) -> dict[str, object]:
    """What a weights file holds: config, state dict (float16 to halve the file) and free-form metadata."""
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    return {"config": asdict(model.cfg), "state": state, "meta": dict(meta)}


def save_weights(blob: dict[str, object], path: Path) -> None:
    """Atomic write of a weights blob."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(blob, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_weights(path: Path) -> tuple[OfflineModel, dict[str, object]]:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    cfg = blob["config"]
    cfg["widths"] = tuple(cfg["widths"])
    cfg.setdefault("stats_features", "basic")  # weights from before the timbre statistics
    model = OfflineModel(ModelConfig(**cfg))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()})
    model.eval()
    return model, dict(blob.get("meta", {}))
