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
from worker.encoders.base import EncoderError, MissingTower, unit

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
LARGE_MODEL = "openai/clip-vit-large-patch14"
PULL_COMMAND = "cuesteer models pull clip"
LABEL = "CLIP"
DEFAULT_BATCH = 32  # images per forward pass


def clip_available(model_name: str = DEFAULT_MODEL) -> bool:
    """Whether the model is complete in the local cache (reads no weights, touches no network)."""
    return hf.available(model_name)


class ClipEncoder(hf.PretrainedEncoder):
    id = "clip"
    has_text = True
    has_image = True
    label = LABEL
    default_model = DEFAULT_MODEL
    pull_command = PULL_COMMAND
    model_class = "CLIPModel"
    processor_class = "CLIPProcessor"
    default_batch = DEFAULT_BATCH

    def _bind_processor(self, processor: Any) -> None:
        self.image_processor = processor.image_processor

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
