"""Test-wide settings: no tokenizer thread pool (2 cores: it fights torch), Qt offscreen, no user library."""

from __future__ import annotations

import os
from collections.abc import Iterator

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's own library or caches."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CUESTEER_LIBRARY", str(home / "library"))
    monkeypatch.setenv("CUESTEER_CACHE", str(home / "cache"))


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Small models on 2 shared cores run faster on one torch thread (the pool's threads fight other work)."""
    import torch  # here, not at the top: desktop tests must not load torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
