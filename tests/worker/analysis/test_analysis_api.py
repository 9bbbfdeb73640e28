import json

import pytest
import soundfile as sf

from tests.worker.analysis.music import SR, band, beat_grid, f_measure
from worker.analysis.api import analyze_file
from worker.jobs import Job, JobFailed

REQUIRED = {"tempo_bpm", "beats_s", "downbeats_s", "key", "loudness_lufs", "duration_s", "time_signature"}


def test_analyze_file_reports_everything_as_json(tmp_path):
    beats = beat_grid(12.0, 120.0)
    wave = band(beats, 12.0)
    path = tmp_path / "cue.flac"
    sf.write(path, wave, SR)
    stages = []
    result = analyze_file(path, job=Job(progress_fn=lambda stage, fraction, message: stages.append(stage)))
    assert set(result) >= REQUIRED
    assert json.loads(json.dumps(result)) == result
    assert abs(result["tempo_bpm"] - 120.0) < 1.0
    assert f_measure(result["beats_s"], beats) > 0.95
    assert result["duration_s"] == pytest.approx(12.0, abs=0.01)
    assert -30.0 < result["loudness_lufs"] < 0.0
    assert stages[0] == "decode" and stages[-1] == "done"


def test_unreadable_file_fails_with_the_reason(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF0000WAVEjunk" * 10)
    with pytest.raises(JobFailed, match="cannot analyse"):
        analyze_file(path)


def test_cancel_stops_the_job(tmp_path):
    path = tmp_path / "cue.wav"
    sf.write(path, band(beat_grid(4.0, 120.0), 4.0), SR)
    job = Job()
    job.cancel()
    from worker.jobs import Cancelled

    with pytest.raises(Cancelled):
        analyze_file(path, job=job)


def test_a_clip_of_two_seconds_still_gets_an_analysis() -> None:
    """Generated previews and short cues are shorter than the tempo search's longest lag."""
    import numpy as np

    from worker.analysis.api import analyze_wave

    rng = np.random.default_rng(0)
    clip = np.zeros(int(2.3 * SR), np.float32)
    for t in np.arange(0.0, 2.3, 0.5):  # 120 BPM clicks
        start = int(t * SR)
        clip[start:start + 200] += rng.normal(0, 0.5, len(clip[start:start + 200])).astype(np.float32)
    result = analyze_wave(clip, SR)
    assert result["duration_s"] == pytest.approx(2.3, abs=0.01) and len(result["beats_s"]) >= 2
