"""Times as editors read them: m:ss (h:mm:ss past an hour), with tenths or hundredths where they matter."""

from __future__ import annotations

import math


def clock(seconds: float, decimals: int = 0) -> str:
    """`clock(83.25, 1)` → "1:23.3"; negative times keep their sign."""
    sign = "-" if seconds < 0 else ""
    scale = 10**decimals
    total = round(abs(seconds) * scale)
    whole, frac = divmod(total, scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return sign + text + (f".{frac:0{decimals}d}" if decimals else "")


def decimals_for(step_s: float) -> int:
    """Decimals needed to tell ticks `step_s` apart (0 for whole seconds)."""
    return 0 if step_s >= 1 else min(3, math.ceil(-math.log10(step_s) - 1e-9))
