import csv
import io
import re
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from worker.export.markers import Marker, beat_markers
from worker.export.nle_csv import build_csv
from worker.export.nle_edl import build_resolve_edl
from worker.export.nle_fcpxml import build_fcpxml, parse_fcp_time
from worker.export.nle_xmeml import build_xmeml
from worker.export.timecode import RATES, frame_rate, parse_timecode

MARKERS = [Marker(0.0, "Start"), Marker(1.234, "Bar 2"), Marker(61.5, "Drop", "Red", note="big"),
           Marker(3599.99, "Late")]
EDL_EVENT = re.compile(r"^(\d{3})  001      V     C        (\S+) (\S+) (\S+) (\S+)\s*$")
EDL_NOTE = re.compile(r"^ \|C:ResolveColor(\w+) \|M:(.+) \|D:(\d+)$")


def _intended(marker: Marker, fps: Fraction) -> int:
    return round(Fraction(marker.time_s) * fps)


@pytest.mark.parametrize("label", sorted(RATES))
def test_fcpxml_marker_times_are_the_intended_frames(label):
    rate = frame_rate(label)
    text = build_fcpxml(MARKERS, media=Path("/tmp/cue.wav"), duration_s=3600.5, rate=rate, start_tc="01:00:00:00",
                        name="cue", sample_rate=48000, channels=2)
    root = ET.fromstring(text.split("\n", 2)[2])  # after the XML declaration and DOCTYPE
    assert root.tag == "fcpxml"
    fmt = root.find("resources/format")
    assert parse_fcp_time(fmt.get("frameDuration")) == 1 / rate.fps
    for element in root.iter():
        for attr in ("start", "duration", "offset", "tcStart", "frameDuration"):
            value = element.get(attr)
            if value is not None:
                assert re.fullmatch(r"\d+(/\d+)?s", value), value  # rational seconds, never decimals
    start = parse_fcp_time(root.find(".//sequence").get("tcStart"))
    assert start == parse_timecode("01:00:00:00", rate) / rate.fps
    markers = root.findall(".//asset-clip/marker")
    assert [m.get("value") for m in markers] == [m.name for m in MARKERS]
    for element, marker in zip(markers, MARKERS, strict=True):
        frames = (parse_fcp_time(element.get("start")) - start) * rate.fps
        assert frames.denominator == 1 and frames == _intended(marker, rate.fps)
    clip_end = parse_fcp_time(root.find(".//asset-clip").get("duration")) * rate.fps
    assert clip_end.denominator == 1 and clip_end >= 3600.5 * float(rate.fps)


@pytest.mark.parametrize(
    ("label", "start_tc"), [("25", "01:00:00:00"), ("29.97", "00:59:59;28"), ("23.976", "10:00:00:00")]
)
def test_resolve_edl_lines_parse(label, start_tc):
    rate = frame_rate(label, drop=";" in start_tc)
    text = build_resolve_edl(MARKERS, rate, start_tc, "Beat | Markers")
    lines = text.split("\n")
    assert lines[0] == "TITLE: Beat / Markers"
    assert lines[1] == ("FCM: DROP FRAME" if rate.drop else "FCM: NON-DROP FRAME")
    events = [line for line in lines if EDL_EVENT.match(line)]
    notes = [EDL_NOTE.match(line) for line in lines if line.startswith(" |")]
    assert len(events) == len(notes) == len(MARKERS)
    start = parse_timecode(start_tc, rate)
    for number, (line, note, marker) in enumerate(zip(events, notes, MARKERS, strict=True), start=1):
        num, src_in, src_out, rec_in, rec_out = EDL_EVENT.match(line).groups()
        assert int(num) == number and src_in == rec_in and src_out == rec_out
        assert parse_timecode(rec_in, rate) - start == _intended(marker, rate.fps)
        assert parse_timecode(rec_out, rate) == parse_timecode(rec_in, rate) + 1
        assert note and note.group(2) == marker.name and note.group(1) == marker.color


def test_premiere_xmeml_and_csv():
    rate = frame_rate("29.97")
    text = build_xmeml(MARKERS, media=Path("/tmp/my cue.wav"), duration_s=3600.5, rate=rate, start_tc="01:00:00:00",
                       name="cue", sample_rate=48000, channels=2, bit_depth=24)
    root = ET.fromstring(text.split("\n", 2)[2])
    sequence = root.find("sequence")
    assert root.tag == "xmeml" and sequence.findtext("rate/timebase") == "30"
    assert sequence.findtext("rate/ntsc") == "TRUE"
    assert sequence.findtext("timecode/frame") == str(parse_timecode("01:00:00:00", rate))
    assert root.find(".//file/pathurl").text == "file://localhost/tmp/my%20cue.wav"
    ins = [int(m.findtext("in")) for m in sequence.findall("marker")]
    assert ins == [_intended(m, rate.fps) for m in MARKERS]
    rows = list(csv.DictReader(io.StringIO(build_csv(MARKERS, rate, "01:00:00:00"))))
    assert [r["name"] for r in rows] == [m.name for m in MARKERS]
    assert int(rows[2]["frame"]) == _intended(MARKERS[2], rate.fps) and rows[2]["note"] == "big"
    assert rows[0]["timecode"] == "01:00:00:00"


def test_beat_markers_levels():
    beats = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    downs = [1.0, 3.0]
    assert [m.name for m in beat_markers(beats, downs, "bar")] == ["Bar 1", "Bar 2"]
    assert [m.name for m in beat_markers(beats, downs, "beat")] == ["0.1", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
