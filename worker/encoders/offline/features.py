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


TIMBRE_GROUPS = 8  # mel bins are pooled in this many equal groups for the timbre statistics
N_CEPSTRA = 20  # cepstral coefficients 1..N_CEPSTRA of the log-mel (MFCC-like; c0 is the level)
MOD_EDGES_HZ = (0.5, 1.0, 2.0, 4.0, 8.0, FRAME_RATE / 2)  # envelope-modulation bands (tremolo, notes, attacks)
ONSET_SHARE = 0.1  # the loudest-onset frames whose spectrum is compared with the average


def _dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    k = torch.arange(1, n_out + 1, dtype=torch.float32)[:, None]
    m = torch.arange(n_in, dtype=torch.float32)[None, :]
    return torch.cos(torch.pi * k * (m + 0.5) / n_in) * (2.0 / n_in) ** 0.5


def timbre(logmel: torch.Tensor) -> torch.Tensor:
    """(B, TIMBRE_DIM) what pooled band statistics miss about instruments: cepstral shape and its spread,
    spectral flatness and contrast per band group, envelope modulation spectra (vibrato/tremolo vs. note rate),
    attack and decay steepness, a harmonic/percussive ratio and the onset spectrum's tilt."""
    b, m, t = logmel.shape
    ln = logmel * np.log(10.0)  # natural-log power
    ceps = torch.einsum("km,bmt->bkt", _dct_matrix(m, N_CEPSTRA).to(logmel), logmel)
    groups = ln.reshape(b, TIMBRE_GROUPS, m // TIMBRE_GROUPS, t)
    log_flat = groups.mean(2) - torch.logsumexp(groups, dim=2) + np.log(m // TIMBRE_GROUPS)  # ≤ 0
    contrast = logmel.reshape(b, TIMBRE_GROUPS, -1, t).amax(2) - logmel.reshape(b, TIMBRE_GROUPS, -1, t).amin(2)
    env = logmel.reshape(b, TIMBRE_GROUPS, -1, t).mean(2)  # (B, G, T) band-group envelopes in bels
    spec = torch.fft.rfft(env - env.mean(-1, keepdim=True), dim=-1).abs() ** 2
    freqs = torch.fft.rfftfreq(t, 1.0 / FRAME_RATE).to(logmel)
    bands = [spec[..., (freqs >= lo) & (freqs < hi)].sum(-1) for lo, hi in zip(MOD_EDGES_HZ[:-1], MOD_EDGES_HZ[1:],
                                                                              strict=True)]
    mod = torch.stack(bands, dim=-1)
    mod = torch.log(mod / (mod.sum(-1, keepdim=True) + 1e-9) + 1e-4).flatten(1)
    d = env[..., 1:] - env[..., :-1]
    attack = torch.cat([torch.relu(d).mean(-1), torch.relu(-d).mean(-1), d.amax(-1)], dim=1)
    # harmonic vs percussive, cheaply (median-filter HPSS cost 5× the log-mel): sustained tones change little
    # along time and much across bands, hits the other way round
    along_t = (logmel[..., 1:] - logmel[..., :-1]).abs().reshape(b, TIMBRE_GROUPS, -1, t - 1).mean((2, 3))
    along_f = (logmel[:, 1:] - logmel[:, :-1]).abs()
    along_f = torch.cat([along_f, along_f[:, -1:]], dim=1).reshape(b, TIMBRE_GROUPS, -1, t).mean((2, 3))
    hp = torch.log(along_f + 1e-4) - torch.log(along_t + 1e-4)
    flux = torch.relu(logmel[..., 1:] - logmel[..., :-1]).sum(1)  # (B, T-1)
    k = max(1, int(ONSET_SHARE * flux.shape[-1]))
    top = flux.topk(k, dim=-1).indices + 1
    onset_env = torch.gather(env, 2, top[:, None, :].expand(-1, TIMBRE_GROUPS, -1)).mean(-1)
    parts = [ceps.mean(-1), ceps.std(-1), log_flat.mean(-1), log_flat.std(-1), contrast.mean(-1), mod, attack, hp,
             onset_env - env.mean(-1)]
    return torch.cat(parts, dim=1)


TIMBRE_DIM = 2 * N_CEPSTRA + 3 * TIMBRE_GROUPS + TIMBRE_GROUPS * (len(MOD_EDGES_HZ) - 1) + 5 * TIMBRE_GROUPS
