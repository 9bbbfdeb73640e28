"""Cut a stream of blocks into fixed windows with a hop (10 s / 5 s by default), never holding more than one
window plus one block in memory. The last window is aligned to the end of the track so the tail is covered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float
    samples: np.ndarray


def windows(blocks: Iterable[np.ndarray], sample_rate: int, window_s: float, hop_s: float) -> Iterator[Window]:
    """Yield windows in order; a track shorter than one window yields one window of its own length."""
    win = int(round(window_s * sample_rate))
    hop = int(round(hop_s * sample_rate))
    buf = np.zeros(0, np.float32)
    buf_start = 0  # absolute sample index of buf[0]
    last_win: np.ndarray | None = None
    last_end = 0
    for block in blocks:
        buf = np.concatenate([buf, block]) if len(buf) else block
        while len(buf) >= win:
            last_win = buf[:win]
            last_end = buf_start + win
            yield Window(buf_start / sample_rate, last_end / sample_rate, last_win)
            buf = buf[hop:]
            buf_start += hop
    total = buf_start + len(buf)
    if last_win is None:
        if total:
            yield Window(0.0, total / sample_rate, buf)
        return
    uncovered = buf[last_end - buf_start :]
    if len(uncovered) >= sample_rate:  # more than a second left over: one more window ending at the end
        tail = np.concatenate([last_win, uncovered])[-win:]
        yield Window((total - win) / sample_rate, total / sample_rate, tail)
