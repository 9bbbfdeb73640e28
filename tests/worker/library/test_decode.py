"""Decoding: every supported container, odd channel counts and rates, and a clear error for everything bad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.media import tone, video_with_audio, write
from worker.library.decode import DecodeError, decode_mono, stream_mono

SR = 16_000


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus"])
def test_formats_decode_to_mono_at_the_target_rate(tmp_path: Path, ext: str) -> None:
    path = write(tmp_path / f"a{ext}", tone(3.0, 44100, 440.0, channels=2), 44100)
    wave = decode_mono(path, SR)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) / SR - 3.0) < 0.1  # codecs pad a little
    spectrum = np.abs(np.fft.rfft(wave[SR // 2 : SR // 2 + SR]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # 1 Hz bins: the tone survived resampling


def test_eight_channels_at_384_khz(tmp_path: Path) -> None:
    path = write(tmp_path / "surround.wav", tone(1.0, 384_000, 1000.0, channels=8), 384_000, subtype="FLOAT")
    wave = decode_mono(path, SR)
    assert abs(len(wave) - SR) < 50
    assert abs(np.argmax(np.abs(np.fft.rfft(wave[:SR]))) - 1000) <= 2


def test_audio_track_of_a_video(tmp_path: Path) -> None:
    wave = decode_mono(video_with_audio(tmp_path / "clip.mp4", 2.0), SR)
    assert 1.8 < len(wave) / SR < 2.2


def test_video_without_audio_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="no audio"):
        decode_mono(video_with_audio(tmp_path / "silent.mp4", 1.0, audio=False), SR)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(DecodeError, match="empty file"):
        decode_mono(tmp_path / "empty.wav", SR)


def test_not_audio_at_all(tmp_path: Path) -> None:
    (tmp_path / "notes.mp3").write_text("these are my notes, not music\n" * 50)
    with pytest.raises(DecodeError, match="not a readable audio file"):
        decode_mono(tmp_path / "notes.mp3", SR)


def test_wrong_extension_is_decoded_by_content(tmp_path: Path) -> None:
    real = write(tmp_path / "real.ogg", tone(2.0, 22050), 22050)
    fake = tmp_path / "looks_like.wav"
    fake.write_bytes(real.read_bytes())
    assert abs(len(decode_mono(fake, SR)) / SR - 2.0) < 0.1


def test_truncated_wav_decodes_what_is_there(tmp_path: Path) -> None:
    full = write(tmp_path / "full.wav", tone(4.0, 22050), 22050)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    wave = decode_mono(cut, SR)
    assert 1.5 < len(wave) / SR < 2.5


def test_truncated_header_is_an_error(tmp_path: Path) -> None:
    full = write(tmp_path / "full.flac", tone(2.0, 22050), 22050)
    (tmp_path / "stub.flac").write_bytes(full.read_bytes()[:30])
    with pytest.raises(DecodeError):
        decode_mono(tmp_path / "stub.flac", SR)


def test_too_short(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="no audio"):
        decode_mono(write(tmp_path / "blip.wav", tone(0.1, 22050), 22050), SR)


def test_six_hour_file_streams_in_bounded_blocks(tmp_path: Path) -> None:
    """A 6-hour WAV (sparse on disk) is decoded block by block; no block holds more than ~20 s."""
    path = tmp_path / "six_hours.wav"
    rate, hours = 8000, 6
    frames = rate * 3600 * hours
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as handle:
        handle.write(np.zeros(rate, np.int16))
    with open(path, "r+b") as raw:  # grow the data chunk to 6 hours of silence without writing it
        raw.truncate(44 + frames * 2)
        raw.seek(4)
        raw.write((36 + frames * 2).to_bytes(4, "little"))
        raw.seek(40)
        raw.write((frames * 2).to_bytes(4, "little"))
    total, largest = 0, 0
    for block in stream_mono(path, 4000):
        total += len(block)
        largest = max(largest, len(block))
    assert abs(total / 4000 - hours * 3600) < 1.0
    assert largest <= 4000 * 21


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_U8", "FLOAT"])
def test_ffmpeg_path_downmixes_any_sample_format(tmp_path: Path, subtype: str) -> None:
    """PyAV frames come planar or packed, integer or float: all become the channel mean in [-1, 1]."""
    from worker.library.decode import _pyav_blocks

    n = 22050
    left = np.full(n, 0.5, np.float32)
    right = np.full(n, -0.25, np.float32)
    path = write(tmp_path / f"{subtype}.wav", np.stack([left, right], axis=1), 22050, subtype=subtype)
    wave = np.concatenate(list(_pyav_blocks(path, 22050, 20.0)))
    assert abs(len(wave) - n) < 10
    assert np.allclose(wave[100:-100], 0.125, atol=0.01)


def test_opus_in_ogg_is_read_by_ffmpeg_and_matches_the_source(tmp_path: Path) -> None:
    """libsndfile opens Opus but ffmpeg decodes it ~3x faster: same audio, whichever path reads it."""
    path = write(tmp_path / "a.opus", tone(3.0, 48000, 440.0, channels=2), 48000)
    ogg = tmp_path / "opus_inside.ogg"
    ogg.write_bytes(path.read_bytes())
    a, b = decode_mono(path, SR), decode_mono(ogg, SR)
    assert len(a) == len(b) and np.allclose(a, b)
    assert abs(np.argmax(np.abs(np.fft.rfft(a[SR // 2 : SR // 2 + SR]))) - 440) <= 2


def test_vorbis_that_ffmpeg_rejects_is_read_by_libsndfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Debian Vorbis files exist whose headers ffmpeg refuses; ffmpeg is only preferred for speed there."""
    import av

    path = write(tmp_path / "song.ogg", tone(3.0, 44100, 440.0), 44100)
    assert sf.info(str(path)).subtype == "VORBIS"

    def refuse(*args: object, **kwargs: object) -> None:
        raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")

    monkeypatch.setattr(av, "open", refuse)
    wave = decode_mono(path, 16000)
    assert abs(len(wave) / 16000 - 3.0) < 0.05 and np.abs(wave).max() > 0.1
