"""Offline access to Hugging Face model weights for the real-model encoders (`clap`, `clip`).

Weights are fetched once (`cuesteer models pull NAME`) into the user's Hugging Face cache and afterwards
loaded from the local snapshot folder with `local_files_only=True`, so an encoder never touches the network.
The cache location is read from the environment at call time (HF_HUB_CACHE, then HF_HOME/hub, then
XDG_CACHE_HOME/huggingface/hub), the same precedence huggingface_hub uses, so tests and users can redirect it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from worker.encoders.base import Encoder, EncoderError, unit

CONFIG_FILE = "config.json"
# Any one of these next to config.json means the weights themselves are present.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
# A processor needs its preprocessing config and its tokenizer's vocabulary: transformers 5 silently builds
# default or empty ones when these files are absent, which would give quietly wrong vectors. Each group is a set
# of alternatives, each alternative a tuple of files that must all be present.
PROCESSOR_FILES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("preprocessor_config.json",), ("processor_config.json",)),
    (("tokenizer.json",), ("vocab.json", "merges.txt")),
)
DEFAULT_REVISION = "main"
OFFLINE_ENV = "HF_HUB_OFFLINE"
TRUE_VALUES = ("1", "true", "yes", "on")
# Pulls skip other frameworks' copies of the same weights (TF, Flax, ONNX, ...).
PULL_IGNORE = ("*.h5", "*.msgpack", "*.onnx", "*.ot", "tf_model*", "flax_model*", "rust_model*", "*.tflite")

# The tokenizers thread pool and torch fight over few cores (100x slow-downs were seen); torch's threads win.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TEXT_BATCH = 64  # phrases per forward pass of a text tower

T = TypeVar("T")


@dataclass(frozen=True)
class LocalWeights:
    """One model's snapshot in the local cache: where it is and which commit it is."""

    repo_id: str
    commit: str
    path: Path

    @property
    def version(self) -> str:
        """Model name + revision: stored with every vector so embedding spaces are never mixed."""
        return f"{self.repo_id}@{self.commit}"


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, resolved from the environment now (not at import time)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = os.environ.get("HF_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in TRUE_VALUES


def locate(repo_id: str, revision: str = DEFAULT_REVISION, cache_dir: Path | None = None) -> LocalWeights | None:
    """The cached snapshot of `repo_id` holding a config and weights, or None. Cheap: reads no weights."""
    from huggingface_hub import try_to_load_from_cache

    cache = cache_dir or hub_cache_dir()
    config = try_to_load_from_cache(repo_id, CONFIG_FILE, cache_dir=cache, revision=revision)
    if not isinstance(config, str):  # None or the "known not to exist" marker
        return None
    snapshot = Path(config).parent
    if not any((snapshot / name).is_file() for name in WEIGHT_FILES):
        return None
    return LocalWeights(repo_id=repo_id, commit=snapshot.name, path=snapshot)


def available(repo_id: str, revision: str = DEFAULT_REVISION) -> bool:
    """Config, weights and processor files all cached: the model would load offline."""
    weights = locate(repo_id, revision)
    return weights is not None and not missing_files(weights.path)


def missing_files(snapshot: Path, groups: tuple[tuple[tuple[str, ...], ...], ...] = PROCESSOR_FILES
                  ) -> list[str]:
    """For each group none of whose alternatives is complete in `snapshot`, a description of what is missing."""
    missing = []
    for group in groups:
        if not any(all((snapshot / name).is_file() for name in option) for option in group):
            missing.append(" or ".join(" + ".join(option) for option in group))
    return missing


def missing_message(label: str, repo_id: str, pull_command: str, cache_dir: Path | None = None) -> str:
    cache = cache_dir or hub_cache_dir()
    offline = f" ({OFFLINE_ENV} is set, so nothing is downloaded)" if hub_offline() else ""
    return (f"{label} weights `{repo_id}` are not in the Hugging Face cache at {cache}{offline}. "
            f"Fetch them once (needs internet) with: {pull_command} — after that cuesteer runs fully offline.")


def require(label: str, repo_id: str, pull_command: str, revision: str = DEFAULT_REVISION) -> LocalWeights:
    """The cached snapshot, or one clear EncoderError that names the command fetching it."""
    weights = locate(repo_id, revision)
    if weights is None:
        raise EncoderError(missing_message(label, repo_id, pull_command))
    return weights


def load_pretrained(cls: type[T], weights: LocalWeights, label: str, pull_command: str, **kwargs: Any) -> T:
    """`cls.from_pretrained` on the local snapshot folder only; an incomplete snapshot names the fix."""
    missing = missing_files(weights.path)
    if missing:
        raise EncoderError(f"{label} weights `{weights.repo_id}` in {weights.path} are incomplete (no "
                           f"{'; no '.join(missing)}). Fetch them again with: {pull_command}")
    try:
        return cls.from_pretrained(str(weights.path), local_files_only=True, **kwargs)  # type: ignore[attr-defined]
    except Exception as exc:  # OSError, ValueError, SafetensorError, unpickling errors: all mean "fetch again"
        raise EncoderError(f"{label} weights `{weights.repo_id}` in {weights.path} are incomplete or damaged "
                           f"({exc}). Fetch them again with: {pull_command}") from exc


def pull(repo_id: str, revision: str = DEFAULT_REVISION) -> LocalWeights:
    """Download a model into the cache (huggingface_hub shows progress); refuses while HF_HUB_OFFLINE is set."""
    if hub_offline():
        raise EncoderError(f"cannot download `{repo_id}`: {OFFLINE_ENV} is set. Unset it (and connect to the "
                           "internet) for this one download.")
    from huggingface_hub import snapshot_download

    cache = hub_cache_dir()
    snapshot_download(repo_id, revision=revision, cache_dir=cache, ignore_patterns=list(PULL_IGNORE))
    weights = locate(repo_id, revision, cache)
    if weights is None:
        raise EncoderError(f"downloaded `{repo_id}` but found no config and weights in {cache}")
    return weights


def pick_device(explicit: str | None = None) -> str:
    """`explicit` wins; otherwise the fastest present: cuda, then Apple's mps, then cpu."""
    if explicit:
        return explicit
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pooled(output: Any) -> Any:
    """The feature tensor of `get_*_features`: transformers 4 returns it, 5 wraps it in `pooler_output`."""
    return output if hasattr(output, "shape") else output.pooler_output


def embed_text(model: Any, tokenizer: Any, texts: Sequence[str], device: str, dim: int,
               batch_size: int = TEXT_BATCH) -> np.ndarray:
    """(n, dim) unit vectors from a CLAP/CLIP-style text tower (`get_text_features`), padded per batch."""
    import torch

    if not texts:
        return np.zeros((0, dim), np.float32)
    out = []
    for batch in batched(list(texts), batch_size):
        tokens = tokenizer(list(batch), padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            features = model.get_text_features(input_ids=tokens["input_ids"].to(device),
                                               attention_mask=tokens["attention_mask"].to(device))
        out.append(pooled(features).float().cpu().numpy())
    return unit(np.concatenate(out))


def object_version(model: Any) -> str:
    """Version of a model built in memory: its name + commit when loaded, else a hash of its weights."""
    config = model.config
    name = getattr(config, "name_or_path", "") or getattr(config, "_name_or_path", "") or "in-memory"
    commit = getattr(config, "_commit_hash", None)
    if not commit:
        digest = hashlib.sha256()
        for key, tensor in sorted(model.state_dict().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
        commit = "sha256:" + digest.hexdigest()[:16]
    return f"{name}@{commit}"


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class PretrainedEncoder(Encoder):
    """A `transformers` model + processor loaded offline from the user's cache (or given ready-made): what
    `clap` and `clip` share. Subclasses name their classes and defaults and take what they need from the
    processor in `_bind_processor`."""

    label: str
    default_model: str
    pull_command: str
    model_class: str  # names in `transformers`, imported only when real weights load
    processor_class: str
    default_batch: int

    def __init__(self, model_name: str | None = None, device: str | None = None, batch_size: int | None = None,
                 revision: str = DEFAULT_REVISION) -> None:
        import transformers

        model_name = model_name or self.default_model
        pull = self.pull_command if model_name == self.default_model else f"cuesteer models pull {model_name}"
        weights = require(self.label, model_name, pull, revision)
        model = load_pretrained(getattr(transformers, self.model_class), weights, self.label, pull)
        processor = load_pretrained(getattr(transformers, self.processor_class), weights, self.label, pull)
        self._bind(model, processor, weights.version, device, batch_size)

    @classmethod
    def from_objects(cls, model: Any, processor: Any, *, version: str | None = None, device: str | None = None,
                     batch_size: int | None = None) -> Any:
        """An encoder around a ready model + processor (tests build tiny ones from configs)."""
        encoder = cls.__new__(cls)
        encoder._bind(model, processor, version or object_version(model), device, batch_size)
        return encoder

    def _bind(self, model: Any, processor: Any, version: str, device: str | None, batch_size: int | None) -> None:
        batch_size = self.default_batch if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = processor.tokenizer
        self.version = version
        self.dim = int(model.config.projection_dim)
        self.batch_size = batch_size
        self._bind_processor(processor)

    def _bind_processor(self, processor: Any) -> None:
        """Keep what this model's inputs need from its processor."""
