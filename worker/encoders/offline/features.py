"""Log-mel and tempo features computed in torch, so the same code runs in training and in `embed_audio`.

The tempo branch exists because a small CNN with pooled time cannot count beats: an onset-envelope
autocorrelation sampled on a log-BPM axis (per frequency band) gives tempo and drum periodicity explicitly.
"""

from __future__ import annotations

import numpy as np
import torch

from worker.encoders import dsp

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 512
N_MELS = 64
FMIN, FMAX = 30.0, 8000.0
FRAME_RATE = SAMPLE_RATE / HOP
TEMPO_BPM = np.geomspace(40.0, 240.0, 48)  # log-BPM axis of the rhythm features
RHYTHM_BANDS = ((0, 12), (12, 36), (36, N_MELS))  # mel-bin ranges: low (kick/bass), mid, high (hats)
LOG_FLOOR = 1e-6


def log_mel(waves: torch.Tensor) -> torch.Tensor:
    """(B, N_MELS, T) log10 mel power of (B, samples) float32 waves at SAMPLE_RATE."""
    window = torch.hann_window(N_FFT, device=waves.device)
    spec = torch.stft(waves, N_FFT, HOP, window=window, center=True, return_complex=True)
    power = spec.real**2 + spec.imag**2  # (B, F, T)
    bank = torch.from_numpy(dsp.mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, FMIN, FMAX)).to(waves.device)
    mel = torch.einsum("bft,fm->bmt", power, bank)
    return torch.log10(mel + LOG_FLOOR)


def rhythm(logmel: torch.Tensor) -> torch.Tensor:
    """(B, len(RHYTHM_BANDS) * len(TEMPO_BPM)) autocorrelation of band onset envelopes at TEMPO_BPM lags."""
    parts = []
    n = logmel.shape[-1]
    lags = torch.as_tensor(60.0 * FRAME_RATE / TEMPO_BPM, dtype=torch.float32, device=logmel.device)
    lo = lags.floor().long().clamp(0, n - 2)
    frac = (lags - lo.float()).clamp(0, 1)
    for a, b in RHYTHM_BANDS:
        flux = torch.relu(logmel[:, a:b, 1:] - logmel[:, a:b, :-1]).sum(dim=1)  # (B, T-1)
        flux = flux - flux.mean(dim=1, keepdim=True)
        m = flux.shape[-1]
        spec = torch.fft.rfft(flux, 2 * m)
        ac = torch.fft.irfft(spec * spec.conj(), 2 * m)[:, :m]
        ac = ac / (ac[:, :1].abs() + 1e-6)
        lo_m = lo.clamp(0, m - 2)
        parts.append(ac[:, lo_m] * (1 - frac) + ac[:, lo_m + 1] * frac)
    return torch.cat(parts, dim=1)


def batch_waves(waves: list[np.ndarray], length: int | None = None) -> torch.Tensor:
    """Stack mono waves into (B, length) float32, zero-padding or cropping to a common length."""
    length = length or max(len(w) for w in waves)
    length = max(length, N_FFT)
    out = np.zeros((len(waves), length), np.float32)
    for i, w in enumerate(waves):
        w = np.asarray(w, np.float32)[:length]
        out[i, : len(w)] = w
    return torch.from_numpy(out)
