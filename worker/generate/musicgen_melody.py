"""MusicGen-melody (`facebook/musicgen-melody`): MusicGen conditioned on a chroma guide as well as text. The
guide is a symbolic arrangement composed (and seed/phrase-steered) by the offline generator, its chroma taken
from the notes, so the audio follows that arrangement's harmony and tempo map — which the cue carries as its
beats. Cues longer than a window are independent guided windows joined by crossfades (the guide keeps them in
step). The model's own feature extractor needs `torchaudio`; computing the chroma from notes does not.
Weights: CC-BY-NC 4.0 — non-commercial use only.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer, MusicgenMelodyForConditionalGeneration, StoppingCriteriaList

from worker.encoders import hf
from worker.encoders.base import Encoder, EncoderError
from worker.generate.audio_cue import cue_from_wave, samples_to_generate
from worker.generate.base import GeneratedCue, GenerateError, GenerateRequest, Generator, prompt_text
from worker.generate.chroma_guide import chroma_guide
from worker.generate.musicgen import DEFAULT_PROMPT, GUIDANCE_SCALE, LICENCE, WINDOW_SECONDS, StepCounter
from worker.generate.symbolic.generator import SymbolicGenerator
from worker.generate.symbolic.midi import beat_times, to_midi
from worker.jobs import Job

NAME = "musicgen-melody"
DEFAULT_MODEL = "facebook/musicgen-melody"
PULL_COMMAND = "cuesteer models pull musicgen-melody"
LABEL = "MusicGen-melody"
CHROMA_HOP = 4096  # samples per chroma frame in the published feature extractor (at 32 kHz)
CROSSFADE_SECONDS = 2.0
TOKENIZER_FILES: tuple[tuple[tuple[str, ...], ...], ...] = ((("tokenizer.json",), ("spiece.model",)),)


class MusicGenMelodyGenerator(Generator):
    name = NAME
    licence = LICENCE

    def __init__(self, encoder: Encoder | None = None, *, model_name: str = DEFAULT_MODEL,
                 device: str | None = None, guidance_scale: float = GUIDANCE_SCALE,
                 window_seconds: float = WINDOW_SECONDS, crossfade_seconds: float = CROSSFADE_SECONDS) -> None:
        pull = PULL_COMMAND if model_name == DEFAULT_MODEL else f"cuesteer models pull {model_name}"
        try:
            weights = hf.require(LABEL, model_name, pull)
            missing = hf.missing_files(weights.path, TOKENIZER_FILES)
            if missing:
                raise EncoderError(f"{LABEL} weights in {weights.path} have no tokenizer ({missing[0]}); "
                                   f"fetch them again with: {pull}")
            model = MusicgenMelodyForConditionalGeneration.from_pretrained(str(weights.path), local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(str(weights.path), local_files_only=True)
        except EncoderError as exc:
            raise GenerateError(str(exc)) from exc
        except Exception as exc:  # damaged or incomplete snapshot
            raise GenerateError(f"{LABEL} weights `{model_name}` could not be loaded ({exc}); fetch them again "
                                f"with: {pull}") from exc
        hop = _published_hop(weights.path / "preprocessor_config.json")
        self._bind(model, tokenizer, weights.version, encoder, device, guidance_scale, window_seconds,
                   crossfade_seconds, hop)

    @classmethod
    def from_objects(cls, model: Any, tokenizer: Any, *, encoder: Encoder | None = None,
                     chroma_hop: int = CHROMA_HOP, version: str | None = None, device: str | None = None,
                     guidance_scale: float = GUIDANCE_SCALE, window_seconds: float = WINDOW_SECONDS,
                     crossfade_seconds: float = CROSSFADE_SECONDS) -> MusicGenMelodyGenerator:
        """A generator around a ready model + tokenizer (tests build tiny ones from configs)."""
        generator = cls.__new__(cls)
        generator._bind(model, tokenizer, version or hf.object_version(model), encoder, device, guidance_scale,
                        window_seconds, crossfade_seconds, chroma_hop)
        return generator

    def _bind(self, model: Any, tokenizer: Any, version: str, encoder: Encoder | None, device: str | None,
              guidance_scale: float, window_seconds: float, crossfade_seconds: float, chroma_hop: int) -> None:
        if not 0 <= crossfade_seconds < window_seconds:
            raise GenerateError(f"the crossfade ({crossfade_seconds} s) must be shorter than a window "
                                f"({window_seconds} s)")
        self.device = hf.pick_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.version = version
        self.composer = SymbolicGenerator(encoder=encoder)
        self.sample_rate = int(model.config.audio_encoder.sampling_rate)
        self.frame_rate = float(model.config.audio_encoder.frame_rate)
        self.codebooks = int(model.decoder.num_codebooks)
        self.chroma_rate = self.sample_rate / chroma_hop
        self.guidance_scale = guidance_scale
        self.window = int(round(window_seconds * self.sample_rate))
        self.crossfade = int(round(crossfade_seconds * self.sample_rate))

    def generate(self, request: GenerateRequest, *, job: Job | None = None) -> GeneratedCue:
        job = job or Job()
        total = samples_to_generate(request, self.sample_rate, self.name)
        guide = self.composer.compose(request, job=job).arrangement
        chroma = chroma_guide(guide, self.chroma_rate, total / self.sample_rate)
        prompt = prompt_text(request.phrases) or DEFAULT_PROMPT
        starts = window_starts(total, self.window, self.crossfade)
        lengths = [min(self.window, total - s) for s in starts]
        steps = StepCounter(job, sum(self._tokens(n) for n in lengths))
        pieces = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(request.seed)
            for start, length in zip(starts, lengths, strict=True):
                first = int(start / self.sample_rate * self.chroma_rate)
                last = int(math.ceil((start + length) / self.sample_rate * self.chroma_rate)) + 1
                pieces.append(self._window(prompt, chroma[first:last], length, steps))
        wave = join_windows(pieces, starts, total, self.crossfade)
        cue = cue_from_wave(wave, self.sample_rate, request, backend=self.name, licence=self.licence,
                            metadata={"model": self.version, "prompt": prompt, "guidance_scale": self.guidance_scale,
                                      "guide": guide.plan.describe()})
        beats = beat_times(to_midi(guide), guide.beats)
        cue.beat_times = beats[beats < cue.seconds]
        cue.beats_per_bar, cue.tempo_bpm, cue.key = guide.plan.beats_per_bar, guide.plan.tempo_bpm, guide.plan.key
        return cue

    def _tokens(self, samples: int) -> int:
        return math.ceil(samples / self.sample_rate * self.frame_rate) + self.codebooks

    def _window(self, prompt: str, chroma: np.ndarray, samples: int, steps: StepCounter) -> np.ndarray:
        tokens = self.tokenizer([prompt], padding=True, return_tensors="pt")
        features = torch.from_numpy(chroma[None]).to(self.device)
        with torch.inference_mode():
            values = self.model.generate(input_ids=tokens.input_ids.to(self.device),
                                         attention_mask=tokens.attention_mask.to(self.device),
                                         input_features=features, do_sample=True,
                                         guidance_scale=self.guidance_scale, max_new_tokens=self._tokens(samples),
                                         stopping_criteria=StoppingCriteriaList([steps]))
        return values[0, 0].float().cpu().numpy()


def window_starts(total: int, window: int, crossfade: int) -> list[int]:
    """Where each window starts: every window overlaps the previous one by `crossfade` samples."""
    starts = [0]
    while starts[-1] + window < total:
        starts.append(starts[-1] + window - crossfade)
    return starts


def join_windows(pieces: list[np.ndarray], starts: list[int], total: int, crossfade: int) -> np.ndarray:
    """Lay the windows at their starts, crossfading linearly over each overlap; exactly `total` samples."""
    out = np.zeros(total, np.float64)
    for k, (piece, start) in enumerate(zip(pieces, starts, strict=True)):
        piece = np.asarray(piece[: total - start], np.float64)
        if k and crossfade:
            fade = min(crossfade, len(piece))
            ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
            out[start : start + fade] = out[start : start + fade] * (1.0 - ramp) + piece[:fade] * ramp
            out[start + fade : start + len(piece)] = piece[fade:]
        else:
            out[start : start + len(piece)] = piece
    return out


def _published_hop(path: Any) -> int:
    try:
        return int(json.loads(path.read_text()).get("hop_length", CHROMA_HOP))
    except (OSError, ValueError):
        return CHROMA_HOP
