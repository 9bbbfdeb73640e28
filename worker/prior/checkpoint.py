"""A trained prior (or regression baseline) as one value, and its file: weights, config, σd, provenance.

A checkpoint is tied to the encoder whose space it models (id + version) and records the library generation
and a fingerprint of the data it was trained on, so a stale prior is detected instead of silently used.
`save_checkpoint` writes atomically (temp file + os.replace); building the module is separate from loading.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from worker.prior.network import NetworkConfig, Regressor, ResidualMLP
from worker.prior.precond import EDMPrecond

FORMAT_VERSION = 1
KIND_DIFFUSION = "diffusion"
KIND_REGRESSION = "regression"


@dataclass
class PriorCheckpoint:
    kind: str  # KIND_DIFFUSION or KIND_REGRESSION
    config: NetworkConfig
    state_dict: dict[str, torch.Tensor]  # EMA weights of the raw network
    sigma_data: float
    encoder_id: str = ""
    encoder_version: str = ""
    library_generation: int | None = None  # None: trained on data not tied to one library state (pairs)
    data_fingerprint: str = ""
    trained_steps: int = 0
    final_loss: float = math.nan
    info: dict[str, float | int | str] = field(default_factory=dict)  # training settings, for the record


def data_fingerprint(vectors: np.ndarray, conditions: np.ndarray | None = None) -> str:
    """sha256 of the training arrays (as float32, with their shapes)."""
    digest = hashlib.sha256()
    for array in (vectors, conditions):
        if array is None:
            digest.update(b"none")
            continue
        values = np.ascontiguousarray(array, dtype=np.float32)
        digest.update(repr(values.shape).encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def stale_reason(checkpoint: PriorCheckpoint, encoder_id: str, encoder_version: str,
                 library_generation: int | None = None) -> str | None:
    """Why this checkpoint should not serve the current library, or None when it fits."""
    if (checkpoint.encoder_id, checkpoint.encoder_version) != (encoder_id, encoder_version):
        return (f"the prior was trained on `{checkpoint.encoder_id}` {checkpoint.encoder_version} "
                f"embeddings, the library uses `{encoder_id}` {encoder_version}: run `cuesteer prior train`")
    if (checkpoint.library_generation is not None and library_generation is not None
            and checkpoint.library_generation != library_generation):
        return (f"the library changed since the prior was trained (generation "
                f"{checkpoint.library_generation} → {library_generation}): "
                "run `cuesteer prior train` to include the new tracks")
    return None


def is_stale(checkpoint: PriorCheckpoint, encoder_id: str, encoder_version: str,
             library_generation: int | None = None) -> bool:
    return stale_reason(checkpoint, encoder_id, encoder_version, library_generation) is not None


def build_model(checkpoint: PriorCheckpoint) -> nn.Module:
    """The frozen module for inference: EDMPrecond (diffusion) or Regressor (regression), in eval mode."""
    net = ResidualMLP(checkpoint.config)
    net.load_state_dict(checkpoint.state_dict)
    model: nn.Module = (EDMPrecond(net, checkpoint.sigma_data) if checkpoint.kind == KIND_DIFFUSION
                        else Regressor(net))
    return model.eval().requires_grad_(False)


def _to_payload(checkpoint: PriorCheckpoint) -> dict:
    return {"format_version": FORMAT_VERSION, "kind": checkpoint.kind, "config": checkpoint.config.to_dict(),
            "state_dict": checkpoint.state_dict, "sigma_data": checkpoint.sigma_data,
            "encoder_id": checkpoint.encoder_id, "encoder_version": checkpoint.encoder_version,
            "library_generation": checkpoint.library_generation,
            "data_fingerprint": checkpoint.data_fingerprint,
            "trained_steps": checkpoint.trained_steps, "final_loss": checkpoint.final_loss,
            "info": dict(checkpoint.info)}


def save_checkpoint(checkpoint: PriorCheckpoint, path: str | os.PathLike[str]) -> Path:
    """Write atomically: a temp file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(_to_payload(checkpoint), handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class CheckpointError(Exception):
    """A checkpoint file cannot be used; the message says what to do."""


def load_checkpoint(path: str | os.PathLike[str]) -> PriorCheckpoint:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"cannot read the prior checkpoint {path} ({exc}): "
                              "run `cuesteer prior train` to make a new one") from exc
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        found = payload.get("format_version") if isinstance(payload, dict) else None
        raise CheckpointError(f"{path} has checkpoint format {found}, this version reads {FORMAT_VERSION}: "
                              "run `cuesteer prior train`")
    return PriorCheckpoint(kind=payload["kind"], config=NetworkConfig.from_dict(payload["config"]),
                           state_dict=payload["state_dict"], sigma_data=float(payload["sigma_data"]),
                           encoder_id=payload["encoder_id"], encoder_version=payload["encoder_version"],
                           library_generation=payload["library_generation"],
                           data_fingerprint=payload["data_fingerprint"],
                           trained_steps=payload["trained_steps"],
                           final_loss=float(payload["final_loss"]), info=dict(payload["info"]))
