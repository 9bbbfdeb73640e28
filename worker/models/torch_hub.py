"""Demucs weights in torch's hub cache (`$TORCH_HOME/hub/checkpoints/`), where `demucs.pretrained` looks.

torch hub checkpoint names end in the first hex digits of the file's sha256 (`955717e8-8726e21a.th`), which is
the checksum `verify` checks. Downloads resume (see `http_download`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from worker.models.checksums import Expected

HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # torch.hub's HASH_REGEX


def hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub, else $XDG_CACHE_HOME/torch/hub."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "torch")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def checkpoint_path(file_name: str) -> Path:
    return hub_dir() / "checkpoints" / file_name


def expected_hash(file_name: str) -> Expected | None:
    match = HASH_IN_NAME.search(file_name)
    return Expected("sha256-prefix", match.group(1)) if match else None
