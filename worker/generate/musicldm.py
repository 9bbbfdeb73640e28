"""MusicLDM (`ucsd-reach/musicldm`) through `diffusers`, offline from the Hugging Face cache.

MusicLDM is a latent diffusion model conditioned on a CLAP embedding. When the active encoder is CLAP (the
same kind of space, same width) the Diff4Steer seeds themselves condition it: their mean direction replaces the
text embedding, so what the prior found is what gets generated. Otherwise the positive phrases are the prompt.
Negative phrases are the negative prompt (the classifier-free guidance's "unconditional" branch). Progress and
cancel at every denoising step. Weights: CC-BY-NC-SA 4.0. `diffusers` is optional: `pip install diffusers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from worker.encoders import hf
from worker.encoders.base import Encoder, unit
from worker.generate.audio_cue import cue_from_wave, samples_to_generate
from worker.generate.base import GeneratedCue, GenerateError, GenerateRequest, Generator, negative_text, prompt_text
from worker.jobs import Job

NAME = "musicldm"
DEFAULT_MODEL = "ucsd-reach/musicldm"
PULL_COMMAND = "cuesteer models pull musicldm"
LABEL = "MusicLDM"
LICENCE = "MusicLDM weights: CC-BY-NC-SA 4.0 — non-commercial use, share alike"
INSTALL_HINT = "MusicLDM needs the optional `diffusers` package: pip install diffusers"
DEFAULT_PROMPT = "instrumental music"
DEFAULT_STEPS = 100  # the pipeline's default is 200; half keeps CPU runs bearable at little cost
GUIDANCE_SCALE = 2.0  # the pipeline's default
SEED_ENCODERS = ("clap",)  # encoders whose vectors live in a CLAP space MusicLDM can be conditioned on
MODEL_INDEX = "model_index.json"
# Sub-folders a complete snapshot has, each with one of these files.
COMPONENT_FILES = {
    "unet": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"),
    "vae": ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"),
    "text_encoder": ("model.safetensors", "pytorch_model.bin"),
    "vocoder": ("model.safetensors", "pytorch_model.bin"),
    "tokenizer": ("tokenizer.json", "vocab.json"),
    "scheduler": ("scheduler_config.json",),
}


def locate_pipeline(repo_id: str = DEFAULT_MODEL) -> hf.LocalWeights | None:
    """The cached diffusers snapshot with every component's weights, or None (reads no weights)."""
    from huggingface_hub import try_to_load_from_cache

    index = try_to_load_from_cache(repo_id, MODEL_INDEX, cache_dir=hf.hub_cache_dir())
    if not isinstance(index, str):
        return None
    snapshot = Path(index).parent
    for folder, names in COMPONENT_FILES.items():
        if not any((snapshot / folder / name).is_file() for name in names):
            return None
    return hf.LocalWeights(repo_id=repo_id, commit=snapshot.name, path=snapshot)


