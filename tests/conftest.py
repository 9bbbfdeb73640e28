"""Test-wide settings: no tokenizer thread pool (2 cores: it fights torch), Qt offscreen, no user library."""

from __future__ import annotations

import os

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
