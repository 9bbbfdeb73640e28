"""Waveform thumbnails: per-column peak levels of an audio file, read in blocks so a long file costs little memory.

Pure functions of a path (run them off the GUI thread with `desktop.tasks.run_task`); drawing is in the views.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

THUMB_COLUMNS = 160
BLOCK_FRAMES = 65536
MAX_THUMB_SECONDS = 600.0  # beyond this a thumbnail samples the first ten minutes


def peaks(path: str | Path, columns: int = THUMB_COLUMNS, max_seconds: float = MAX_THUMB_SECONDS) -> np.ndarray:
    """(columns,) peak |amplitude| per column across the file (0…1); raises RuntimeError/OSError if unreadable."""
    with sf.SoundFile(str(path)) as f:
        total = min(f.frames, int(max_seconds * f.samplerate)) if f.frames > 0 else int(max_seconds * f.samplerate)
        total = max(total, 1)
        out = np.zeros(columns, np.float32)
        edges = np.linspace(0, total, columns + 1).astype(np.int64)
        pos = 0
        for block in f.blocks(blocksize=BLOCK_FRAMES, always_2d=True, dtype="float32"):
            if pos >= total:
                break
            level = np.abs(block[: total - pos]).max(axis=1)
            # columns this block touches, as runs: one reduceat per block (ufunc.at is slow and holds the GIL)
            cols = np.searchsorted(edges, pos + np.arange(len(level)), side="right") - 1
            starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
            runs = np.maximum.reduceat(level, starts)
            idx = np.clip(cols[starts], 0, columns - 1)
            out[idx] = np.maximum(out[idx], runs)
            pos += len(level)
    top = float(out.max())
    return out / top if top > 0 else out


def read_from(path: str | Path, start_s: float, max_seconds: float) -> tuple[np.ndarray, int]:
    """(frames × channels float32, sample rate) from `start_s`, at most `max_seconds` long."""
    with sf.SoundFile(str(path)) as f:
        rate = f.samplerate
        if start_s > 0 and f.seekable():
            f.seek(min(int(start_s * rate), max(f.frames - 1, 0)))
        data = f.read(int(max_seconds * rate), dtype="float32", always_2d=True)
    return data, rate
