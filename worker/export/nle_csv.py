"""Markers as CSV for everything else (spreadsheets, Avid locator import via a script, cue sheets)."""

from __future__ import annotations

import csv
import io

from worker.export.markers import Marker
from worker.export.timecode import FrameRate, format_timecode, parse_timecode, seconds_to_frames

COLUMNS = ("index", "name", "time_s", "timecode", "frame", "color", "note")


def build_csv(markers: list[Marker], rate: FrameRate, start_tc: str) -> str:
    start = parse_timecode(start_tc, rate)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i, marker in enumerate(markers, start=1):
        frame = seconds_to_frames(marker.time_s, rate)
        writer.writerow([i, marker.name, f"{marker.time_s:.6f}", format_timecode(start + frame, rate), frame,
                         marker.color, marker.note])
    return buffer.getvalue()
