"""`cuesteer models list | pull | verify` against a Hugging Face cache laid out exactly as huggingface_hub writes
it (tiny random CLIP saved from a config, blobs named by their etags, relative symlinks), with damaged blobs,
copy-mode caches, a torch-hub checkpoint, a resumed download from a local HTTP server, and the offline refusal."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installer.hub_layout import to_blob_layout
from tests.worker.encoders.tiny_models import save_to_hub_cache, tiny_clip
from tests.worker.models.fake_hub import FakeHub, serving
from worker.cli.main import main
from worker.models import cache, manifest, status, torch_hub
from worker.models.checksums import CORRUPT, MISSING, OK, UNVERIFIED, Expected, git_blob_sha1
from worker.models.manifest import TORCH_HUB, FileGroup, ModelSpec, weight_group
from worker.models.pull_manifest import build_manifest, manifest_path, write_manifest

CLIP = manifest.get("clip")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def tiny_clip_objects():
    return tiny_clip()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_clip_objects) -> Path:
    """A hub cache holding a tiny CLIP under the real CLIP repo id, in blob layout."""
    cache_dir = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache_dir))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    model, processor = tiny_clip_objects
    to_blob_layout(save_to_hub_cache(model, processor, cache_dir, CLIP.repo_id, COMMIT))
    return cache_dir


def run_json(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_layout_is_what_huggingface_hub_itself_reads(hub: Path) -> None:
    from huggingface_hub import scan_cache_dir, try_to_load_from_cache

    info = scan_cache_dir(hub)
    assert not info.warnings
    (repo,) = info.repos
    assert repo.repo_id == CLIP.repo_id and {r.commit_hash for r in repo.revisions} == {COMMIT}
    config = try_to_load_from_cache(CLIP.repo_id, "config.json", cache_dir=hub)
    assert Path(config).is_symlink() and Path(config).resolve().parent.name == "blobs"


def test_list_shows_present_model_with_real_size_and_the_rest_missing(hub: Path, capsys) -> None:
    code, out = run_json(capsys, "models", "list")
    rows = {row["name"]: row for row in out["models"]}
    assert code == 0 and out["hub_cache"] == str(hub) and out["offline"] is True
    clip = rows["clip"]
    snapshot = hub / f"models--openai--clip-vit-base-patch32/snapshots/{COMMIT}"
    on_disk = sum(p.stat().st_size for p in (hub / "models--openai--clip-vit-base-patch32/blobs").iterdir())
    assert clip["state"] == "present" and clip["path"] == str(snapshot) and clip["licence"] == "MIT"
    assert clip["bytes"] == on_disk and not clip["size_is_approximate"]
    assert rows["clap"]["state"] == "missing" and rows["clap"]["pull"] == "cuesteer models pull clap"
    assert rows["clap"]["size_is_approximate"] and rows["clap"]["bytes"] == manifest.get("clap").approx_bytes
    assert rows["musicgen"]["licence"].startswith("CC-BY-NC")
    assert rows["demucs"]["path"].endswith("torch/hub/checkpoints/955717e8-8726e21a.th")


def test_the_encoder_loads_the_model_list_calls_present(hub: Path) -> None:
    from worker.encoders.clip import ClipEncoder

    encoder = ClipEncoder(device="cpu")
    assert encoder.embed_text(["a city street at night"]).shape == (1, 16)
    assert COMMIT in encoder.version


def test_verify_passes_then_names_a_corrupted_blob(hub: Path, capsys) -> None:
    code, out = run_json(capsys, "models", "verify", "clip")
    (clip,) = out["models"]
    assert code == 0 and clip["ok"] and {f["status"] for f in clip["files"]} == {OK}
    names = {f["path"] for f in clip["files"]}
    assert {"config.json", "model.safetensors", "processor_config.json", "tokenizer.json"} <= names

    weights = (hub / f"models--openai--clip-vit-base-patch32/snapshots/{COMMIT}/model.safetensors").resolve()
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    weights.write_bytes(bytes(data))
    code, out = run_json(capsys, "models", "verify", "clip")
    files = {f["path"]: f for f in out["models"][0]["files"]}
    assert code == 1 and not out["models"][0]["ok"]
    assert files["model.safetensors"]["status"] == CORRUPT and files["config.json"]["status"] == OK
    main(["models", "verify", "clip"])
    assert "fix: cuesteer models pull clip" in capsys.readouterr().out


def test_a_deleted_blob_makes_the_model_incomplete(hub: Path, capsys) -> None:
    snapshot = hub / f"models--openai--clip-vit-base-patch32/snapshots/{COMMIT}"
    (snapshot / "tokenizer.json").resolve().unlink()  # the link dangles, as after a half-cleaned cache
    code, out = run_json(capsys, "models", "list")
    clip = next(r for r in out["models"] if r["name"] == "clip")
    assert clip["state"] == "incomplete" and clip["missing"] == ["tokenizer.json or vocab.json + merges.txt"]
    code, out = run_json(capsys, "models", "verify")  # every model that is not missing
    (clip,) = [m for m in out["models"] if m["name"] == "clip"]
    assert code == 1 and clip["state"] == "incomplete"
    assert [f["status"] for f in clip["files"] if f["path"].startswith("tokenizer.json or")] == [MISSING]


def test_copy_mode_cache_is_checked_against_the_pull_manifest(hub: Path, capsys) -> None:
    """Windows without symlink rights: the snapshot holds copies; only the manifest knows the hashes."""
    snapshot = hub / f"models--openai--clip-vit-base-patch32/snapshots/{COMMIT}"
    hashes = {}
    for link in sorted(p for p in snapshot.rglob("*") if p.is_symlink()):
        blob = link.resolve()
        link.unlink()
        shutil.copyfile(blob, link)
        name = link.relative_to(snapshot).as_posix()
        hashes[name] = (link.stat().st_size, Expected("sha256" if len(blob.name) == 64 else "sha1", blob.name))
    code, out = run_json(capsys, "models", "verify", "clip")
    assert code == 0 and {f["status"] for f in out["models"][0]["files"]} == {UNVERIFIED}

    write_manifest(build_manifest(CLIP, COMMIT, hashes), manifest_path(CLIP, COMMIT, hub))
    code, out = run_json(capsys, "models", "verify", "clip")
    assert code == 0 and {f["status"] for f in out["models"][0]["files"]} == {OK}
    (snapshot / "tokenizer_config.json").write_text("{}")
    code, out = run_json(capsys, "models", "verify", "clip")
    files = {f["path"]: f["status"] for f in out["models"][0]["files"]}
    assert code == 1 and files["tokenizer_config.json"] == CORRUPT and files["tokenizer.json"] == OK


def test_git_blob_sha1_matches_git(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello\n")
    assert git_blob_sha1(path) == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object` of "hello\n"


def test_plan_prefers_one_safetensors_file_then_shards_then_pickles() -> None:
    groups = (FileGroup("config", (("config.json",),)), weight_group())
    both = cache.plan(groups, ["config.json", "model.safetensors", "pytorch_model.bin", "README.md"])
    assert both.complete and both.files == ("config.json", "model.safetensors")
    shards = ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
              "model-00002-of-00002.safetensors", "pytorch_model.bin"]
    assert cache.plan(groups, shards).files == ("config.json", "model.safetensors.index.json",
                                                "model-00001-of-00002.safetensors",
                                                "model-00002-of-00002.safetensors")
    pickles = cache.plan(groups, ["config.json", "pytorch_model.bin"], extras=("tokenizer_config.json",))
    assert pickles.files == ("config.json", "pytorch_model.bin")
    nothing = cache.plan(groups, ["config.json", "model.safetensors.index.json"])  # index without shards
    assert not nothing.complete and nothing.missing == (groups[1],)


def test_pull_refuses_offline_and_names_the_command(hub: Path, capsys) -> None:
    code = main(["models", "pull", "clap"])
    err = capsys.readouterr().err
    assert code == 1
    assert "HF_HUB_OFFLINE is set" in err and "HF_HUB_OFFLINE=0 cuesteer models pull clap" in err
    assert not (hub / "models--laion--larger_clap_music").exists()  # nothing was started


def test_unknown_model_lists_the_known_ones(capsys) -> None:
    assert main(["models", "pull", "nope"]) == 1
    assert "clap, clip, musicgen" in capsys.readouterr().err


def test_missing_encoder_weights_name_the_pull_command(tmp_path: Path, monkeypatch) -> None:
    from worker.encoders.base import EncoderError
    from worker.encoders.clap import ClapEncoder

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(EncoderError, match="cuesteer models pull clap"):
        ClapEncoder(device="cpu")
    assert manifest.get("laion/larger_clap_music").name == "clap"  # the repo id the encoder uses


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b""
    ranges: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        start = 0
        if "Range" in self.headers:
            type(self).ranges.append(self.headers["Range"])
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        return None


def test_torch_hub_checkpoint_download_resumes_and_verifies(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    payload = bytes(range(256)) * 4096  # 1 MiB
    name = f"abcd1234-{hashlib.sha256(payload).hexdigest()[:8]}.th"
    _RangeHandler.payload, _RangeHandler.ranges = payload, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec = ModelSpec(name="stems-test", label="test stems", source=TORCH_HUB, repo_id=name, approx_bytes=len(payload),
                     licence="MIT", used_for="test", url=f"http://127.0.0.1:{server.server_port}/{name}")
    target = torch_hub.checkpoint_path(name)
    target.parent.mkdir(parents=True)
    target.with_name(name + ".incomplete").write_bytes(payload[:300_000])  # an interrupted earlier pull
    assert status.model_status(spec).partial_bytes == 300_000
    seen: list[float] = []
    try:
        from worker.models.pull import pull

        result = pull(spec, on_progress=lambda stage, fraction, message: seen.append(fraction))
    finally:
        server.shutdown()
    assert _RangeHandler.ranges == ["bytes=300000-"]
    assert target.read_bytes() == payload and result.bytes == len(payload)
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen) and seen == sorted(seen)
    assert status.verify(spec).ok
    target.write_bytes(payload[:-1] + b"\0")
    report = status.verify(spec)
    assert not report.ok and report.files[0].status == CORRUPT


def test_bundled_offline_model_cannot_be_pulled(capsys) -> None:
    assert main(["models", "pull", "offline"]) == 1
    assert "ships inside cuesteer" in capsys.readouterr().err


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_clip_objects) -> Iterator[FakeHub]:
    """A local Hub serving a tiny CLIP as `openai/clip-vit-base-patch32` (plus a README a pull must skip)."""
    import huggingface_hub.constants

    model, processor = tiny_clip_objects
    source = tmp_path / "source"
    model.save_pretrained(source)
    processor.save_pretrained(source)
    files = {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()}
    files["README.md"] = b"# not needed\n"
    with serving(FakeHub(CLIP.repo_id, files, commit=COMMIT)) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # read once at its import
        yield hub


def test_pull_fetches_the_planned_files_resumes_and_records_hashes(served: FakeHub, tmp_path: Path, capsys) -> None:
    from worker.models.pull import pull

    weights = served.files["model.safetensors"]
    blobs = tmp_path / "hub" / "models--openai--clip-vit-base-patch32" / "blobs"
    blobs.mkdir(parents=True)
    half = len(weights) // 2
    (blobs / f"{served.etag('model.safetensors')}.incomplete").write_bytes(weights[:half])  # interrupted pull
    seen: list[float] = []
    result = pull(CLIP, on_progress=lambda stage, fraction, message: seen.append(fraction))

    fetched = {name for method, name, _ in served.requests if method == "GET" and "/api/" not in name}
    assert "README.md" not in fetched and {"config.json", "model.safetensors", "tokenizer.json"} <= fetched
    assert ("GET", "model.safetensors", f"bytes={half}-") in served.requests  # resumed, not restarted
    assert result.commit == COMMIT and result.files == len(fetched)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert manifest_path(CLIP, COMMIT, tmp_path / "hub").is_file()
    code, out = run_json(capsys, "models", "verify", "clip")
    assert code == 0 and {f["status"] for f in out["models"][0]["files"]} == {OK}

    from worker.encoders.clip import ClipEncoder

    assert ClipEncoder(device="cpu").embed_text(["a forest in the rain"]).shape == (1, 16)


def test_pull_refuses_a_repository_without_what_the_model_needs(served: FakeHub, tmp_path: Path) -> None:
    from worker.models.pull import PullError, pull

    del served.files["tokenizer.json"]
    with pytest.raises(PullError, match="lacks tokenizer.json or vocab.json"):
        pull(CLIP)
    assert not any(method == "GET" and name == "model.safetensors" for method, name, _ in served.requests)


def test_a_file_damaged_in_transit_is_refused_and_removed(served: FakeHub, tmp_path: Path) -> None:
    from worker.models.pull import PullError, pull

    served.damaged = {"model.safetensors"}
    with pytest.raises(PullError, match="model.safetensors: sha256 is .* expected .* run `cuesteer models pull clip`"):
        pull(CLIP)
    blobs = tmp_path / "hub" / "models--openai--clip-vit-base-patch32" / "blobs"
    assert not (blobs / served.etag("model.safetensors")).exists()
    assert status.model_status(CLIP).state != "present"
    served.damaged = set()
    assert pull(CLIP).commit == COMMIT  # the next pull completes


def test_pull_as_a_worker_job_reports_progress_and_stops_on_cancel(served: FakeHub, tmp_path: Path) -> None:
    from worker.jobs import Cancelled, Job
    from worker.models.report import models_report, pull_model

    cancelled = Job(progress_fn=lambda *a: None)
    cancelled.cancel()
    with pytest.raises(Cancelled):
        pull_model("clip", cancelled)
    assert not any(method == "GET" and "/api/" not in name for method, name, _ in served.requests)
    events: list[tuple] = []
    result = pull_model("clip", Job(progress_fn=lambda *a: events.append(a)))
    assert result["commit"] == COMMIT and events[-1][:2] == ("pull", 1.0)
    (clip,) = [m for m in models_report()["models"] if m["name"] == "clip"]
    assert clip["state"] == "present" and clip["bytes"] == result["bytes"]
