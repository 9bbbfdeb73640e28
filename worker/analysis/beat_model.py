"""Our own beat/downbeat activation network: two-resolution log-mel (and its rise) → dilated 1-D convolutions.

The network only says, frame by frame at ~100 fps, how likely a beat (and a downbeat) is; `beats_learned`
turns that into a beat grid. It is trained on MIDI renders with exact beat truth (`beat_train/`), so its
weights are ours (permissive), unlike madmom's CC BY-NC-SA models. Architecture in the spirit of the TCN beat
tracker of Davies & Böck (2019), with frequency bands as channels to stay cheap on a CPU.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from worker.analysis.spectral import ANALYSIS_RATE, HOP, frame_rate, magnitude_spectrogram, mel_filterbank

FRAMES = (1024, 2048)  # STFT sizes (46 and 93 ms): sharp onsets and resolved bass notes
BANDS_PER_FRAME = 40
MEL_FMAX = 11025.0
LOG_SCALE = 1000.0  # log(1 + LOG_SCALE · mel power): compresses without a hard floor
WEIGHTS_PATH = Path(__file__).with_name("beat_model.pt")
REFERENCE_PATH = Path(__file__).with_name("beat_model_reference.json")
PROBE_SECONDS = 6.0
PROBE_BPM = 120.0
REFERENCE_STRIDE = 5  # frames between stored reference activations
BEAT, DOWNBEAT = 0, 1  # output channels
SILENT_LOG_MEL = 0.01  # a frame whose loudest band is below this (about -80 dB re a full-scale sine) is silence
# the network also hears the features time-stretched by these factors, and its activations are averaged: its
# mistakes depend on the tempo (a beat heard at 120 BPM on the off-beat is found at 100), so other tempi vote
# them down. Beat F (validation excerpts | bench tuning files), run 3's network: no stretch .799 | .772, these
# five .829 | .806, seven (0.7 … 1.43) .843 | .799; run 5's: .819 | .794 and .826 | .800 (beat_model.md)
STRETCHES = (0.8, 0.9, 1.0, 1.1, 1.25)


def model_fps() -> float:
    return frame_rate(ANALYSIS_RATE, HOP)


def log_mel(wave: np.ndarray) -> np.ndarray:
    """(frames, len(FRAMES)·BANDS_PER_FRAME) float32 log-mel of a mono wave at ANALYSIS_RATE; frame t centred on
    t·HOP samples, so frame times match the DSP tracker's."""
    parts = []
    for frame in FRAMES:
        power = magnitude_spectrogram(wave, frame=frame, hop=HOP) ** 2
        parts.append(np.log1p(LOG_SCALE * (power @ _mel(frame))))
    count = min(len(p) for p in parts)
    return np.concatenate([p[:count] for p in parts], axis=1).astype(np.float32)


@lru_cache(maxsize=4)
def _mel(frame: int) -> np.ndarray:
    return mel_filterbank(ANALYSIS_RATE, frame, bands=BANDS_PER_FRAME, fmax=MEL_FMAX)


@dataclass(frozen=True)
class BeatNetConfig:
    bands: int = len(FRAMES) * BANDS_PER_FRAME
    channels: int = 48
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    dropout: float = 0.1
    outputs: int = 2


def build_network(config: BeatNetConfig):
    """The torch module (built here so importing this file does not import torch)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, channels: int, kernel: int, dilation: int, dropout: float) -> None:
            super().__init__()
            self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
            self.mix = nn.Conv1d(channels, channels, 1)
            self.drop = nn.Dropout(dropout)

        def forward(self, x):
            return x + self.mix(self.drop(nn.functional.elu(self.conv(x))))

    class BeatNet(nn.Module):
        """log-mel (batch, frames, bands) → logits (batch, frames, outputs)."""

        def __init__(self, cfg: BeatNetConfig) -> None:
            super().__init__()
            self.config = cfg
            self.inp = nn.Conv1d(2 * cfg.bands, cfg.channels, 3, padding=1)
            self.blocks = nn.ModuleList(Block(cfg.channels, cfg.kernel, d, cfg.dropout) for d in cfg.dilations)
            self.out = nn.Conv1d(cfg.channels, cfg.outputs, 1)

        def forward(self, logmel):
            x = logmel.transpose(1, 2)
            # level-free input: one mean and scale per clip (gain and mastering do not move beats)
            x = (x - x.mean(dim=(1, 2), keepdim=True)) / (x.std(dim=(1, 2), keepdim=True) + 1e-5)
            rise = torch.relu(torch.diff(x, dim=2, prepend=x[:, :, :1]))
            x = nn.functional.elu(self.inp(torch.cat([x, rise], dim=1)))
            for block in self.blocks:
                x = block(x)
            return self.out(x).transpose(1, 2)

    return BeatNet(config)


def parameter_count(network) -> int:
    return sum(p.numel() for p in network.parameters())


def save_weights(network, path: Path, meta: dict) -> None:
    """Weights as float16 plus the config and training facts (atomic write)."""
    import torch

    state = {k: v.detach().to(torch.float16) for k, v in network.state_dict().items()}
    payload = {"config": json.dumps(asdict(network.config)), "meta": json.dumps(meta), "state": state}
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def weights_available(path: Path | None = None) -> bool:
    return (path or WEIGHTS_PATH).exists()


def weights_digest(path: Path | None = None) -> str:
    """A short content hash of the weights file: part of the analyzer version, so analyses cached in the
    catalogue are redone when the weights change."""
    path = path or WEIGHTS_PATH
    stat = path.stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_network(path: Path | None = None):
    """The trained network in eval mode (float32), cached per path."""
    return _load_network(path or WEIGHTS_PATH)


def forget_loaded() -> None:
    """Drop cached networks (after new weights were written)."""
    _load_network.cache_clear()


@lru_cache(maxsize=2)
def _load_network(path: Path):
    import torch

    payload = torch.load(path, map_location="cpu", weights_only=True)
    raw = json.loads(payload["config"])
    raw["dilations"] = tuple(raw["dilations"])
    network = build_network(BeatNetConfig(**raw))
    network.load_state_dict({k: v.float() for k, v in payload["state"].items()})
    network.eval()
    return network


def load_meta(path: Path | None = None) -> dict:
    import torch

    return json.loads(torch.load(path or WEIGHTS_PATH, map_location="cpu", weights_only=True)["meta"])


def activations(wave: np.ndarray, network=None, stretches: tuple[float, ...] = STRETCHES) -> np.ndarray:
    """(frames, 2) beat and downbeat probabilities of a mono wave at ANALYSIS_RATE, at `model_fps()`: the mean
    of the network's hearings at each of `stretches` (`hearings`)."""
    return mean_hearing(hearings(wave, network, stretches))


