"""Demucs weights in torch's hub cache (`$TORCH_HOME/hub/checkpoints/`), where `demucs.pretrained` looks.

torch hub checkpoint names end in the first hex digits of the file's sha256 (`955717e8-8726e21a.th`), which is
the checksum `verify` checks. Downloads go to `NAME.partial` and resume from its length with an HTTP Range
request, then are renamed into place once the hash matches.
"""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

from worker.models.checksums import Expected

HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")  # torch.hub's HASH_REGEX
PARTIAL_SUFFIX = ".partial"
CHUNK = 1 << 20
TIMEOUT_S = 60
HTTP_PARTIAL_CONTENT = 206

OnBytes = Callable[[int, int], None]  # (bytes so far, total bytes or 0)


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


def download(url: str, target: Path, on_bytes: OnBytes | None = None) -> Path:
    """Fetch `url` into `target`, resuming a previous `target.partial`; atomic rename at the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if have and response.status != HTTP_PARTIAL_CONTENT:  # the server ignored Range: start over
            have = 0
        length = int(response.headers.get("Content-Length") or 0)
        total = have + length if length else 0
        with open(partial, "ab" if have else "wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                have += len(chunk)
                if on_bytes:
                    on_bytes(have, total)
    os.replace(partial, target)
    return target
