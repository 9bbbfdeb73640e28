import io

import numpy as np
import pytest
import soundfile as sf

from worker.export.bwf import Acid, Bext, acid_payload, bext_payload, ixml_payload, parse_acid, parse_bext, parse_ixml
from worker.export.riff import chunk, read_chunks
from worker.export.wav import build_wav


@pytest.mark.parametrize(("bit_depth", "subtype", "step"), [(16, "PCM_16", 2**-15), (24, "PCM_24", 2**-23),
                                                            (32, "FLOAT", 1e-7)])
def test_samples_and_chunks_read_back(bit_depth, subtype, step):
    rng = np.random.default_rng(0)
    samples = rng.uniform(-1.2, 1.2, (4801, 2))  # beyond full scale: PCM must clip, not wrap
    info = Bext("tempo 120.00 BPM; key A minor; seed 7", originator_reference="cuesteer-7",
                origination_date="2024-05-01", origination_time="12:34:56", time_reference=172_972_800 + 2**32,
                loudness_lufs=-14.25, coding_history="A=PCM,F=48000,W=24,M=stereo,T=cuesteer\r\n")
    acid = Acid(bpm=123.456, beats=32, numerator=3, denominator=4, root_note=9)
    ixml = ixml_payload({"NOTE": "hello", "SEED": "7", "SOURCE": "/music/x.wav"},
                        speed={"TIMECODE_RATE": "24000/1001", "TIMECODE_FLAG": "NDF"})
    data = build_wav(samples, 48000, bit_depth, [chunk(b"bext", bext_payload(info)),
                                                 chunk(b"acid", acid_payload(acid)), chunk(b"iXML", ixml)])
    chunks = read_chunks(data)
    ids = [c[0] for c in chunks]
    assert ids[0] == b"fmt " and ids[-1] == b"data"
    found = dict(chunks)
    assert len(found[b"bext"]) >= 602
    assert parse_bext(found[b"bext"]) == info
    read_acid = parse_acid(found[b"acid"])
    assert read_acid.beats == 32 and read_acid.bpm == pytest.approx(123.456, abs=1e-4)
    assert (read_acid.numerator, read_acid.denominator, read_acid.root_note) == (3, 4, 9)
    root = parse_ixml(found[b"iXML"])
    assert root.tag == "BWFXML" and root.findtext("NOTE") == "hello"
    assert root.findtext("USER/SEED") == "7" and root.findtext("SPEED/TIMECODE_RATE") == "24000/1001"
    # an independent reader (libsndfile) agrees on format and samples
    audio, rate = sf.read(io.BytesIO(data), dtype="float64")
    assert rate == 48000 and audio.shape == samples.shape
    assert sf.info(io.BytesIO(data)).subtype == subtype
    expected = samples if bit_depth == 32 else np.clip(samples, -1.0, 1.0 - step)
    assert np.abs(audio - expected).max() <= step


def test_odd_chunks_are_padded_and_bad_files_refused():
    data = build_wav(np.zeros(10), 44100, 16, [chunk(b"iXML", b"<a/>x")])  # 5 bytes: needs a pad byte
    assert [c[0] for c in read_chunks(data)] == [b"fmt ", b"iXML", b"data"]
    assert dict(read_chunks(data))[b"iXML"] == b"<a/>x"
    with pytest.raises(ValueError):
        read_chunks(b"RIFX....WAVE")
