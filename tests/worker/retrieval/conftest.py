"""A small indexed library shared by the retrieval tests: six synthesised tracks embedded by a tiny randomly
initialised CLAP (the real encoder code path, no download), and a tiny CLIP for picture conditions.

One torch thread: on two busy cores a thread pool makes these tiny matrix products many times slower.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from tests.media import clicks, tone, write
from worker.encoders import registry
from worker.jobs import Job
from worker.service import Service

TRACKS = 6


@pytest.fixture(autouse=True, scope="module")
def one_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (tests/conftest.py says why)."""


@pytest.fixture(scope="session")
def encoders() -> Iterator[None]:
    """Tiny CLAP (library) and CLIP (conditions) under their registry names, as the service resolves them."""
    from tests.worker.encoders.tiny_models import tiny_clap, tiny_clip
    from worker.encoders.clap import ClapEncoder
    from worker.encoders.clip import ClipEncoder

    registry._cache["clap"] = ClapEncoder.from_objects(*tiny_clap())
    registry._cache["clip"] = ClipEncoder.from_objects(*tiny_clip())
    yield
    registry._cache.pop("clap", None)
    registry._cache.pop("clip", None)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, encoders) -> Iterator[Service]:
    torch.set_num_threads(1)
    music = tmp_path_factory.mktemp("music")
    for i in range(TRACKS):
        wave = tone(11.0, 22050, 150.0 * (i + 1), noise=0.02 * (i % 3), seed=i)
        if i % 2:
            wave = wave + clicks(11.0, 70 + 12 * i, seed=i)
        write(music / f"t{i:02d}.wav", wave.astype(np.float32))
    svc = Service(tmp_path_factory.mktemp("lib"), encoder="clap")
    svc.index(job=Job(), paths=[str(music)])
    yield svc
    svc.close()
