from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.export.timecode import RATES, format_timecode, frame_rate, parse_timecode, time_reference


@pytest.mark.parametrize(
    ("text", "fps", "frames"),
    [
        ("01:00:00:00", "25", 90000),
        ("00:00:01:00", "23.976", 24),
        ("00:01:00;02", "29.97", 1800),  # first frame number after the drop at minute 1
        ("00:10:00;00", "29.97", 17982),  # no drop at minute 10
        ("01:00:00;00", "59.94", 215784),
    ],
)
def test_known_timecodes(text, fps, frames):
    rate = frame_rate(fps, drop=";" in text)
    assert parse_timecode(text, rate) == frames
    assert format_timecode(frames, rate) == text


@pytest.mark.parametrize(("fps", "expected"), [("25", 172_800_000), ("24", 172_800_000), ("23.976", 172_972_800),
                                               ("29.97", 172_972_800)])
def test_bwf_time_reference_at_one_hour(fps, expected):
    assert time_reference("01:00:00:00", frame_rate(fps), 48000) == expected


@given(st.sampled_from(sorted(RATES)), st.booleans(), st.integers(0, 24 * 3600 * 24 - 1))
def test_format_parse_round_trip(label, drop, frames):
    rate = frame_rate(label, drop=drop and label in ("29.97", "59.94"))
    frames = frames % int(24 * 3600 * rate.fps)
    assert parse_timecode(format_timecode(frames, rate), rate) == frames


def test_rates_are_exact_and_validated():
    assert frame_rate("29.97").fps == Fraction(30000, 1001)
    assert frame_rate("23.976").frame_duration == Fraction(1001, 24000)
    assert frame_rate("29.97df").drop
    with pytest.raises(ValueError, match="unsupported frame rate"):
        frame_rate("31")
    with pytest.raises(ValueError, match="drop-frame"):
        frame_rate("25", drop=True)
    with pytest.raises(ValueError):
        parse_timecode("01:00:00:25", frame_rate("25"))
