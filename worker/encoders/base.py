"""The one encoder interface (DESIGN §5): unit-norm float32 embeddings of audio windows, texts and images.

Every encoder has an id and a version that are stored with the vectors it made, so embedding spaces are never
mixed. Towers an encoder lacks raise `MissingTower` with a message saying which encoder has one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class EncoderError(Exception):
    """An encoder cannot be used (weights missing, wrong input); the message names the fix."""


class MissingTower(EncoderError):
    """The active encoder cannot embed this modality (e.g. text with the `descriptor` encoder)."""


class Encoder(ABC):
    id: str = ""
    version: str = ""
    dim: int = 0
    sample_rate: int = 16_000  # rate embed_audio expects its waves at
    has_text: bool = False
    has_image: bool = False

    @abstractmethod
    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) unit vectors for n mono float32 waves at `sample_rate`."""

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        raise MissingTower(
            f"the `{self.id}` encoder has no text tower: text search needs an encoder that embeds text "
            "(the offline default `offline` or `clap`); index with `--encoder offline` or `--encoder clap`"
        )

    def embed_image(self, images: Sequence[object]) -> np.ndarray:
        raise MissingTower(f"the `{self.id}` encoder cannot embed images; use `clip` (or the offline image bridge)")

    def describe(self) -> dict[str, object]:
        return {"id": self.id, "version": self.version, "dim": self.dim, "sample_rate": self.sample_rate,
                "text": self.has_text, "image": self.has_image}


def unit(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero) as float32."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)
