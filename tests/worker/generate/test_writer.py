"""Writing a cue: 24-bit WAVs whose stems sum to the mix sample for sample, the MIDI, a JSON sidecar with
seed and licence; atomic, and never overwriting unless asked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from worker.export.bwf import parse_acid, parse_bext, parse_ixml
from worker.export.riff import read_chunks
from worker.generate.base import GeneratedCue, GenerateError
from worker.generate.mixdown import PCM_SCALE, finish
from worker.generate.writer import write_cue

RATE = 48_000


def synthetic_cue(with_midi: bool = True) -> GeneratedCue:
    rng = np.random.default_rng(0)
    raw = {"bass": rng.normal(0, 0.3, (RATE, 2)), "lead guitar": rng.normal(0, 0.2, (RATE + 500, 2))}
    stems, mix = finish(raw, RATE, RATE, loop=False)
    midi = mido.MidiFile(type=1) if with_midi else None
    if midi is not None:
        midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000)]))
    return GeneratedCue(mix=mix, sample_rate=RATE, stems=stems, beat_times=np.arange(2) * 0.5, beats_per_bar=4,
                        tempo_bpm=120.0, key="C major", licence="test licence",
                        metadata={"backend": "test", "seed": 7}, midi=midi)


def test_stems_are_on_the_24_bit_grid_and_sum_to_the_mix() -> None:
    cue = synthetic_cue()
    for wave in [cue.mix, *cue.stems.values()]:
        assert wave.shape == (RATE, 2)
        np.testing.assert_array_equal(wave * PCM_SCALE, np.round(wave * PCM_SCALE))
    assert np.array_equal(sum(s.astype(np.float64) for s in cue.stems.values()), cue.mix)
    assert np.abs(cue.mix[-10:]).max() < 1e-3  # faded out


def test_files_sum_exactly_and_sidecar_records_seed(tmp_path: Path) -> None:
    cue = synthetic_cue()
    paths = write_cue(cue, tmp_path, name="my cue")
    names = sorted(p.name for p in paths)
    assert names == ["my_cue-bass.wav", "my_cue-lead_guitar.wav", "my_cue-mix.wav", "my_cue.json", "my_cue.mid"]
    read = {p.name: sf.read(p, dtype="int32")[0].astype(np.int64) >> 8 for p in paths if p.suffix == ".wav"}
    assert sf.info(tmp_path / "my_cue-mix.wav").subtype == "PCM_24"
    assert np.array_equal(read["my_cue-bass.wav"] + read["my_cue-lead_guitar.wav"], read["my_cue-mix.wav"])
    sidecar = json.loads((tmp_path / "my_cue.json").read_text())
    assert sidecar["seed"] == 7 and sidecar["licence"] == "test licence" and sidecar["beats_s"] == [0.0, 0.5]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    cue = synthetic_cue(with_midi=False)
    write_cue(cue, tmp_path, name="cue")
    before = (tmp_path / "cue-mix.wav").read_bytes()
    with pytest.raises(GenerateError, match="--force"):
        write_cue(synthetic_cue(), tmp_path, name="cue")
    assert (tmp_path / "cue-mix.wav").read_bytes() == before  # nothing of the refused cue was written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(write_cue(synthetic_cue(), tmp_path, name="cue", force=True)) == 5


def test_unusable_name(tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match="file name"):
        write_cue(synthetic_cue(), tmp_path, name="../..")


def test_cue_leaves_through_the_hand_off_path(tmp_path: Path) -> None:
    """BWF with the cue's seed, tempo and timecode; a tempo-map MIDI even for an audio back-end; markers."""
    cue = synthetic_cue(with_midi=False)
    made = dt.datetime(2026, 11, 23, 9, 30)
    paths = write_cue(cue, tmp_path / "a", name="cue", markers="fcpxml,csv", timecode="01:00:00:00", fps="25",
                      created=made)
    names = sorted(p.name for p in paths)
    assert {"cue.mid", "cue.fcpxml", "cue-markers.csv"} <= set(names)
    chunks = dict(read_chunks(tmp_path / "a" / "cue-bass.wav"))
    bext, acid = parse_bext(chunks[b"bext"]), parse_acid(chunks[b"acid"])
    assert bext.time_reference == 3600 * RATE and "seed 7" in bext.description
    assert bext.origination_date == "2026-11-23"
    assert acid.bpm == pytest.approx(120.0) and acid.beats == 2
    user = parse_ixml(chunks[b"iXML"]).find("USER")
    assert user.findtext("STEM") == "bass" and user.findtext("LICENCE") == "test licence"
    tempo = [m.tempo for m in mido.MidiFile(tmp_path / "a" / "cue.mid").tracks[0] if m.type == "set_tempo"]
    assert tempo and mido.tempo2bpm(tempo[0]) == pytest.approx(120.0, abs=0.01)
    again = write_cue(cue, tmp_path / "b", name="cue", markers="fcpxml,csv", timecode="01:00:00:00", fps="25",
                      created=made)
    wavs = [(a, b) for a, b in zip(paths, again, strict=True) if a.suffix == ".wav"]
    assert wavs and all(a.read_bytes() == b.read_bytes() for a, b in wavs)  # same seed and date: same bytes


def test_bad_timecode_or_marker_format_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(GenerateError, match="timecode|frame"):
        write_cue(synthetic_cue(), tmp_path, name="cue", timecode="25:61:00:00")
    with pytest.raises(GenerateError, match="marker"):
        write_cue(synthetic_cue(), tmp_path, name="cue", markers="avid")
    assert not list(tmp_path.iterdir())
