"""`OfflineEncoder`: the embedded default. Audio through our audio tower, text through frozen MiniLM + our projection,
images through the transparent colour/texture bridge (CLIP is the real image encoder)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from worker.encoders.base import Encoder, EncoderError, unit
from worker.encoders.offline import features, image_bridge
from worker.encoders.offline.model import OfflineModel, load_weights

WEIGHTS = Path(__file__).parent / "weights" / "offline.pt"
AUDIO_BATCH = 32
MIN_SAMPLES = features.N_FFT


def weights_available(path: Path = WEIGHTS) -> bool:
    from worker.encoders.offline.text import minilm_available

    return path.exists() and minilm_available()


def file_tag(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class OfflineEncoder(Encoder):
    id = "offline"
    sample_rate = features.SAMPLE_RATE
    has_text = True
    has_image = True

    def __init__(self, weights: Path | str | None = None, model: OfflineModel | None = None) -> None:
        """Load the committed weights (or `weights`); `model` wraps an in-memory model (training, tests)."""
        if model is None:
            path = Path(weights) if weights else WEIGHTS
            if not path.exists():
                raise EncoderError(f"offline model weights missing at {path}; train them with "
                                   "`cuesteer train-offline-model`")
            model, meta = load_weights(path)
            self.version = f"{meta.get('tag', 'untagged')}-{file_tag(path)}"
        else:
            self.version = "in-memory"
        self.model = model.eval()
        self.dim = self.model.cfg.embed_dim
        self._text_cache: dict[str, np.ndarray] = {}

    @torch.no_grad()
    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Waves of equal length are batched together (index windows are); short ones are zero-padded."""
        out = np.zeros((len(waves), self.dim), np.float32)
        by_len: dict[int, list[int]] = defaultdict(list)
        for i, w in enumerate(waves):
            by_len[max(len(w), MIN_SAMPLES)].append(i)
        for length, idx in by_len.items():
            for s in range(0, len(idx), AUDIO_BATCH):
                chunk = idx[s:s + AUDIO_BATCH]
                x = features.batch_waves([waves[i] for i in chunk], length)
                out[chunk] = self.model.embed_waves(x).numpy()
        return unit(out)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        from worker.encoders.offline.text import shared_sentence_encoder

        missing = sorted({t for t in texts if t not in self._text_cache})
        if missing:
            sentence = torch.from_numpy(shared_sentence_encoder().encode(missing))
            self._text_cache.update(zip(missing, self.model.text(sentence).numpy(), strict=True))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return unit(np.stack([self._text_cache[t] for t in texts]))

    def embed_image(self, images: Sequence[object]) -> np.ndarray:
        """Colour/texture descriptors → anchor phrases → this model's text space (see image_bridge)."""
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return unit(image_bridge.embed_images(images, lambda p: self.embed_text(p)))

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "image_bridge": "colour/texture descriptors via anchor phrases; "
                "CLIP (`--encoder clip`) is the real image encoder"}
