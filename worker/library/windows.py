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


class WindowPlan:
    """Where the windows of a track of not-yet-known length fall, as sample ranges [start, end).

    `ready(total)` gives the windows that `total` samples complete; `finish(total)` the rest once the length is
    known: the track itself when it is shorter than one window, else a window ending at the end when more than
    a second is left uncovered. Shared by `windows` and encoders that embed a whole stream at once.
    """

    def __init__(self, sample_rate: int, window_s: float, hop_s: float) -> None:
        self.sample_rate = sample_rate
        self.win = int(round(window_s * sample_rate))
        self.hop = int(round(hop_s * sample_rate))
        self.next_start = 0
        self.last_end = 0  # end of the last full window given out, 0 before the first

    def ready(self, total: int) -> list[tuple[int, int]]:
        out = []
        while self.next_start + self.win <= total:
            out.append((self.next_start, self.next_start + self.win))
            self.last_end = self.next_start + self.win
            self.next_start += self.hop
        return out

    def finish(self, total: int) -> list[tuple[int, int]]:
        out = self.ready(total)
        if not self.last_end:
            return [(0, total)] if total else []
        if total - self.last_end >= self.sample_rate:  # more than a second left over: one more window
            out.append((total - self.win, total))
        return out


def windows(blocks: Iterable[np.ndarray], sample_rate: int, window_s: float, hop_s: float) -> Iterator[Window]:
    """Yield windows in order; a track shorter than one window yields one window of its own length."""
    plan = WindowPlan(sample_rate, window_s, hop_s)
    buf = np.zeros(0, np.float32)
    buf_start = 0  # absolute sample index of buf[0]
    keep = plan.win  # the end-aligned tail window may reach back one window from the end
    for block in blocks:
        buf = np.concatenate([buf, block]) if len(buf) else block
        total = buf_start + len(buf)
        for start, end in plan.ready(total):
            yield Window(start / sample_rate, end / sample_rate, buf[start - buf_start : end - buf_start])
        drop = max(min(plan.next_start, total - keep) - buf_start, 0)
        buf, buf_start = buf[drop:], buf_start + drop
    total = buf_start + len(buf)
    for start, end in plan.finish(total):
        yield Window(start / sample_rate, end / sample_rate, buf[start - buf_start : end - buf_start])
