"""One resumable HTTP download: bytes go to `TARGET.incomplete`, a rerun continues from its length with a
Range request, and only a finished file is renamed into place. Shared by Hub files and torch-hub checkpoints.

(`huggingface_hub` 1.x+ downloads into a fresh per-process temp file, so an interrupted multi-GB pull would
start from zero; this keeps what was fetched.)
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

PARTIAL_SUFFIX = ".incomplete"
CHUNK = 1 << 20
TIMEOUT_S = 60
HTTP_PARTIAL_CONTENT = 206
HTTP_RANGE_NOT_SATISFIABLE = 416
USER_AGENT = "cuesteer-models/1"

OnBytes = Callable[[int, int], None]  # (bytes so far, total bytes or 0 when unknown)


def partial_path(target: Path) -> Path:
    return target.with_name(target.name + PARTIAL_SUFFIX)


def download(url: str, target: Path, on_bytes: OnBytes | None = None, size: int | None = None) -> Path:
    """Fetch `url` into `target`, resuming `target.incomplete`; atomic rename at the end.

    `size`, when known, lets a complete partial file be finished without a request."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    have = partial.stat().st_size if partial.exists() else 0
    if size is not None and have > size:  # not ours to continue: start again
        have = 0
    if size is None or have < size:
        have = _fetch(url, partial, have, on_bytes)
    if on_bytes:
        on_bytes(have, size or have)
    os.replace(partial, target)
    return target


def _fetch(url: str, partial: Path, have: int, on_bytes: OnBytes | None) -> int:
    headers = {"User-Agent": USER_AGENT} | ({"Range": f"bytes={have}-"} if have else {})
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == HTTP_RANGE_NOT_SATISFIABLE and have:  # the partial file is already whole
            return have
        raise
    with response:
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
    return have
