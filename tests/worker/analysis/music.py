"""Synthesised music with exact beat truth for analysis and export tests (nothing large is committed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

SR = 22050
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
A_MINOR_BARS = ((57, 60, 64), (50, 53, 57), (52, 56, 59), (57, 60, 64))  # Am Dm E Am (MIDI notes)
NOISE_FLOOR = 0.003  # about -50 dB: real recordings are never digitally silent between hits
EB_MAJOR_BARS = ((51, 55, 58), (56, 60, 63), (58, 62, 65), (51, 55, 58))  # Eb Ab Bb Eb


def beat_grid(seconds: float, bpm: float, bpm_end: float | None = None, start: float = 0.25) -> np.ndarray:
    """Beat times from `start`, tempo gliding linearly (per beat) from bpm to bpm_end."""
    bpm_end = bpm if bpm_end is None else bpm_end
    times = [start]
    while times[-1] < seconds:
        frac = times[-1] / seconds
        times.append(times[-1] + 60.0 / (bpm + (bpm_end - bpm) * frac))
    return np.array([t for t in times if t < seconds - 0.05])


def _tone(midi: float, seconds: float, sr: int, partials: int = 4) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, partials + 1) if f * k < sr / 2)
    return (wave * np.exp(-t * 1.5)).astype(np.float32)


def band(
    beats: np.ndarray, seconds: float, *, beats_per_bar: int = 4, bars=A_MINOR_BARS, sr: int = SR, seed: int = 0
) -> np.ndarray:
    """Kick on downbeats, snare on the other beats, hats on offbeats, bass + chords changing every bar."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sr), np.float32)

    def add(at: float, sound: np.ndarray, gain: float) -> None:
        i = int(at * sr)
        if 0 <= i < len(out):
            out[i : i + len(sound)] += gain * sound[: len(out) - i]

    n = int(0.12 * sr)
    env = np.exp(-np.linspace(0, 10, n))
    kick = (np.sin(2 * np.pi * 55 * np.arange(n) / sr * (1 + 2 * env)) * env).astype(np.float32)
    snare = (rng.standard_normal(n) * env**2).astype(np.float32)
    hat = (rng.standard_normal(n // 4) * env[: n // 4] ** 4).astype(np.float32)
    for i, beat in enumerate(beats):
        period = beats[i + 1] - beat if i + 1 < len(beats) else beats[-1] - beats[-2]
        if i % beats_per_bar == 0:
            add(beat, kick, 0.9)
            chord = bars[(i // beats_per_bar) % len(bars)]
            bar_s = period * beats_per_bar
            add(beat, _tone(chord[0] - 12, bar_s, sr, partials=2), 0.35)
            for note in chord:
                add(beat, _tone(note, bar_s, sr), 0.12)
        else:
            add(beat, snare, 0.35)
        add(beat + period / 2, hat, 0.1)
    out += NOISE_FLOOR * rng.standard_normal(len(out)).astype(np.float32)  # as in any real recording
    return out / max(np.abs(out).max(), 1e-9) * 0.8


def render_midi_file(midi_path: Path, wav_path: Path, sr: int = SR) -> Path:
    """Render with the FluidSynth CLI and the GM soundfont, as /work/shared/corpus/render_midi.py does."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RuntimeError(
            "fluidsynth and fluid-soundfont-gm are needed: apt-get install fluidsynth fluid-soundfont-gm"
        )
    cmd = ["fluidsynth", "-ni", "-g", "0.5", "-r", str(sr), "-F", str(wav_path), str(SOUNDFONT), str(midi_path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return wav_path


def f_measure(estimated, reference, window: float = 0.07) -> float:
    """Beat F-measure (MIREX window ±70 ms), one-to-one matching."""
    est = sorted(float(x) for x in estimated)
    ref = sorted(float(x) for x in reference)
    if not est or not ref:
        return 0.0
    used: set[int] = set()
    hits = 0
    for r in ref:
        j = int(np.argmin([abs(e - r) for e in est]))
        if abs(est[j] - r) <= window and j not in used:
            used.add(j)
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(est), hits / len(ref)
    return 2 * precision * recall / (precision + recall)
