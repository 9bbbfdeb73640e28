"""MusicGen (Meta, `facebook/musicgen-small`) through `transformers`, offline from the Hugging Face cache.

The prompt is the positive phrases. MusicGen is trained on 30-s excerpts, so longer cues are made window by
window: each window continues the last CONTEXT_SECONDS of audio (given back to the model as an audio prompt)
and is crossfaded onto what came before. Progress and cancel are checked at every decoding step.
Weights: CC-BY-NC 4.0 — non-commercial use only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from transformers import MusicgenForConditionalGeneration, MusicgenProcessor, StoppingCriteria, StoppingCriteriaList

from worker.encoders import hf
from worker.encoders.base import Encoder, EncoderError
from worker.generate.audio_cue import cue_from_wave, samples_to_generate
from worker.generate.base import GeneratedCue, GenerateError, GenerateRequest, Generator, prompt_text
from worker.jobs import Job

NAME = "musicgen"
DEFAULT_MODEL = "facebook/musicgen-small"
PULL_COMMAND = "cuesteer models pull musicgen"
LABEL = "MusicGen"
LICENCE = "MusicGen weights (Meta): CC-BY-NC 4.0 — non-commercial use only"
DEFAULT_PROMPT = "instrumental music"
WINDOW_SECONDS = 30.0  # the longest excerpt MusicGen was trained on
CONTEXT_SECONDS = 10.0  # audio each further window continues from
CROSSFADE_SECONDS = 1.0
GUIDANCE_SCALE = 3.0  # MusicGen's published default

WindowFn = Callable[[np.ndarray | None, int], np.ndarray]
"""generate_window(prompt audio or None, new samples) -> decoded audio (prompt included, then the new part)."""


class MusicGenGenerator(Generator):
    name = NAME
    licence = LICENCE

    def __init__(self, encoder: Encoder | None = None, *, model_name: str = DEFAULT_MODEL,
                 device: str | None = None, guidance_scale: float = GUIDANCE_SCALE,
                 window_seconds: float = WINDOW_SECONDS, context_seconds: float = CONTEXT_SECONDS,
                 crossfade_seconds: float = CROSSFADE_SECONDS) -> None:
        pull = PULL_COMMAND if model_name == DEFAULT_MODEL else f"cuesteer models pull {model_name}"
        try:
            weights = hf.require(LABEL, model_name, pull)
            model = hf.load_pretrained(MusicgenForConditionalGeneration, weights, LABEL, pull)
            processor = hf.load_pretrained(MusicgenProcessor, weights, LABEL, pull)
        except EncoderError as exc:
            raise GenerateError(str(exc)) from exc
        self._bind(model, processor, weights.version, device, guidance_scale, window_seconds, context_seconds,
                   crossfade_seconds)

    @classmethod
    def from_objects(cls, model: Any, processor: Any, *, version: str | None = None, device: str | None = None,
                     guidance_scale: float = GUIDANCE_SCALE, window_seconds: float = WINDOW_SECONDS,
                     context_seconds: float = CONTEXT_SECONDS, crossfade_seconds: float = CROSSFADE_SECONDS
                     ) -> MusicGenGenerator:
        """A generator around a ready model + processor (tests build tiny ones from configs)."""
        generator = cls.__new__(cls)
        generator._bind(model, processor, version or hf.object_version(model), device, guidance_scale,
                        window_seconds, context_seconds, crossfade_seconds)
        return generator

    def _bind(self, model: Any, processor: Any, version: str, device: str | None, guidance_scale: float,
              window_seconds: float, context_seconds: float, crossfade_seconds: float) -> None:
        if not 0 < context_seconds < window_seconds:
            raise GenerateError(f"the context ({context_seconds} s) must be shorter than a window ({window_seconds} s)")
        self.device = hf.pick_device(device)
        self.model = model.to(self.device).eval()
        self.processor = processor
        self.version = version
        self.sample_rate = int(model.config.audio_encoder.sampling_rate)
        self.frame_rate = float(model.config.audio_encoder.frame_rate)
        self.codebooks = int(model.decoder.num_codebooks)
        self.guidance_scale = guidance_scale
        self.window = int(round(window_seconds * self.sample_rate))
        self.context = int(round(context_seconds * self.sample_rate))
        self.crossfade = int(round(crossfade_seconds * self.sample_rate))

    def generate(self, request: GenerateRequest, *, job: Job | None = None) -> GeneratedCue:
        job = job or Job()
        prompt = prompt_text(request.phrases) or DEFAULT_PROMPT
        total = samples_to_generate(request, self.sample_rate, self.name)
        steps = StepCounter(job, sum(self._tokens(n) for n in window_plan(total, self.window, self.context)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(request.seed)
            wave = continue_in_windows(lambda audio, new: self._window(prompt, audio, new, steps), total,
                                       self.window, self.context, self.crossfade)
        return cue_from_wave(wave, self.sample_rate, request, backend=self.name, licence=self.licence,
                             metadata={"model": self.version, "prompt": prompt,
                                       "guidance_scale": self.guidance_scale})

    def _tokens(self, samples: int) -> int:
        """Decoding steps for `samples` of new audio: frames plus the codebook delay pattern's lag."""
        return math.ceil(samples / self.sample_rate * self.frame_rate) + self.codebooks if samples else 0

    def _window(self, prompt: str, audio: np.ndarray | None, new: int, steps: StepCounter) -> np.ndarray:
        options: dict[str, Any] = {"text": [prompt], "padding": True, "return_tensors": "pt"}
        if audio is not None:
            options.update(audio=audio.astype(np.float32), sampling_rate=self.sample_rate)
        inputs = {k: v.to(self.device) for k, v in self.processor(**options).items()}
        with torch.inference_mode():
            values = self.model.generate(**inputs, do_sample=True, guidance_scale=self.guidance_scale,
                                         max_new_tokens=self._tokens(new),
                                         stopping_criteria=StoppingCriteriaList([steps]))
        return values[0, 0].float().cpu().numpy()


