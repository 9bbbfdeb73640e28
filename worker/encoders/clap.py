"""`clap`: LAION's music CLAP (`laion/larger_clap_music`, 512-d) through `transformers.ClapModel`.

Audio arrives mono at 48 kHz (the caller's decoder resamples). CLAP sees 10-s windows: shorter waves are
repeat-padded by the feature extractor; longer ones are cut here into consecutive 10-s windows (the last one
aligned to the end) whose unit vectors are averaged, so no random crop ever enters — the same wave always gives
the same vector and a batch gives what one-at-a-time gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from worker.encoders import hf
from worker.encoders.base import EncoderError, unit
from worker.library.windows import windows

DEFAULT_MODEL = "laion/larger_clap_music"
PULL_COMMAND = "cuesteer models pull clap"
LABEL = "CLAP"
DEFAULT_BATCH = 8  # 10-s windows per forward pass: ~1 GB of activations for the real model on CPU


def clap_available(model_name: str = DEFAULT_MODEL) -> bool:
    """Whether the model is complete in the local cache (reads no weights, touches no network)."""
    return hf.available(model_name)


class ClapEncoder(hf.PretrainedEncoder):
    id = "clap"
    has_text = True
    label = LABEL
    default_model = DEFAULT_MODEL
    pull_command = PULL_COMMAND
    model_class = "ClapModel"
    processor_class = "ClapProcessor"
    default_batch = DEFAULT_BATCH

    def _bind_processor(self, processor: Any) -> None:
        self.extractor = processor.feature_extractor
        self.sample_rate = int(self.extractor.sampling_rate)
        self.window_samples = int(self.extractor.nb_max_samples)

    def embed_audio(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) unit vectors; a wave longer than one window gets the mean of its windows' vectors."""
        owners: list[int] = []
        chunks: list[np.ndarray] = []
        for i, wave in enumerate(waves):
            for chunk in self._windows(_mono(wave, i)):
                owners.append(i)
                chunks.append(chunk)
        if not chunks:
            return np.zeros((0, self.dim), np.float32)
        vectors = np.concatenate([self._embed_windows(batch) for batch in hf.batched(chunks, self.batch_size)])
        sums = np.zeros((len(waves), self.dim), np.float64)
        np.add.at(sums, np.asarray(owners), vectors)
        return unit(sums)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        return hf.embed_text(self.model, self.tokenizer, texts, self.device, self.dim)

    def _windows(self, wave: np.ndarray) -> list[np.ndarray]:
        """Consecutive windows of at most `window_samples` (a wave that fits is its own single window)."""
        if len(wave) <= self.window_samples:
            return [wave]
        seconds = self.window_samples / self.sample_rate
        return [w.samples for w in windows([wave], self.sample_rate, seconds, seconds)]

    def _embed_windows(self, chunks: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        inputs = self.extractor(list(chunks), sampling_rate=self.sample_rate, return_tensors="pt")
        # No chunk exceeds the window, so none is "longer"; the extractor flags a random one in fusion mode,
        # which would make the result depend on the batch.
        is_longer = torch.zeros_like(inputs["is_longer"], dtype=torch.bool)
        with torch.inference_mode():
            features = self.model.get_audio_features(input_features=inputs["input_features"].to(self.device),
                                                     is_longer=is_longer.to(self.device))
        return unit(hf.pooled(features).float().cpu().numpy())


def _mono(wave: np.ndarray, index: int) -> np.ndarray:
    """A finite 1-D float32 wave; anything else is the caller's bug, reported with the wave's position."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise EncoderError(f"wave {index} has shape {wave.shape}: CLAP takes mono 1-D waves at 48 kHz")
    if wave.size == 0:
        raise EncoderError(f"wave {index} is empty: there is nothing to embed")
    return np.nan_to_num(wave, nan=0.0, posinf=0.0, neginf=0.0)
