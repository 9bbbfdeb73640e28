"""DaVinci Resolve timeline-marker EDL (CMX3600 shape with `|C:` colour, `|M:` name, `|D:` duration)."""

from __future__ import annotations

from worker.export.markers import Marker
from worker.export.timecode import FrameRate, format_timecode, parse_timecode, seconds_to_frames

RESOLVE_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender",
                  "Sky", "Mint", "Lemon", "Sand", "Cocoa", "Cream")
MARKER_FRAMES = 1


def build_resolve_edl(markers: list[Marker], rate: FrameRate, start_tc: str, title: str) -> str:
    """One event per marker at record timecode `start_tc` + marker time, on frame boundaries."""
    start = parse_timecode(start_tc, rate)
    lines = [f"TITLE: {_clean(title)}", f"FCM: {'DROP FRAME' if rate.drop else 'NON-DROP FRAME'}", ""]
    for number, marker in enumerate(markers, start=1):
        frame = start + seconds_to_frames(marker.time_s, rate)
        tc_in, tc_out = format_timecode(frame, rate), format_timecode(frame + MARKER_FRAMES, rate)
        color = marker.color if marker.color in RESOLVE_COLORS else RESOLVE_COLORS[0]
        lines.append(f"{number:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  ")
        lines.append(f" |C:ResolveColor{color} |M:{_clean(marker.name)} |D:{MARKER_FRAMES}")
        lines.append("")
    return "\n".join(lines)


def _clean(text: str) -> str:
    return " ".join(text.replace("|", "/").split())
