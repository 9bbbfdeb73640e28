"""Small real media files for tests, synthesised on the spot (nothing large is committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float, sr: int = 22050, freq: float = 440.0, *, pulse_hz: float = 0.0, channels: int = 1,
         noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A tone (optionally pulsed like a beat, with noise), shape (n,) or (n, channels)."""
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * freq * t)
    if pulse_hz:
        wave *= 0.5 + 0.5 * (np.sin(2 * np.pi * pulse_hz * t) > 0.9)
    if noise:
        wave += noise * np.random.default_rng(seed).standard_normal(len(t))
    wave = wave.astype(np.float32)
    if channels > 1:
        wave = np.stack([wave * (1 - 0.1 * c) for c in range(channels)], axis=1)
    return wave


def clicks(seconds: float, bpm: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """Noise bursts on every beat: a drum-like signal."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sr), np.float32)
    burst = (rng.standard_normal(int(0.03 * sr)) * np.exp(-np.linspace(0, 8, int(0.03 * sr)))).astype(np.float32)
    for beat in np.arange(0, seconds, 60.0 / bpm):
        i = int(beat * sr)
        out[i : i + len(burst)] += burst[: len(out) - i] * 0.8
    return out


def write(path: Path, wave: np.ndarray, sr: int = 22050, **kwargs) -> Path:
    """Write with soundfile (format from the extension) or ffmpeg for what libsndfile cannot write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".m4a", ".aac", ".opus", ".mp4", ".mkv", ".webm"}:
        tmp = path.with_suffix(".src.wav")
        sf.write(tmp, wave, sr)
        _ffmpeg(["-i", str(tmp), *_codec(path), str(path)])
        tmp.unlink()
    else:
        with open(path, "wb") as handle:  # a file object copes with non-UTF-8 names
            sf.write(handle, wave, sr, format=path.suffix[1:].upper(), **kwargs)
    return path


def video_with_audio(path: Path, seconds: float = 3.0, *, audio: bool = True) -> Path:
    """A tiny real video file (test pattern), with or without a sine audio track."""
    args = ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=10:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}", "-c:a", "aac", "-shortest"]
    _ffmpeg([*args, "-c:v", "mpeg4", str(path)])
    return path


def _codec(path: Path) -> list[str]:
    return {".m4a": ["-c:a", "aac"], ".aac": ["-c:a", "aac"], ".opus": ["-c:a", "libopus"],
            ".mp4": ["-c:a", "aac"], ".mkv": ["-c:a", "libopus"], ".webm": ["-c:a", "libopus"]}[path.suffix.lower()]


def _ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)
