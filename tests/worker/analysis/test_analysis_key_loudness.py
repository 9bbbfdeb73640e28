import numpy as np
import pytest

from tests.worker.analysis.music import A_MINOR_BARS, EB_MAJOR_BARS, SR, band, beat_grid
from worker.analysis.api import analyze_wave
from worker.analysis.loudness import integrated_lufs

SINE_OFFSET_LUFS = -3.01  # BS.1770: a full-scale 997 Hz sine in one channel reads -3.01 LUFS


@pytest.mark.parametrize(("bars", "expected"), [(A_MINOR_BARS, "A minor"), (EB_MAJOR_BARS, "Eb major")])
def test_key_of_a_cadence(bars, expected):
    beats = beat_grid(16.0, 110.0)
    result = analyze_wave(band(beats, 16.0, bars=bars), SR)
    assert result["key"] == expected
    assert result["key_confidence"] > 0.5


def test_silence_has_no_key_or_loudness():
    result = analyze_wave(np.zeros(SR * 3, np.float32), SR)
    assert result["key"] is None
    assert result["beats_s"] == [] or len(result["beats_s"]) < 3
    assert integrated_lufs(np.zeros(48000 * 2), 48000) is None


@pytest.mark.parametrize("amplitude", [1.0, 0.1])
def test_r128_loudness_of_a_sine(amplitude):
    rate = 48000
    t = np.arange(rate * 3) / rate
    sine = amplitude * np.sin(2 * np.pi * 997.0 * t)
    expected = 20 * np.log10(amplitude) + SINE_OFFSET_LUFS
    assert integrated_lufs(sine, rate) == pytest.approx(expected, abs=0.1)
    stereo = np.stack([sine, sine], axis=1)  # two equal channels add 3 dB
    assert integrated_lufs(stereo, rate) == pytest.approx(expected + 3.01, abs=0.1)
