"""Frame rates and SMPTE timecode (drop-frame included), as editors type them: "01:00:00:00" at "29.97".

Times are kept as exact fractions: 29.97 fps is 30000/1001, and an FCPXML or EDL frame must be exactly the
frame the editor expects, not a rounded float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class FrameRate:
    label: str  # as the user typed it: "23.976", "25", "29.97"...
    fps: Fraction  # exact frames per second
    nominal: int  # frames counted per timecode second (24 for 23.976)
    drop: bool = False  # drop-frame timecode (29.97 / 59.94 only)

    @property
    def frame_duration(self) -> Fraction:
        return 1 / self.fps

    @property
    def ntsc(self) -> bool:
        return self.fps.denominator == 1001


RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
DROP_RATES = ("29.97", "59.94")
TIMECODE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2})$")


def frame_rate(label: str | float | int, drop: bool = False) -> FrameRate:
    """Parse "25", "29.97", "29.97df" ... into a FrameRate; ValueError lists the supported rates."""
    text = str(label).strip().lower()
    if text.endswith(("df", "drop")):
        text, drop = text.removesuffix("drop").removesuffix("df").strip(), True
    key = next((k for k in RATES if float(k) == _float(text)), None)
    if key is None:
        raise ValueError(f"unsupported frame rate {label!r}; use one of {', '.join(RATES)}")
    if drop and key not in DROP_RATES:
        raise ValueError(f"drop-frame timecode exists only at {' and '.join(DROP_RATES)} fps, not {key}")
    fps = RATES[key]
    return FrameRate(key, fps, round(float(fps)), drop)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _drop_per_minute(rate: FrameRate) -> int:
    return rate.nominal // 15  # 2 at 29.97, 4 at 59.94


def parse_timecode(text: str, rate: FrameRate) -> int:
    """Frame count since 00:00:00:00. A ';' before the frames means drop-frame, as in NLEs."""
    match = TIMECODE.match(text.strip())
    if not match:
        raise ValueError(f"timecode must look like 01:00:00:00, got {text!r}")
    hours, minutes, seconds, sep, frames = match.groups()
    h, m, s, f = int(hours), int(minutes), int(seconds), int(frames)
    if m > 59 or s > 59 or f >= rate.nominal:
        raise ValueError(f"timecode {text!r} out of range at {rate.label} fps")
    count = ((h * 3600 + m * 60 + s) * rate.nominal) + f
    if rate.drop or sep == ";":
        if not rate.ntsc:
            raise ValueError(f"drop-frame timecode {text!r} needs 29.97 or 59.94 fps")
        total_minutes = 60 * h + m
        count -= _drop_per_minute(rate) * (total_minutes - total_minutes // 10)
    return count


def format_timecode(frames: int, rate: FrameRate) -> str:
    """HH:MM:SS:FF (HH:MM:SS;FF for drop-frame), wrapping at 24 hours like decks and NLEs do."""
    frames = int(frames)
    if rate.drop:
        drop = _drop_per_minute(rate)
        per_minute = rate.nominal * 60 - drop
        per_ten = per_minute * 10 + drop
        tens, rem = divmod(frames, per_ten)
        frames += 9 * drop * tens + (drop * ((rem - drop) // per_minute) if rem > drop else 0)
    f = frames % rate.nominal
    total_seconds = frames // rate.nominal
    h, m, s = (total_seconds // 3600) % 24, (total_seconds // 60) % 60, total_seconds % 60
    return f"{h:02d}:{m:02d}:{s:02d}{';' if rate.drop else ':'}{f:02d}"


def frames_to_seconds(frames: int, rate: FrameRate) -> Fraction:
    return Fraction(frames) / rate.fps


def seconds_to_frames(seconds: float, rate: FrameRate) -> int:
    """The frame whose start is nearest to `seconds` (real time, so 23.976 frames are 1001/24000 s)."""
    return round(Fraction(seconds) * rate.fps)


def time_reference(timecode: str, rate: FrameRate, sample_rate: int) -> int:
    """BWF TimeReference: samples since midnight for a start timecode (01:00:00:00 @ 25 fps, 48 kHz = 172800000)."""
    samples = round(frames_to_seconds(parse_timecode(timecode, rate), rate) * sample_rate)
    return samples % (SECONDS_PER_DAY * sample_rate)
