"""The real `Service` in a real worker process, with a tiny randomly initialised CLAP (built from configs, no
download) as the library's encoder, and images through the offline encoder's colour/texture bridge into CLAP's
text space: every code path the desktop drives (index, search with images and signed steering, analyze,
export) runs for real, in seconds, on 2 busy cores. Start it with `--service tests.desktop.tiny_service:TinyService`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.encoders import registry
from worker.encoders.base import unit
from worker.encoders.clap import ClapEncoder
from worker.retrieval import priors
from worker.service import Service

SERVICE_SPEC = "tests.desktop.tiny_service:TinyService"
PRIOR_STEPS = 24  # enough for seeds that move with steering; the real default trains for minutes
PRIOR_WIDTH = 64
PRIOR_DEPTH = 2


class ImageClapEncoder(ClapEncoder):
    """Tiny CLAP plus the offline encoder's image bridge (image → anchor phrases → this model's text space)."""

    has_image = True

    def embed_image(self, images: Sequence[object]) -> np.ndarray:
        from worker.encoders.offline import image_bridge

        return unit(image_bridge.embed_images(images, lambda phrases: self.embed_text(phrases)))


def tiny_encoder() -> ImageClapEncoder:
    from tests.worker.encoders.tiny_models import tiny_clap

    model, processor = tiny_clap()
    return ImageClapEncoder.from_objects(model, processor, version="tiny-desktop-test")


class TinyService(Service):
    def __init__(self, library_dir: str | None = None, encoder: str | None = None, *, hold_write_lock: bool = False):
        registry._cache["clap"] = tiny_encoder()  # the library's encoder id resolves to this instance
        priors.TRAIN_STEPS, priors.TRAIN_WIDTH, priors.TRAIN_DEPTH = PRIOR_STEPS, PRIOR_WIDTH, PRIOR_DEPTH
        super().__init__(library_dir, "clap", hold_write_lock=hold_write_lock)
