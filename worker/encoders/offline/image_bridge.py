"""Images offline, transparently: five colour/texture descriptors of a picture choose weighted anchor phrases,
and the picture's embedding is the weighted mean of those phrases' text embeddings.

This is a bridge, not an image model: it knows "dark, cold, busy" from pixels, never what is in the picture.
CLIP (`--encoder clip`, weights pulled once) is the real image encoder; the UI and docs say so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

THUMB = 128  # pixels on the long side: descriptors need no detail
# (descriptor, low-end phrase, high-end phrase): each descriptor in [0, 1] weighs its two anchors
ANCHORS: tuple[tuple[str, str, str], ...] = (
    ("brightness", "dark, slow, minor key, low register", "bright, major key, high register"),
    ("warmth", "cold, synth pad, sparse", "warm, acoustic guitar, strings"),
    ("saturation", "soft, solo piano", "loud, ensemble with drums"),
    ("contrast", "soft, gentle, no drums", "loud, forceful, drums"),
    ("edges", "slow, sparse, ambient pad, no drums", "fast, dense, busy, drums"),
)
SHARPNESS = 4.0  # how strongly a descriptor far from 0.5 favours its anchor


def load_rgb(image: object) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] from a PIL image, a path or an array, reduced to a thumbnail."""
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        with Image.open(image) as im:
            pil = im.convert("RGB")
    elif isinstance(image, Image.Image):
        pil = image.convert("RGB")
    else:
        arr = np.asarray(image)
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        arr = arr[..., :3]
        if arr.dtype != np.uint8:
            arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        pil = Image.fromarray(arr)
    pil.thumbnail((THUMB, THUMB))
    return np.asarray(pil, dtype=np.float32) / 255.0


def descriptors(rgb: np.ndarray) -> dict[str, float]:
    """Brightness, warmth, saturation, contrast and edge density, each scaled to about [0, 1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    saturation = np.where(mx > 1e-6, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    gy, gx = np.gradient(luma)
    edges = float((np.hypot(gx, gy) > 0.08).mean())
    return {
        "brightness": float(luma.mean()),
        "warmth": float(np.clip(0.5 + (r.mean() - b.mean()), 0.0, 1.0)),
        "saturation": float(saturation.mean()),
        "contrast": float(np.clip(luma.std() * 3.0, 0.0, 1.0)),
        "edges": float(np.clip(edges * 4.0, 0.0, 1.0)),
    }


def anchor_weights(desc: dict[str, float]) -> list[tuple[str, float]]:
    """Each descriptor's two anchor phrases with weights that grow as it moves away from the middle."""
    out = []
    for name, low, high in ANCHORS:
        d = desc[name] - 0.5
        out.append((high if d > 0 else low, float(np.tanh(SHARPNESS * abs(d)))))
    return out


def bridge_vector(desc: dict[str, float], phrase_vectors: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted mean of anchor-phrase embeddings (not normalised here)."""
    total = np.zeros_like(next(iter(phrase_vectors.values())))
    for phrase, w in anchor_weights(desc):
        total = total + w * phrase_vectors[phrase]
    return total


def all_phrases() -> list[str]:
    return sorted({p for _, low, high in ANCHORS for p in (low, high)})


def embed_images(images: Sequence[object], embed_text) -> np.ndarray:
    """(n, dim) vectors for images through the text tower `embed_text(list[str]) -> (m, dim)`."""
    phrases = all_phrases()
    vecs = dict(zip(phrases, embed_text(phrases), strict=True))
    return np.stack([bridge_vector(descriptors(load_rgb(im)), vecs) for im in images])
