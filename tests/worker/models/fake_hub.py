"""A local Hugging Face Hub for pulls in tests, without torch: any bytes under any repo id, served slowly when a
test needs time to cancel or to use the app meanwhile.

It answers the endpoints a pull uses (model info with sizes and hashes, `resolve` with Range) the way the Hub
does: LFS files (weights) by sha256, others by git blob sha1. `pull` checks files against those published hashes
and `models list` only reads which files are there, so the bytes need not be a loadable model.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
LFS_SUFFIX = ".safetensors"
WRITE_PIECE = 64 * 1024  # bytes per write when throttled
HTTP_OK, HTTP_PARTIAL, HTTP_NOT_FOUND = 200, 206, 404


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def fake_model_files(weights_bytes: int, seed: int = 0) -> dict[str, bytes]:
    """What a CLAP/CLIP-shaped repository holds (config, weights, processor, tokenizer, a README a pull skips)."""
    block = hashlib.sha256(f"weights {seed}".encode()).digest()
    weights = (block * (weights_bytes // len(block) + 1))[:weights_bytes]
    return {
        "config.json": json.dumps({"model_type": "fake", "seed": seed}).encode(),
        "model.safetensors": weights,
        "preprocessor_config.json": b'{"sampling_rate": 48000}',
        "tokenizer.json": b'{"version": "1.0"}',
        "tokenizer_config.json": b"{}",
        "README.md": b"# not needed\n",
    }


@dataclass
class FakeHub:
    repo_id: str
    files: dict[str, bytes]
    commit: str = COMMIT
    piece_delay_s: float = 0.0  # sleep between WRITE_PIECE writes of a file body
    damaged: set[str] = field(default_factory=set)  # files whose bytes flip on the way (published hash stays)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, file or path, Range header)
    endpoint: str = ""

    def etag(self, name: str) -> str:
        data = self.files[name]
        return hashlib.sha256(data).hexdigest() if name.endswith(LFS_SUFFIX) else git_blob_sha1(data)

    def model_info(self) -> bytes:
        siblings = []
        for name, data in self.files.items():
            entry: dict = {"rfilename": name, "size": len(data), "blobId": git_blob_sha1(data)}
            if name.endswith(LFS_SUFFIX):
                entry["lfs"] = {"sha256": self.etag(name), "size": len(data), "pointerSize": 134}
            siblings.append(entry)
        return json.dumps({"id": self.repo_id, "sha": self.commit, "siblings": siblings}).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def _file(self) -> str | None:
        prefix = f"/{self.server.hub.repo_id}/resolve/"
        if not self.path.startswith(prefix):
            return None
        return self.path[len(prefix):].split("/", 1)[1].split("?")[0]

    def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
        hub, name = self.server.hub, self._file()
        hub.requests.append(("HEAD", name or self.path, ""))
        if name not in hub.files:
            self._status(HTTP_NOT_FOUND)
            return
        self.send_response(HTTP_OK)
        self.send_header("X-Repo-Commit", hub.commit)
        self.send_header("ETag", f'"{hub.etag(name)}"')
        self.send_header("Content-Length", str(len(hub.files[name])))
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        hub = self.server.hub
        if self.path.startswith(f"/api/models/{hub.repo_id}"):
            hub.requests.append(("GET", self.path, ""))
            body = hub.model_info()
            self.send_response(HTTP_OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        name, byte_range = self._file(), self.headers.get("Range", "")
        hub.requests.append(("GET", name or self.path, byte_range))
        data = hub.files.get(name or "")
        if data is None:
            self._status(HTTP_NOT_FOUND)
            return
        start = int(byte_range.split("=")[1].split("-")[0]) if byte_range else 0
        self.send_response(HTTP_PARTIAL if byte_range else HTTP_OK)
        if byte_range:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if name in hub.damaged:
            body = bytes(b ^ 0xFF for b in body)
        self._write_slowly(body, hub.piece_delay_s)

    def _write_slowly(self, body: bytes, delay_s: float) -> None:
        step = WRITE_PIECE if delay_s else max(len(body), 1)
        try:
            for offset in range(0, len(body), step):
                self.wfile.write(body[offset:offset + step])
                if delay_s:
                    self.wfile.flush()
                    time.sleep(delay_s)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (a cancelled pull): what a real server sees too

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    hub: FakeHub


@contextlib.contextmanager
def serving(hub: FakeHub) -> Iterator[FakeHub]:
    """Serve `hub` on a free loopback port (sets `hub.endpoint`) until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hub = hub
    hub.endpoint = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="fake hub", daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
