"""The one place that reads configuration from the environment and holds product-wide defaults."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

APP_NAME = "cuesteer"
WINDOW_SECONDS = 10.0  # CLAP's receptive field; one vector per window
HOP_SECONDS = 5.0
BATCH_TRACKS = 16  # tracks per committed batch while indexing
# Below this much to embed, starting worker processes (~0.5-2 s) costs more than it saves: threads do it.
PROCESS_POOL_MIN_BYTES = 16 * 1024 * 1024


def library_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--library` wins, then $CUESTEER_LIBRARY, then the platform data dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("CUESTEER_LIBRARY")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir(APP_NAME)) / "library"


def cache_dir() -> Path:
    return Path(os.environ.get("CUESTEER_CACHE") or user_cache_dir(APP_NAME))


def corpus_dir() -> Path:
    return Path(os.environ.get("CUESTEER_CORPUS") or Path.home() / ".cache" / "cuesteer-corpus")
