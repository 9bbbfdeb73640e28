"""The `models` and `pull_model` service jobs (what the desktop's model offer calls): a real worker lists every
model and pulls one from a local Hub with byte progress after it answered an offline text query (the offline
text tower once set HF_HUB_OFFLINE for the whole process, so every later pull refused); in process: a cancel
mid-file stops the pull and the next one resumes, and an offline or unknown pull fails with what to run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from protocol.link import Link
from tests.protocol.live_worker import REAL_SERVICE, running_worker
from tests.worker.models.fake_hub import COMMIT, FakeHub, fake_model_files, serving
from worker.jobs import Cancelled, Job, JobFailed
from worker.models import manifest
from worker.service import Service

CLIP = manifest.get("clip")
WEIGHTS = 3 * (1 << 20) + 12_345  # several 1-MiB download chunks: several progress events
CALL_TIMEOUT_S = 120.0  # a worker importing torch and MiniLM on 2 busy cores
SLOW_PIECE_S = 0.01  # 64 KiB per 10 ms: a 3-MiB file takes about half a second, time enough to cancel it


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache, downloads allowed (in this process too: huggingface_hub reads the flag at import)."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return tmp_path / "hub"


def test_a_worker_that_answered_an_offline_text_query_still_lists_and_pulls(
        tmp_path: Path, hub_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(FakeHub(CLIP.repo_id, fake_model_files(WEIGHTS))) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        with (running_worker(tmp_path / "library", "--progress-interval", "0", service=REAL_SERVICE) as worker,
              Link(worker.endpoint) as link):
            listed = link.call("models", timeout=CALL_TIMEOUT_S)
            rows = {row["name"]: row for row in listed["models"]}
            assert set(rows) == {m.name for m in manifest.MODELS} and listed["offline"] is False
            assert rows["clip"]["state"] == "missing" and rows["offline"]["state"] == "present"

            vectors = link.call("embed", {"texts": ["calm solo piano"], "encoder": "offline"},
                                timeout=CALL_TIMEOUT_S)
            assert vectors["encoder"] == "offline" and len(vectors["vectors"]) == 1  # MiniLM loaded

            events: list[tuple[str, float, str]] = []
            result = link.call("pull_model", {"name": "clip"}, timeout=CALL_TIMEOUT_S,
                               on_progress=lambda stage, fraction, message, *_: events.append(
                                   (stage, fraction, message)))
            fractions = [f for _, f, _ in events]
            assert result["commit"] == COMMIT, worker.log()
            assert fractions == sorted(fractions) and fractions[-1] == 1.0
            assert sum(0 < f < 1 for f in fractions) >= 3, events  # progress within the pull, not only its ends
            assert any("model.safetensors" in m and "MB" in m for _, _, m in events)

            clip = next(r for r in link.call("models", timeout=CALL_TIMEOUT_S)["models"] if r["name"] == "clip")
            assert clip["state"] == "present" and clip["bytes"] == result["bytes"] >= WEIGHTS
    assert not any(n == "README.md" for _, n, _ in hub.requests)  # only what the model needs


def test_a_cancel_mid_file_stops_the_pull_and_the_next_pull_resumes(tmp_path: Path, hub_env: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    service = Service(tmp_path / "library")
    hub = FakeHub(CLIP.repo_id, fake_model_files(WEIGHTS), piece_delay_s=SLOW_PIECE_S)
    with serving(hub):
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        started = threading.Event()

        def progress(stage: str, fraction: float, message: str) -> None:
            if "model.safetensors" in message and 0 < fraction < 1:
                started.set()

        job = Job(progress_fn=progress)
        threading.Thread(target=lambda: started.wait(CALL_TIMEOUT_S) and job.cancel(), daemon=True).start()
        with pytest.raises(Cancelled):
            service.pull_model(job=job, name="clip")
        clip = next(r for r in service.models(job=Job())["models"] if r["name"] == "clip")
        assert clip["state"] != "present" and 0 < clip["partial_bytes"] < WEIGHTS

        hub.piece_delay_s = 0.0
        result = service.pull_model(job=Job(), name="clip")
    resumed = [r for m, n, r in hub.requests if m == "GET" and n == "model.safetensors"]
    assert result["commit"] == COMMIT and resumed[-1] == f"bytes={clip['partial_bytes']}-"
    service.close()


def test_pull_model_refuses_offline_and_unknown_names_with_what_to_do(tmp_path: Path, hub_env: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    service = Service(tmp_path / "library")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(JobFailed, match="HF_HUB_OFFLINE=0 cuesteer models pull clap"):
        service.pull_model(job=Job(), name="clap")
    assert service.models(job=Job())["offline"] is True
    with pytest.raises(JobFailed, match="clap, clip, musicgen"):
        service.pull_model(job=Job(), name="nope")
    with pytest.raises(JobFailed, match="ships inside cuesteer"):
        service.pull_model(job=Job(), name="offline")
    service.close()
