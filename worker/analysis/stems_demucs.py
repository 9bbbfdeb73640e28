"""Demucs (`htdemucs`) stems when the package and its weights are installed; otherwise a clear error.

Demucs is optional (it is large and its weights are downloaded once, by `cuesteer models pull demucs`): the
import is guarded, and pretrained weights are only read from torch's hub cache — never downloaded here — so a
missing checkpoint fails at once with the commands that fix it. The separation path itself is tested with a
tiny randomly initialised HTDemucs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

BACKEND = "demucs"
DEFAULT_MODEL = "htdemucs"
INSTALL_HINT = (
    "Demucs stems need the demucs package and its weights: `pip install demucs`, then "
    "`cuesteer models pull demucs` (or use the offline HPSS stems)."
)


class DemucsUnavailable(RuntimeError):
    """Raised when Demucs stems were asked for but the package or its weights are missing."""


def demucs_available() -> bool:
    return importlib.util.find_spec("demucs") is not None


def require_demucs():
    """The demucs module, or DemucsUnavailable naming the install commands."""
    if not demucs_available():
        raise DemucsUnavailable(INSTALL_HINT)
    import demucs

    return demucs


def separate_demucs(
    samples: np.ndarray, sample_rate: int, *, model=None, model_name: str = DEFAULT_MODEL, shifts: int = 0
) -> dict[str, np.ndarray]:
    """Stems named by the model's sources, shaped like `samples`; the residual goes into "other"."""
    require_demucs()
    import soxr
    import torch
    from demucs.apply import apply_model

    if model is None:
        model = load_cached_model(model_name)
    samples = np.asarray(samples, np.float32)
    data = samples if samples.ndim == 2 else samples[:, None]
    wave = soxr.resample(data, sample_rate, model.samplerate) if sample_rate != model.samplerate else data
    wave = _match_channels(wave, model.audio_channels)
    mix = torch.from_numpy(np.ascontiguousarray(wave.T))
    ref = mix.mean(0)
    scale = float(ref.std()) or 1.0
    with torch.no_grad():
        sources = apply_model(model, ((mix - ref.mean()) / scale)[None], shifts=shifts, split=True)[0]
    sources = sources * scale + ref.mean()
    out: dict[str, np.ndarray] = {}
    for name, source in zip(model.sources, sources, strict=True):
        stem = source.numpy().T
        if sample_rate != model.samplerate:
            stem = soxr.resample(stem, model.samplerate, sample_rate)
        stem = _fit(_match_channels(stem, data.shape[1]), len(data))
        out[name] = stem if samples.ndim == 2 else stem[:, 0]
    residual = samples - sum(out.values())
    out["other"] = out.get("other", 0) + residual
    return out


def missing_checkpoints(model_name: str = DEFAULT_MODEL) -> list[Path]:
    """Checkpoint files of a pretrained Demucs bag that are not in torch's hub cache (empty when ready)."""
    import yaml
    from demucs import pretrained

    from worker.models.torch_hub import checkpoint_path

    bag = pretrained.REMOTE_ROOT / f"{model_name}.yaml"
    if not bag.exists():
        raise DemucsUnavailable(f"unknown Demucs model {model_name!r} (no {bag.name} in the demucs package)")
    urls = pretrained._parse_remote_files(pretrained.REMOTE_ROOT / "files.txt")
    signatures = yaml.safe_load(bag.read_text())["models"]
    files = [checkpoint_path(urls[sig].rsplit("/", 1)[-1]) for sig in signatures]
    return [f for f in files if not f.exists()]


def load_cached_model(model_name: str = DEFAULT_MODEL):
    """The pretrained bag, read from torch's hub cache only (DemucsUnavailable when a checkpoint is missing)."""
    require_demucs()
    missing = missing_checkpoints(model_name)
    if missing:
        raise DemucsUnavailable(f"{INSTALL_HINT} (missing weights: {', '.join(map(str, missing))})")
    from demucs import pretrained

    remote = pretrained.RemoteRepo(pretrained._parse_remote_files(pretrained.REMOTE_ROOT / "files.txt"))
    repo = pretrained.AnyModelRepo(remote, pretrained.BagOnlyRepo(pretrained.REMOTE_ROOT, remote))
    model = repo.get_model(model_name)
    model.eval()
    return model


def _match_channels(wave: np.ndarray, channels: int) -> np.ndarray:
    if wave.shape[1] == channels:
        return wave
    mono = wave.mean(axis=1, keepdims=True)
    return np.repeat(mono, channels, axis=1) if channels > 1 else mono


def _fit(wave: np.ndarray, length: int) -> np.ndarray:
    wave = wave[:length].astype(np.float32)
    return np.pad(wave, ((0, length - len(wave)), (0, 0))) if len(wave) < length else wave
