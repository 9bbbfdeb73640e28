"""FCPXML 1.9 for Final Cut Pro: the cue as an audio asset-clip on a project with its markers.

All times are rational seconds on frame boundaries ("1001/30000s", "5s"), never decimals. The asset's start
is the start timecode, matching the BWF TimeReference that Final Cut reads from the file.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

from worker.export.markers import Marker
from worker.export.timecode import FrameRate, frames_to_seconds, parse_timecode, seconds_to_frames

FCPXML_VERSION = "1.9"
VIDEO_SIZE = ("1920", "1080")


def fcp_time(seconds: Fraction) -> str:
    seconds = Fraction(seconds)
    if seconds.denominator == 1:
        return f"{seconds.numerator}s"
    return f"{seconds.numerator}/{seconds.denominator}s"


def parse_fcp_time(text: str) -> Fraction:
    body = text.removesuffix("s")
    num, _, den = body.partition("/")
    return Fraction(int(num), int(den) if den else 1)


def build_fcpxml(markers: list[Marker], *, media: Path, duration_s: float, rate: FrameRate, start_tc: str,
                 name: str, sample_rate: int, channels: int) -> str:
    start = frames_to_seconds(parse_timecode(start_tc, rate), rate)
    frames = int(-(-Fraction(duration_s) * rate.fps // 1))  # ceil: the clip covers the whole file
    duration = frames_to_seconds(frames, rate)
    tc_format = "DF" if rate.drop else "NDF"
    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    ET.SubElement(resources, "format", id="r1", frameDuration=fcp_time(rate.frame_duration),
                  width=VIDEO_SIZE[0], height=VIDEO_SIZE[1])
    asset = ET.SubElement(resources, "asset", id="r2", name=name, start=fcp_time(start), duration=fcp_time(duration),
                          hasAudio="1", hasVideo="0", audioSources="1", audioChannels=str(channels),
                          audioRate=str(sample_rate))
    ET.SubElement(asset, "media-rep", kind="original-media", src=media.resolve().as_uri())
    event = ET.SubElement(ET.SubElement(root, "library"), "event", name="cuesteer")
    sequence = ET.SubElement(ET.SubElement(event, "project", name=name), "sequence", format="r1",
                             duration=fcp_time(duration), tcStart=fcp_time(start), tcFormat=tc_format,
                             audioLayout="stereo" if channels > 1 else "mono", audioRate=f"{sample_rate // 1000}k")
    clip = ET.SubElement(ET.SubElement(sequence, "spine"), "asset-clip", ref="r2", name=name, offset=fcp_time(start),
                         start=fcp_time(start), duration=fcp_time(duration), tcFormat=tc_format)
    for marker in markers:
        at = start + frames_to_seconds(seconds_to_frames(marker.time_s, rate), rate)
        ET.SubElement(clip, "marker", start=fcp_time(at), duration=fcp_time(rate.frame_duration), value=marker.name,
                      **({"note": marker.note} if marker.note else {}))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + ET.tostring(root, encoding="unicode") + "\n"