def window_plan(total: int, window: int, context: int) -> list[int]:
    """New samples each window is asked for: a full first window, then `window - context` at a time."""
    plan = [min(total, window)]
    while sum(plan) < total:
        plan.append(min(total - sum(plan), window - context))
    return plan


def continue_in_windows(generate_window: WindowFn, total: int, window: int, context: int, crossfade: int
                        ) -> np.ndarray:
    """`total` samples from windows of at most `window`: each later window gets the last `context` samples as
    its prompt, returns them (re-decoded) followed by new audio, and is crossfaded in over `crossfade`."""
    out = np.asarray(generate_window(None, min(total, window)), np.float64)
    while len(out) < total:
        prompt = out[-context:]
        new = min(total - len(out), window - len(prompt))
        piece = np.asarray(generate_window(prompt, new), np.float64)
        fresh = piece[len(prompt):]
        if not len(fresh):
            raise GenerateError("the model returned no new audio when asked to continue; try a shorter cue")
        fade = min(crossfade, len(prompt), len(piece))
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
        out[len(out) - fade:] = out[len(out) - fade:] * (1.0 - ramp) + piece[len(prompt) - fade:len(prompt)] * ramp
        out = np.concatenate([out, fresh])
    return out[:total] if len(out) >= total else np.pad(out, (0, total - len(out)))


class StepCounter(StoppingCriteria):
    """A stopping criterion that never stops: called once per decoding step, it reports progress and raises
    `Cancelled` (out of `generate`) when the job was cancelled."""

    def __init__(self, job: Job, total: int) -> None:
        self.job, self.total, self.done = job, max(total, 1), 0

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        self.done += 1
        self.job.checkpoint()
        self.job.progress("generate", self.done / self.total, f"step {self.done} of {self.total}")
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
