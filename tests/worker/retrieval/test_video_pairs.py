"""Frame/soundtrack pairs cut from a real video file written with PyAV: red frames over a 220 Hz tone for ten
seconds, then blue frames over 1760 Hz, so every pair's picture and audio can be checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.retrieval.video_pairs import cut_pairs, frame_times, video_files

SR = 16_000
FPS = 2
SIDE = 32
SWITCH_S = 10.0
LOW_HZ, HIGH_HZ = 220.0, 1760.0


def write_video(path: Path, seconds: float = 20.0) -> Path:
    """mpeg4 video + PCM audio in Matroska: a red/low half and a blue/high half."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=FPS)
        video.width, video.height, video.pix_fmt = SIDE, SIDE, "yuv420p"
        audio = out.add_stream("pcm_s16le", rate=SR, layout="mono")
        for i in range(int(seconds * FPS)):
            rgb = np.zeros((SIDE, SIDE, 3), np.uint8)
            rgb[..., 0 if i / FPS < SWITCH_S else 2] = 255
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        t = np.arange(int(seconds * SR)) / SR
        pcm = (0.5 * 32767 * np.sin(2 * np.pi * np.where(t < SWITCH_S, LOW_HZ, HIGH_HZ) * t)).astype(np.int16)
        for start in range(0, len(pcm), SR):
            frame = av.AudioFrame.from_ndarray(pcm[None, start:start + SR], format="s16", layout="mono")
            frame.sample_rate, frame.pts = SR, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
    return path


def dominant_hz(wave: np.ndarray) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(wave))) * SR / len(wave))


def test_pairs_are_frames_with_the_ten_seconds_of_audio_around_them(tmp_path: Path) -> None:
    pairs = list(cut_pairs(write_video(tmp_path / "clip.mkv"), SR))
    assert [p.time_s for p in pairs] == [5.0, 10.0, 15.0]
    assert all(len(p.wave) == 10 * SR and p.frame.shape == (SIDE, SIDE, 3) for p in pairs)
    first, last = pairs[0], pairs[-1]
    assert first.frame[..., 0].mean() > 200 and first.frame[..., 2].mean() < 50  # red
    assert last.frame[..., 2].mean() > 200 and last.frame[..., 0].mean() < 50  # blue
    assert dominant_hz(first.wave) == pytest.approx(LOW_HZ, abs=1.0)
    assert dominant_hz(last.wave) == pytest.approx(HIGH_HZ, abs=1.0)


def test_frame_times_keep_every_window_inside_the_file() -> None:
    assert frame_times(23.0) == [5.0, 10.0, 15.0]
    assert frame_times(9.9) == []
    assert frame_times(12.0, every_s=1.0, window_s=10.0) == [5.0, 6.0, 7.0]


def test_video_files_lists_only_videos_in_order(tmp_path: Path) -> None:
    for name in ("b.mp4", "a.MKV", "notes.txt", "song.wav", "sub/c.mov"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in video_files(tmp_path)] == ["a.MKV", "b.mp4", "sub/c.mov"]
    with pytest.raises(FileNotFoundError):
        video_files(tmp_path / "missing")
