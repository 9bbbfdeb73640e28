"""The per-scene search's reply as the timeline's cues: one `SceneCue` per stretch of the video the worker gave
its own results (`search(video=…, split=True)` → `{"cues": [{start_s, end_s, scenes, results, …}]}`), and the
timecode an exported cue starts at.

Plain data and functions (no widgets), so the timeline, the results panel and the export share one reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

DEFAULT_TIMECODE = "01:00:00:00"  # the picture's first frame (as the export dialog assumes)
NTSC_RATES = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "59.94": Fraction(60000, 1001)}
TIMECODE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})[:;](\d{2})$")
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class SceneCue:
    """One cue of the video: its span in picture seconds, the scenes inside it, and its own search reply."""

    index: int
    start_s: float
    end_s: float
    scenes: list[tuple[float, float]] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)  # results, diversity, seed, steer … of this cue alone

    @property
    def top(self) -> dict[str, Any] | None:
        results = self.reply.get("results") or []
        return results[0] if results else None

    @property
    def label(self) -> str:
        """What the timeline band says: its number and its best match ("2 · Harbour Lights")."""
        top = self.top
        name = (top.get("title") or Path(top["path"]).stem) if top else "no match"
        return f"{self.index + 1} · {name}"


def cues_from_reply(reply: dict[str, Any]) -> list[SceneCue]:
    """The cues of a per-scene search reply, in time order; [] for any other reply."""
    cues = []
    for i, cue in enumerate(sorted(reply.get("cues") or [], key=lambda c: float(c["start_s"]))):
        scenes = [(float(a), float(b)) for a, b in cue.get("scenes") or [(cue["start_s"], cue["end_s"])]]
        own = {k: v for k, v in cue.items() if k not in ("start_s", "end_s", "scenes")}
        cues.append(SceneCue(i, float(cue["start_s"]), float(cue["end_s"]), scenes, own))
    return cues


def fps_fraction(label: str) -> Fraction:
    """Exact frames per second for the export dialog's labels ("25", "29.97" → 30000/1001)."""
    return NTSC_RATES.get(label.strip(), Fraction(label.strip()))


def timecode_at(seconds: float, fps: str, base: str = DEFAULT_TIMECODE) -> str:
    """The non-drop-frame timecode `seconds` into the picture when its first frame is `base`: a cue at 18 s
    exported at 25 fps starts at 01:00:18:00, so it lands on its scene in the editor's timeline."""
    match = TIMECODE.match(base.strip())
    if not match:
        raise ValueError(f"timecode must look like 01:00:00:00, got {base!r}")
    rate = fps_fraction(fps)
    nominal = round(rate)
    h, m, s, f = (int(g) for g in match.groups())
    frames = (h * 3600 + m * 60 + s) * nominal + f + round(Fraction(seconds) * rate)
    frames %= SECONDS_PER_DAY * nominal
    total, f = divmod(frames, nominal)
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}:{f:02d}"
