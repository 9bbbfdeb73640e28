"""Audio augmentations that make renders look like recordings: EQ, room reverb, noise, gain/clipping and a
lossy codec round trip (ogg or mp3 through libsndfile). Pure functions of (wave, rng)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve

SAMPLE_RATE = 16_000
EQ_POINTS = 6
EQ_DB = 9.0
RT60_S = (0.15, 1.8)
WET = (0.05, 0.45)
SNR_DB = (18.0, 50.0)
GAIN_DB = (-24.0, 4.0)
CODEC_P = 0.35
REVERB_P = 0.6
NOISE_P = 0.5


def random_eq(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random gain curve over log frequency (±EQ_DB), applied in the FFT domain."""
    spec = np.fft.rfft(wave)
    freqs = np.fft.rfftfreq(len(wave), 1.0 / SAMPLE_RATE)
    knots = np.geomspace(40.0, SAMPLE_RATE / 2, EQ_POINTS)
    gains = rng.uniform(-EQ_DB, EQ_DB, EQ_POINTS)
    if rng.random() < 0.3:  # band-limited, like a small speaker or an old recording
        gains[-1] -= 20.0
    curve = np.interp(np.log(np.maximum(freqs, 40.0)), np.log(knots), gains)
    return np.fft.irfft(spec * 10 ** (curve / 20.0), len(wave)).astype(np.float32)


def random_reverb(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exponentially decaying noise as a room impulse response, mixed in at a random wet level."""
    rt60 = rng.uniform(*RT60_S)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir /= np.sqrt((ir**2).sum()) + 1e-9
    wet = fftconvolve(wave, ir)[: len(wave)]
    mix = rng.uniform(*WET)
    return ((1 - mix) * wave + mix * wet).astype(np.float32)


def add_noise(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White or pink noise at a random SNR."""
    noise = rng.standard_normal(len(wave))
    if rng.random() < 0.5:
        spec = np.fft.rfft(noise)
        spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1.0))
        noise = np.fft.irfft(spec, len(wave))
    p_sig = float((wave**2).mean()) + 1e-10
    p_noise = float((noise**2).mean()) + 1e-12
    snr = rng.uniform(*SNR_DB)
    return (wave + noise * np.sqrt(p_sig / p_noise / 10 ** (snr / 10))).astype(np.float32)


def codec_round_trip(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Encode to OGG Vorbis or MP3 in memory and decode again."""
    fmt, subtype = ("OGG", "VORBIS") if rng.random() < 0.5 else ("MP3", "MPEG_LAYER_III")
    buf = io.BytesIO()
    sf.write(buf, np.clip(wave, -1, 1), SAMPLE_RATE, format=fmt, subtype=subtype)
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    out = out[: len(wave)]
    return np.pad(out, (0, len(wave) - len(out))).astype(np.float32)


def augment(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random chain: EQ, maybe reverb, maybe noise, gain with soft clipping, maybe a codec."""
    w = random_eq(wave, rng)
    if rng.random() < REVERB_P:
        w = random_reverb(w, rng)
    if rng.random() < NOISE_P:
        w = add_noise(w, rng)
    peak = float(np.abs(w).max()) + 1e-9
    w = w / peak * 10 ** (rng.uniform(*GAIN_DB) / 20.0)
    w = np.tanh(w * 1.2) / np.tanh(1.2) if rng.random() < 0.2 else np.clip(w, -1, 1)
    if rng.random() < CODEC_P:
        w = codec_round_trip(w, rng)
    return w.astype(np.float32)