def mean_hearing(heard: dict[float, np.ndarray]) -> np.ndarray:
    return np.mean(list(heard.values()), axis=0)


def hearings(wave: np.ndarray, network=None, stretches: tuple[float, ...] = STRETCHES) -> dict[float, np.ndarray]:
    """{stretch: (frames, 2) probabilities}: what the network hears in the wave's features stretched in time by
    each factor, mapped back to the wave's frames."""
    network = network if network is not None else load_network()
    features = log_mel(wave)
    silent = features.max(axis=1) < SILENT_LOG_MEL  # the per-clip normalisation would make silence look busy
    heard = {}
    for factor in stretches:
        heard[factor] = _heard(network, features, factor)
        heard[factor][silent] = 0.0
    return heard


def _heard(network, features: np.ndarray, factor: float) -> np.ndarray:
    """The network's probabilities for `features` played `factor` times as long, mapped back to their frames."""
    import torch

    with torch.inference_mode():
        logits = network(torch.from_numpy(time_stretched(features, factor))[None])[0]
    return time_stretched(torch.sigmoid(logits).numpy().astype(np.float64), 1.0 / factor, len(features))


def time_stretched(frames: np.ndarray, factor: float, count: int | None = None) -> np.ndarray:
    """`frames` (time first) linearly resampled to `factor` times as many (or exactly `count`) frames."""
    if factor == 1.0 and count in (None, len(frames)):
        return frames
    count = count or max(int(round(len(frames) * factor)), 1)
    at = np.clip(np.arange(count) / factor, 0, len(frames) - 1)
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, len(frames) - 1)
    weight = (at - low)[:, None].astype(frames.dtype)
    return frames[low] * (1 - weight) + frames[high] * weight


def probe_wave(seconds: float = PROBE_SECONDS, bpm: float = PROBE_BPM, seed: int = 0) -> np.ndarray:
    """A deterministic test signal (noise clicks on beats, a tone on every other beat) for reference activations."""
    rng = np.random.default_rng(seed)
    wave = 0.003 * rng.standard_normal(int(seconds * ANALYSIS_RATE)).astype(np.float32)
    click = (rng.standard_normal(int(0.03 * ANALYSIS_RATE)) * np.exp(-np.linspace(0, 8, int(0.03 * ANALYSIS_RATE))))
    t = np.arange(int(0.2 * ANALYSIS_RATE)) / ANALYSIS_RATE
    tone = np.sin(2 * np.pi * 220.0 * t) * np.exp(-t * 12)
    for k, at in enumerate(np.arange(0.5, seconds - 0.2, 60.0 / bpm)):
        i = int(at * ANALYSIS_RATE)
        wave[i : i + len(click)] += 0.5 * click.astype(np.float32)
        if k % 2 == 0:
            wave[i : i + len(tone)] += 0.3 * tone.astype(np.float32)
    return wave


def save_reference(network, path: Path = REFERENCE_PATH) -> None:
    """Activations of the stored (float16-rounded) weights on `probe_wave()`, unstretched, so a test can tell that
    the weights and the feature code still give what training saw."""
    acts = activations(probe_wave(), load_network() if network is None else network, stretches=(1.0,))
    payload = {"stride": REFERENCE_STRIDE, "activations": np.round(acts[::REFERENCE_STRIDE], 5).tolist()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(path)
