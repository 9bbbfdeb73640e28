"""`clip`: OpenAI CLIP (`openai/clip-vit-base-patch32` by default) through `transformers.CLIPModel`.

Embeds pictures (stills, video frames, file paths) and text into one space: picture queries and the
pseudo-pairs that condition the prior (descriptor phrases matched to tracks). It has no audio tower.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from worker.encoders import hf
from worker.encoders.base import Encoder, EncoderError, MissingTower, unit

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
LARGE_MODEL = "openai/clip-vit-large-patch14"
PULL_COMMAND = "cuesteer models pull clip"
LABEL = "CLIP"
DEFAULT_BATCH = 32  # images per forward pass


def clip_available(model_name: str = DEFAULT_MODEL) -> bool:
    """Whether the model is complete in the local cache (reads no weights, touches no network)."""
    return hf.available(model_name)


class ClipEncoder(Encoder):
    id = "clip"
    has_text = True
    has_image = True

    def __init__(self, model_name: str = DEFAULT_MODEL, device: str | None = None,
                 batch_size: int = DEFAULT_BATCH, revision: str = hf.DEFAULT_REVISION) -> None:
        from transformers import CLIPModel, CLIPProcessor

        pull = PULL_COMMAND if model_name == DEFAULT_MODEL else f"cuesteer models pull {model_name}"
        weights = hf.require(LABEL, model_name, pull, revision)
        model = hf.load_pretrained(CLIPModel, weights, LABEL, pull)
        processor = hf.load_pretrained(CLIPProcessor, weights, LABEL, pull)
        self._bind(model, processor, weights.version, device, batch_size)

    @classmethod
    def from_objects(cls, model: Any, processor: Any, *, version: str | None = None, device: str | None = None,
                     batch_size: int = DEFAULT_BATCH) -> ClipEncoder:
        """An encoder around a ready `CLIPModel` + `CLIPProcessor` (tests build tiny ones from configs)."""
        encoder = cls.__new__(cls)
        encoder._bind(model, processor, version or hf.object_version(model), device, batch_size)
        return encoder

    def _bind(self, model: Any, processor: Any, version: str, device: str | None, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = hf.pick_device(device)
        self.model = model.to(self.device).eval()
        self.image_processor = processor.image_processor
        self.tokenizer = processor.tokenizer
        self.version = version
        self.dim = int(model.config.projection_dim)
        self.batch_size = batch_size

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        raise MissingTower("the `clip` encoder embeds pictures and text, not audio: index music with `clap` "
                           "(or the offline default) and query it with CLIP through the prior")

    def embed_image(self, images: Sequence[object]) -> np.ndarray:
        """(n, dim) unit vectors for PIL images, image file paths or (H, W, 3) frames."""
        import torch

        if not images:
            return np.zeros((0, self.dim), np.float32)
        out = []
        for batch in hf.batched(list(images), self.batch_size):
            pixels = self.image_processor(images=[_rgb(image) for image in batch], return_tensors="pt")
            with torch.inference_mode():
                features = self.model.get_image_features(pixel_values=pixels["pixel_values"].to(self.device))
            out.append(hf.pooled(features).float().cpu().numpy())
        return unit(np.concatenate(out))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return hf.embed_text(self.model, self.tokenizer, texts, self.device, self.dim)


def _rgb(image: object) -> Any:
    """A PIL RGB image from a PIL image, a path or an (H, W[, 3|4]) array; unreadable input names itself."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as opened:
                return opened.convert("RGB")
        except (OSError, UnidentifiedImageError) as exc:
            raise EncoderError(f"cannot read the image {os.fspath(image)!r}: {exc}") from exc
    if isinstance(image, np.ndarray) and image.ndim in (2, 3):
        frame = image if image.dtype == np.uint8 else (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
        return Image.fromarray(frame).convert("RGB")
    raise EncoderError(f"cannot embed {type(image).__name__} as an image: pass a PIL image, a path or an "
                       "(H, W, 3) array")
