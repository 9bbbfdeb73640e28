"""MusicLDM with a tiny random pipeline built from configs (its text encoder is the tiny CLAP of the encoder
tests): prompt and seed conditioning, negative prompts, reproducibility, progress/cancel, offline loading from
a Hugging Face cache layout, and the messages when `diffusers` or the weights are missing. Without `diffusers`
installed, every test checks the install message instead."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from worker.encoders.clap import ClapEncoder
from worker.encoders.descriptor import DescriptorEncoder
from worker.generate.api import LICENCES, make_generator
from worker.generate.base import GenerateError, GenerateRequest, Phrase
from worker.generate.musicldm import DEFAULT_MODEL, MusicLDMGenerator
from worker.jobs import Cancelled, Job

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
STEPS = 3
SECONDS = 1.1
COMMIT = "0123456789abcdef0123456789abcdef01234567"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py says why


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, ClapEncoder] | None:
    if not HAS_DIFFUSERS:
        return None
    from tests.worker.generate.tiny_models import tiny_musicldm

    pipeline, (clap, processor) = tiny_musicldm()
    return pipeline, ClapEncoder.from_objects(clap, processor, device="cpu")


def fallback_checked() -> bool:
    """Without diffusers: the back-end refuses with the install command (and the caller stops there)."""
    if HAS_DIFFUSERS:
        return False
    with pytest.raises(GenerateError, match="pip install diffusers"):
        make_generator("musicldm")
    return True


def test_missing_diffusers_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # makes `import diffusers` fail
    with pytest.raises(GenerateError, match="pip install diffusers"):
        make_generator("musicldm")
    assert "CC-BY-NC-SA 4.0" in LICENCES["musicldm"]


def test_prompt_conditioning_right_length_and_rate(tiny: tuple[Any, ClapEncoder] | None) -> None:
    if fallback_checked():
        return
    pipeline, _ = tiny
    generator = MusicLDMGenerator.from_objects(pipeline, device="cpu", steps=STEPS)
    events: list[float] = []
    job = Job(progress_fn=lambda stage, fraction, message: events.append(fraction))
    request = GenerateRequest(seconds=SECONDS, seed=2, phrases=(Phrase("calm piano"), Phrase("drums", -0.5)))
    cue = generator.generate(request, job=job)
    assert cue.sample_rate == 16_000 and cue.mix.shape == (round(SECONDS * 16_000), 1)
    assert np.abs(cue.mix).max() > 0.1 and list(cue.stems) == ["music"]
    assert cue.metadata["conditioned_on"] == "prompt" and cue.metadata["negative_prompt"] == "drums"
    assert "CC-BY-NC-SA 4.0" in cue.licence
    assert events == [(i + 1) / STEPS for i in range(STEPS)]
    assert np.array_equal(generator.generate(request).mix, cue.mix)
    other = generator.generate(GenerateRequest(seconds=SECONDS, seed=2, phrases=(Phrase("calm piano"),)))
    assert not np.array_equal(other.mix, cue.mix)  # the negative prompt changes the result


def test_seed_embeddings_condition_with_the_clap_encoder(tiny: tuple[Any, ClapEncoder] | None) -> None:
    if fallback_checked():
        return
    pipeline, clap = tiny
    generator = MusicLDMGenerator.from_objects(pipeline, encoder=clap, device="cpu", steps=STEPS)
    seeds = clap.embed_text(["calm solo piano", "warm acoustic guitar"])
    by_seeds = generator.generate(GenerateRequest(seconds=SECONDS, seed=5, seeds=seeds))
    assert by_seeds.metadata["conditioned_on"] == "seeds"
    # The seeds' mean direction is the condition: the same direction given as one seed gives the same audio.
    mean = (seeds / np.linalg.norm(seeds, axis=1, keepdims=True)).mean(axis=0, keepdims=True) * 3.0
    same = generator.generate(GenerateRequest(seconds=SECONDS, seed=5, seeds=mean))
    np.testing.assert_allclose(same.mix, by_seeds.mix, atol=1e-5)
    other = generator.generate(GenerateRequest(seconds=SECONDS, seed=5, seeds=clap.embed_text(["dark strings"])))
    assert not np.array_equal(other.mix, by_seeds.mix)
    # Seeds from another embedding space never reach the model: the prompt is used.
    descriptor = DescriptorEncoder()
    plain = MusicLDMGenerator.from_objects(pipeline, encoder=descriptor, device="cpu", steps=STEPS)
    cue = plain.generate(GenerateRequest(seconds=SECONDS, seed=5, seeds=np.ones((1, descriptor.dim))))
    assert cue.metadata["conditioned_on"] == "prompt"


def test_cancel_at_a_step(tiny: tuple[Any, ClapEncoder] | None) -> None:
    if fallback_checked():
        return
    generator = MusicLDMGenerator.from_objects(tiny[0], device="cpu", steps=STEPS)
    job = Job()
    job.progress_fn = lambda stage, fraction, message: job.cancel()
    with pytest.raises(Cancelled):
        generator.generate(GenerateRequest(seconds=SECONDS, seed=0), job=job)


def test_loads_offline_from_the_cache_or_names_the_pull(tiny: tuple[Any, ClapEncoder] | None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if fallback_checked():
        return
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(GenerateError, match="cuesteer models pull musicldm"):
        make_generator("musicldm")
    repo = tmp_path / ("models--" + DEFAULT_MODEL.replace("/", "--"))
    tiny[0].save_pretrained(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    generator = make_generator("musicldm", device="cpu", steps=STEPS)
    assert generator.version == f"{DEFAULT_MODEL}@{COMMIT}"
    cue = generator.generate(GenerateRequest(seconds=SECONDS, seed=1))
    reference = MusicLDMGenerator.from_objects(tiny[0], device="cpu", steps=STEPS)
    np.testing.assert_allclose(cue.mix, reference.generate(GenerateRequest(seconds=SECONDS, seed=1)).mix, atol=1e-5)
