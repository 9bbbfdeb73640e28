"""A small demo library made on the spot (no download): short tagged FLAC tracks with chords, bass and drums at
different tempos and keys, one unreadable file, and a picture — what `--screenshot` loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 22050
SECONDS = 16.0
ARTIST = "cuesteer demo ensemble"
TRACKS = (  # title, tempo (BPM), root (Hz), minor?, drums?
    ("Harbour at Dawn", 72, 220.0, False, False),
    ("Night Drive", 118, 146.8, True, True),
    ("Paper Lanterns", 90, 261.6, False, True),
    ("Cold Front", 64, 196.0, True, False),
    ("Market Day", 128, 293.7, False, True),
    ("Slow Tide", 56, 174.6, True, False),
    ("Rooftops", 100, 246.9, False, True),
    ("Last Train", 84, 164.8, True, True),
)


def synth_track(tempo: float, root: float, minor: bool, drums: bool, seed: int,
                seconds: float = SECONDS, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Four-bar chord loop with bass and optional kick/hat: enough structure for beats, key and a waveform."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    beat = 60.0 / tempo
    third = 1.189 if minor else 1.26
    progression = [1.0, 1.335, 1.498, 1.122 if minor else 1.335]
    out = np.zeros(n, np.float32)
    bar = 4 * beat
    for i in range(int(seconds / bar) + 1):
        start, stop = int(i * bar * sr), min(n, int((i + 1) * bar * sr))
        if start >= n:
            break
        seg = t[start:stop] - t[start]
        base = root * progression[i % len(progression)]
        env = np.exp(-seg / (bar * 0.8))
        for ratio in (1.0, third, 1.498):
            out[start:stop] += 0.12 * env * np.sin(2 * np.pi * base * ratio * seg)
        out[start:stop] += 0.18 * env * np.sin(2 * np.pi * base / 2 * seg)
    if drums:
        for k, when in enumerate(np.arange(0, seconds, beat / 2)):
            i = int(when * sr)
            length = min(int(0.12 * sr), n - i)
            seg = np.arange(length) / sr
            if k % 2 == 0:
                out[i:i + length] += 0.5 * np.exp(-seg * 30) * np.sin(2 * np.pi * 60 * seg)
            out[i:i + length] += 0.08 * np.exp(-seg * 80) * rng.standard_normal(length).astype(np.float32)
    return (out / max(float(np.abs(out).max()), 1e-6) * 0.8).astype(np.float32)


def write_demo_music(folder: Path, variant: int = 0) -> list[Path]:
    """The demo tracks (a `variant` > 0 transposes and re-tempos them: distinct audio, not duplicates)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    shift = 2 ** (variant / 12)
    for i, (title, tempo, root, minor, drums) in enumerate(TRACKS):
        name = title if not variant else f"{title} (take {variant + 1})"
        path = folder / f"{i + 1:02d} {name}.flac"
        with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, format="FLAC") as f:
            f.title, f.artist = name, ARTIST
            f.write(synth_track(tempo * (1 + 0.03 * variant), root * shift, minor, drums, seed=i + 100 * variant))
        paths.append(path)
    (folder / "damaged take.mp3").write_bytes(b"ID3 this is not audio")
    return paths


def write_demo_picture(path: Path) -> Path:
    """A dusk harbour in flat colours (PNG via Qt, so no imaging dependency)."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    image = QImage(320, 180, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    sky = QLinearGradient(0, 0, 0, 120)
    sky.setColorAt(0, QColor("#1d2b53"))
    sky.setColorAt(1, QColor("#ff8c42"))
    painter.fillRect(QRectF(0, 0, 320, 120), sky)
    painter.fillRect(QRectF(0, 120, 320, 60), QColor("#14304a"))
    painter.setBrush(QColor("#ffd166"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(200, 80, 50, 50))
    painter.fillRect(QRectF(40, 95, 14, 30), QColor("#0b1320"))
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path))
    return path
