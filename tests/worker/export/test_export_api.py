from pathlib import Path
from xml.etree import ElementTree as ET

import mido
import numpy as np
import pytest
import soundfile as sf

from tests.worker.analysis.music import band, beat_grid
from worker.analysis.stems_hpss import SUM_TOLERANCE
from worker.export.api import export_cue
from worker.export.bwf import parse_acid, parse_bext, parse_ixml
from worker.export.riff import read_chunks
from worker.jobs import JobFailed

SOURCE_RATE = 44100
LSB_24 = 2.0**-23


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    beats = beat_grid(16.0, 120.0, start=0.5)
    wave = band(beats, 16.0, sr=SOURCE_RATE)
    path = tmp_path_factory.mktemp("src") / "Night Drive.wav"
    sf.write(path, np.stack([wave, 0.8 * wave], axis=1), SOURCE_RATE, subtype="PCM_24")
    return path


def test_full_export_writes_every_file_with_metadata(source, tmp_path):
    out = tmp_path / "out"
    result = export_cue(source, out, fit_s=10.0, stems=True, midi=True, markers="resolve,fcpxml,premiere,csv",
                        timecode="01:00:00:00", fps="25", seed=1234, description="chase scene", click=True)
    names = sorted(Path(p).name for p in result["files"])
    assert names == sorted(["Night Drive.wav", "Night Drive-hpss-drums.wav", "Night Drive-hpss-bass.wav",
                            "Night Drive-hpss-other.wav", "Night Drive.mid", "Night Drive.edl",
                            "Night Drive.fcpxml", "Night Drive.xml", "Night Drive-markers.csv"])
    assert all(Path(p).parent == out.resolve() for p in result["files"])
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    assert result["stems_backend"] == "hpss" and result["fit"]["within_tolerance"]
    assert abs(result["tempo_bpm"] - 120.0) < 1.0
    mix, rate = sf.read(out / "Night Drive.wav", dtype="float64")
    assert rate == 48000 and len(mix) == round(result["duration_s"] * 48000)
    assert abs(result["duration_s"] - 10.0) <= result["fit"]["tolerance_s"]
    stems = [sf.read(out / f"Night Drive-hpss-{s}.wav", dtype="float64")[0] for s in ("drums", "bass", "other")]
    assert all(s.shape == mix.shape for s in stems)
    assert np.abs(sum(stems) - mix).max() < SUM_TOLERANCE + 4 * LSB_24  # the HPSS bound plus 24-bit rounding
    for wav in out.glob("*.wav"):
        chunks = dict(read_chunks(wav))
        bext = parse_bext(chunks[b"bext"])
        assert bext.time_reference == 3600 * 48000
        assert "tempo 1" in bext.description and "seed 1234" in bext.description
        assert "Night Drive.wav" in bext.description and "key " in bext.description
        assert parse_acid(chunks[b"acid"]).bpm == pytest.approx(result["tempo_bpm"], abs=1e-3)
        user = parse_ixml(chunks[b"iXML"]).find("USER")
        assert user.findtext("SEED") == "1234" and user.findtext("SOURCE") == str(source.resolve())
        assert user.findtext("KEY") == (result["key"] or "")
        assert user.findtext("STEM") in ("mix", "drums", "bass", "other")
    midi = mido.MidiFile(out / "Night Drive.mid")
    assert any(m.type == "text" and "seed 1234" in m.text for m in midi.tracks[0])
    fcpxml = ET.parse(out / "Night Drive.fcpxml").getroot()
    assert fcpxml.find(".//media-rep").get("src").endswith("Night%20Drive.wav")


def test_never_overwrites_without_force_and_stays_inside(source, tmp_path):
    first = export_cue(source, tmp_path, start_s=2.0, end_s=8.0, bit_depth=16, name="../../escape")
    written = Path(first["files"][0])
    assert written.parent == tmp_path.resolve() and written.name == "escape.wav"
    before = written.read_bytes()
    with pytest.raises(JobFailed, match="--force"):
        export_cue(source, tmp_path, start_s=2.0, end_s=7.0, bit_depth=16, name="../../escape")
    assert written.read_bytes() == before
    again = export_cue(source, tmp_path, start_s=2.0, end_s=7.0, bit_depth=32, name="../../escape", force=True)
    assert sf.info(again["files"][0]).subtype == "FLOAT"
    assert sf.info(again["files"][0]).duration == pytest.approx(5.0, abs=1e-4)


def test_bad_requests_fail_with_a_reason(source, tmp_path):
    with pytest.raises(JobFailed, match="marker format"):
        export_cue(source, tmp_path, markers="avid")
    with pytest.raises(JobFailed, match="frame rate"):
        export_cue(source, tmp_path, fps="31")
    with pytest.raises(JobFailed, match="empty region"):
        export_cue(source, tmp_path, start_s=20.0)
    with pytest.raises(JobFailed, match="bit depth"):
        export_cue(source, tmp_path, bit_depth=20)
    assert list(tmp_path.iterdir()) == []
