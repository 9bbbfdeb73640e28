"""Final Cut Pro 7 XML (xmeml v4), the sequence format Premiere Pro imports, with sequence markers in frames."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

from worker.export.markers import Marker
from worker.export.timecode import FrameRate, parse_timecode, seconds_to_frames

XMEML_VERSION = "4"


def _rate(parent: ET.Element, rate: FrameRate) -> None:
    node = ET.SubElement(parent, "rate")
    ET.SubElement(node, "timebase").text = str(rate.nominal)
    ET.SubElement(node, "ntsc").text = "TRUE" if rate.ntsc else "FALSE"


def _timecode(parent: ET.Element, rate: FrameRate, start_tc: str) -> None:
    node = ET.SubElement(parent, "timecode")
    _rate(node, rate)
    ET.SubElement(node, "string").text = start_tc
    ET.SubElement(node, "frame").text = str(parse_timecode(start_tc, rate))
    ET.SubElement(node, "displayformat").text = "DF" if rate.drop else "NDF"


def build_xmeml(markers: list[Marker], *, media: Path, duration_s: float, rate: FrameRate, start_tc: str, name: str,
                sample_rate: int, channels: int, bit_depth: int) -> str:
    frames = int(-(-Fraction(duration_s) * rate.fps // 1))
    root = ET.Element("xmeml", version=XMEML_VERSION)
    sequence = ET.SubElement(root, "sequence", id="sequence-1")
    ET.SubElement(sequence, "name").text = name
    ET.SubElement(sequence, "duration").text = str(frames)
    _rate(sequence, rate)
    _timecode(sequence, rate, start_tc)
    media_node = ET.SubElement(sequence, "media")
    video = ET.SubElement(media_node, "video")
    ET.SubElement(video, "track")
    audio = ET.SubElement(media_node, "audio")
    track = ET.SubElement(audio, "track")
    clip = ET.SubElement(track, "clipitem", id="clipitem-1")
    ET.SubElement(clip, "name").text = media.name
    ET.SubElement(clip, "duration").text = str(frames)
    _rate(clip, rate)
    for tag, value in (("start", 0), ("end", frames), ("in", 0), ("out", frames)):
        ET.SubElement(clip, tag).text = str(value)
    file_node = ET.SubElement(clip, "file", id="file-1")
    ET.SubElement(file_node, "name").text = media.name
    ET.SubElement(file_node, "pathurl").text = "file://localhost" + media.resolve().as_uri().removeprefix("file://")
    _rate(file_node, rate)
    ET.SubElement(file_node, "duration").text = str(frames)
    _timecode(file_node, rate, start_tc)
    file_audio = ET.SubElement(ET.SubElement(file_node, "media"), "audio")
    characteristics = ET.SubElement(file_audio, "samplecharacteristics")
    ET.SubElement(characteristics, "depth").text = str(bit_depth)
    ET.SubElement(characteristics, "samplerate").text = str(sample_rate)
    ET.SubElement(file_audio, "channelcount").text = str(channels)
    ET.SubElement(clip, "sourcetrack").append(_text("mediatype", "audio"))
    for marker in markers:
        node = ET.SubElement(sequence, "marker")
        ET.SubElement(node, "name").text = marker.name
        ET.SubElement(node, "comment").text = marker.note
        ET.SubElement(node, "in").text = str(seconds_to_frames(marker.time_s, rate))
        ET.SubElement(node, "out").text = "-1"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _text(tag: str, text: str) -> ET.Element:
    node = ET.Element(tag)
    node.text = text
    return node