class MusicLDMGenerator(Generator):
    name = NAME
    licence = LICENCE

    def __init__(self, encoder: Encoder | None = None, *, model_name: str = DEFAULT_MODEL,
                 device: str | None = None, steps: int = DEFAULT_STEPS, guidance_scale: float = GUIDANCE_SCALE
                 ) -> None:
        pipeline_class = _pipeline_class()
        pull = PULL_COMMAND if model_name == DEFAULT_MODEL else f"cuesteer models pull {model_name}"
        weights = locate_pipeline(model_name)
        if weights is None:
            raise GenerateError(hf.missing_message(LABEL, model_name, pull))
        try:
            pipeline = pipeline_class.from_pretrained(str(weights.path), local_files_only=True)
        except Exception as exc:  # any loading failure means the snapshot is incomplete or damaged
            raise GenerateError(f"{LABEL} weights `{model_name}` in {weights.path} are incomplete or damaged "
                                f"({exc}). Fetch them again with: {pull}") from exc
        self._bind(pipeline, weights.version, encoder, device, steps, guidance_scale)

    @classmethod
    def from_objects(cls, pipeline: Any, *, encoder: Encoder | None = None, version: str = "in-memory",
                     device: str | None = None, steps: int = DEFAULT_STEPS, guidance_scale: float = GUIDANCE_SCALE
                     ) -> MusicLDMGenerator:
        """A generator around a ready `MusicLDMPipeline` (tests build a tiny one from configs)."""
        generator = cls.__new__(cls)
        generator._bind(pipeline, version, encoder, device, steps, guidance_scale)
        return generator

    def _bind(self, pipeline: Any, version: str, encoder: Encoder | None, device: str | None, steps: int,
              guidance_scale: float) -> None:
        self.device = hf.pick_device(device)
        self.pipeline = pipeline.to(self.device)
        self.pipeline.set_progress_bar_config(disable=True)
        self.version = version
        self.encoder = encoder
        self.steps = steps
        self.guidance_scale = guidance_scale
        self.sample_rate = int(pipeline.vocoder.config.sampling_rate)
        self.dim = int(pipeline.text_encoder.config.projection_dim)

    def generate(self, request: GenerateRequest, *, job: Job | None = None) -> GeneratedCue:
        import torch

        job = job or Job()
        total = samples_to_generate(request, self.sample_rate, self.name)
        condition = self.seed_condition(request.seeds)
        negative = negative_text(request.phrases)
        prompt = prompt_text(request.phrases) or DEFAULT_PROMPT

        def step(index: int, timestep: Any, latents: Any) -> None:
            job.checkpoint()
            job.progress("generate", (index + 1) / self.steps, f"denoising step {index + 1} of {self.steps}")

        options: dict[str, Any] = dict(num_inference_steps=self.steps, guidance_scale=self.guidance_scale,
                                       audio_length_in_s=total / self.sample_rate, output_type="np",
                                       generator=torch.Generator("cpu").manual_seed(request.seed), callback=step,
                                       callback_steps=1)
        # Both embeddings are always made here: the pipeline's own text path predates transformers 5's
        # `get_text_features` output objects. The negative branch is the negative phrases (or "", as usual).
        if condition is not None:
            options["prompt_embeds"] = torch.from_numpy(condition).to(self.device)
        else:
            options["prompt_embeds"] = self.text_embeddings([prompt])
        options["negative_prompt_embeds"] = self.text_embeddings([negative])
        with torch.inference_mode():
            audio = self.pipeline(**options).audios[0]
        return cue_from_wave(audio, self.sample_rate, request, backend=self.name, licence=self.licence,
                             metadata={"model": self.version,
                                       "conditioned_on": "prompt" if condition is None else "seeds",
                                       "prompt": None if condition is not None else prompt,
                                       "negative_prompt": negative, "steps": self.steps,
                                       "guidance_scale": self.guidance_scale})

    def seed_condition(self, seeds: np.ndarray | None) -> np.ndarray | None:
        """(1, dim) unit mean of the seeds when they are CLAP vectors of MusicLDM's width, else None."""
        if seeds is None or self.encoder is None or self.encoder.id not in SEED_ENCODERS:
            return None
        seeds = np.asarray(seeds, np.float32)
        if seeds.shape[1] != self.dim:
            return None
        return unit(unit(seeds).mean(axis=0, keepdims=True))

    def text_embeddings(self, texts: list[str]) -> Any:
        """MusicLDM's own CLAP text vectors (unit length), made the way the pipeline makes them (padded to the
        tokenizer's maximum length)."""
        import torch

        tokenizer, encoder = self.pipeline.tokenizer, self.pipeline.text_encoder
        tokens = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                           return_tensors="pt")
        with torch.inference_mode():
            features = encoder.get_text_features(tokens.input_ids.to(self.device),
                                                 attention_mask=tokens.attention_mask.to(self.device))
        return torch.nn.functional.normalize(hf.pooled(features).float(), dim=-1)


def _pipeline_class() -> Any:
    try:
        from diffusers import MusicLDMPipeline
    except ImportError as exc:
        raise GenerateError(INSTALL_HINT) from exc
    return MusicLDMPipeline
