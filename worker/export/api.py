"""`export_cue`: one call that turns a found or generated cue into files an editor or DAW can use.

Build everything in memory first (audio, analysis, fit, metadata, MIDI, marker files), check the output
folder, then write each file atomically. Nothing is written outside `out_dir`, and nothing is overwritten
unless `force`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from worker.analysis.api import analyze_wave
from worker.analysis.chroma import chroma_rate, chromagram
from worker.analysis.loudness import integrated_lufs, read_channels
from worker.analysis.spectral import ANALYSIS_RATE
from worker.analysis.stems import separate
from worker.export.files import ExportError, check_free, safe_name, target, write_atomic
from worker.export.fit import FitPlan, map_times, plan_fit, render_fit
from worker.export.markers import CUE_COLOR, Marker, beat_markers, merge
from worker.export.metadata import CueInfo, wav_metadata
from worker.export.midi_tempo import build_tempo_midi
from worker.export.nle_csv import build_csv
from worker.export.nle_edl import build_resolve_edl
from worker.export.nle_fcpxml import build_fcpxml
from worker.export.nle_xmeml import build_xmeml
from worker.export.timecode import FrameRate, frame_rate, parse_timecode, time_reference
from worker.export.wav import BIT_DEPTHS, build_wav
from worker.jobs import Job, JobFailed
from worker.library.decode import DecodeError

MARKER_FORMATS = ("resolve", "fcpxml", "premiere", "csv")
MARKER_SUFFIX = {"resolve": ".edl", "fcpxml": ".fcpxml", "premiere": ".xml", "csv": "-markers.csv"}
SECONDS_PER_MINUTE = 60.0


def export_cue(
    path: str | Path,
    out_dir: str | Path,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    fit_s: float | None = None,
    stems: bool = False,
    midi: bool = False,
    markers=(),
    force: bool = False,
    timecode: str = "00:00:00:00",
    fps: str = "25",
    bit_depth: int = 24,
    sample_rate: int = 48000,
    seed: int | None = None,
    description: str = "",
    job: Job | None = None,
    name: str | None = None,
    marker_level: str = "bar",
    cue_points: list[tuple[float, str]] = (),
    click: bool = False,
    ixml: bool = True,
    stem_backend: str = "auto",
    fit_tolerance_s: float | None = None,
) -> dict:
    """Export `path` (or its [start_s, end_s] region, fitted to `fit_s`) into `out_dir`; returns what was written.

    `markers` is a list (or comma string) of resolve, fcpxml, premiere, csv; `cue_points` are (source time,
    name) pairs added as markers. Raises JobFailed with a message for the user when the export cannot be done.
    """
    job = job or Job()
    formats = marker_formats(markers)
    if bit_depth not in BIT_DEPTHS:
        raise JobFailed(f"bit depth must be one of {', '.join(map(str, BIT_DEPTHS))} (32 = float), got {bit_depth}")
    try:
        rate = frame_rate(fps, drop=";" in timecode)
        parse_timecode(timecode, rate)
    except ValueError as exc:
        raise JobFailed(str(exc)) from exc
    job.progress("read", 0.0, str(path))
    audio, region = _read_region(Path(path), sample_rate, start_s, end_s)
    job.checkpoint()

    job.progress("analyse", 0.1, "tempo, beats, key")
    mono = audio.mean(axis=1)
    analysis = analyze_wave(mono, sample_rate)
    beats, downs = np.array(analysis["beats_s"]), np.array(analysis["downbeats_s"])
    points = [(t - region[0], label) for t, label in cue_points if region[0] <= t <= region[1]]
    plan: FitPlan | None = None
    if fit_s is not None:
        job.progress("fit", 0.3, f"fitting to {fit_s:g} s")
        plan = plan_fit(downs, len(audio) / sample_rate, float(fit_s), tolerance_s=fit_tolerance_s,
                        bar_chroma=_bar_chroma(mono, sample_rate, downs))
        audio = render_fit(audio, sample_rate, plan)
        beats, downs = map_times(beats, plan), map_times(downs, plan)
        points = [(float(m[0]), label) for t, label in points if len(m := map_times([t], plan))]
    job.checkpoint()
    duration = len(audio) / sample_rate
    loudness = integrated_lufs(audio, sample_rate)
    info = CueInfo(tempo_bpm=analysis["tempo_bpm"], key=analysis["key"], time_signature=analysis["time_signature"],
                   source=str(Path(path).resolve()), region=region, seed=seed, description=description,
                   fit_target_s=fit_s)

    stem = safe_name(name or Path(path).stem)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outputs: dict[Path, bytes | str] = {}
    tref = time_reference(timecode, rate, sample_rate)
    beat_count = round(duration * info.tempo_bpm / SECONDS_PER_MINUTE)

    def wav_bytes(samples: np.ndarray, extra: dict[str, str]) -> bytes:
        stem_info = CueInfo(**{**info.__dict__, "extra": extra})
        meta = wav_metadata(stem_info, time_reference=tref, rate=rate, sample_rate=sample_rate, bit_depth=bit_depth,
                            channels=samples.shape[1], beats=beat_count, loudness_lufs=integrated_lufs(
                                samples, sample_rate), ixml=ixml)
        return build_wav(samples, sample_rate, bit_depth, meta)

    job.progress("build", 0.4, "WAV")
    mix_path = target(out, f"{stem}.wav")
    outputs[mix_path] = wav_bytes(audio, {"STEM": "mix"})
    stem_backend_used = None
    if stems:
        job.progress("stems", 0.5, "separating")
        separated = separate(audio, sample_rate, stem_backend)
        stem_backend_used = separated.backend
        for part, samples in separated.tracks.items():
            job.checkpoint()
            outputs[target(out, f"{stem}-{separated.backend}-{part}.wav")] = wav_bytes(
                samples, {"STEM": part, "STEM_BACKEND": separated.backend})
    marker_list = merge(beat_markers(beats, downs, marker_level),
                        [Marker(float(t), label, CUE_COLOR) for t, label in points])
    if midi:
        mid = build_tempo_midi(beats, downs, end_s=duration, markers=[(m.time_s, m.name) for m in marker_list],
                               key=info.key, name=stem, text=info.summary(), click=click)
        buffer = io.BytesIO()
        mid.save(file=buffer)
        outputs[target(out, f"{stem}.mid")] = buffer.getvalue()
    outputs.update(marker_files(marker_list, formats, name=stem, mix_path=mix_path, duration_s=duration, rate=rate,
                                timecode=timecode, sample_rate=sample_rate, channels=audio.shape[1],
                                bit_depth=bit_depth))
    job.checkpoint()

    try:
        check_free(list(outputs), force)
    except ExportError as exc:
        raise JobFailed(str(exc)) from exc
    for i, (file_path, data) in enumerate(outputs.items()):
        job.progress("write", 0.8 + 0.2 * i / len(outputs), file_path.name)
        write_atomic(file_path, data)
    job.progress("done", 1.0, f"{len(outputs)} files")
    return {
        "files": [str(p) for p in outputs],
        "out_dir": str(out.resolve()),
        "tempo_bpm": info.tempo_bpm,
        "key": info.key,
        "time_signature": info.time_signature,
        "duration_s": round(duration, 6),
        "loudness_lufs": None if loudness is None else round(float(loudness), 2),
        "beats_s": [round(float(t), 6) for t in beats],
        "downbeats_s": [round(float(t), 6) for t in downs],
        "region_s": [round(region[0], 6), round(region[1], 6)],
        "fit": None if plan is None else {
            "target_s": float(plan.target_s), "duration_s": round(float(plan.duration_s), 6),
            "error_s": round(float(plan.error_s), 6), "tolerance_s": round(float(plan.tolerance_s), 6),
            "within_tolerance": bool(plan.within_tolerance),
            "segments_s": [[round(float(a), 6), round(float(b), 6)] for a, b in plan.segments],
        },
        "stems_backend": stem_backend_used,
        "timecode": timecode,
        "fps": rate.label,
        "time_reference": tref,
        "seed": seed,
    }


def marker_files(marker_list: list[Marker], formats: list[str], *, name: str, mix_path: Path, duration_s: float,
                 rate: FrameRate, timecode: str, sample_rate: int, channels: int, bit_depth: int) -> dict[Path, str]:
    """Marker documents `<name>.<format's suffix>` for the NLEs in `formats`, pointing at the mix WAV `mix_path`."""
    stem = name
    out: dict[Path, str] = {}
    for fmt in formats:
        file_path = mix_path.with_name(stem + MARKER_SUFFIX[fmt])
        if fmt == "resolve":
            out[file_path] = build_resolve_edl(marker_list, rate, timecode, stem)
        elif fmt == "fcpxml":
            out[file_path] = build_fcpxml(marker_list, media=mix_path, duration_s=duration_s, rate=rate,
                                          start_tc=timecode, name=stem, sample_rate=sample_rate, channels=channels)
        elif fmt == "premiere":
            out[file_path] = build_xmeml(marker_list, media=mix_path, duration_s=duration_s, rate=rate,
                                         start_tc=timecode, name=stem, sample_rate=sample_rate, channels=channels,
                                         bit_depth=bit_depth)
        else:
            out[file_path] = build_csv(marker_list, rate, timecode)
    return out


def marker_formats(markers) -> list[str]:
    items = [m.strip().lower() for m in (markers.split(",") if isinstance(markers, str) else markers) if m.strip()]
    unknown = [m for m in items if m not in MARKER_FORMATS]
    if unknown:
        raise JobFailed(f"unknown marker format(s) {', '.join(unknown)}; choose from {', '.join(MARKER_FORMATS)}")
    return list(dict.fromkeys(items))


def _read_region(path: Path, sample_rate: int, start_s: float | None, end_s: float | None):
    """(samples (n, channels) at `sample_rate`, (start, end) seconds in the source)."""
    import soxr

    try:
        data, rate = read_channels(path)
    except DecodeError as exc:
        raise JobFailed(f"cannot export {path}: {exc}") from exc
    length = len(data) / rate
    start = 0.0 if start_s is None else max(float(start_s), 0.0)
    end = length if end_s is None else min(float(end_s), length)
    if end <= start:
        raise JobFailed(f"empty region: start {start:g} s, end {end:g} s (the file lasts {length:.3f} s)")
    data = data[round(start * rate) : round(end * rate)]
    if rate != sample_rate:
        data = soxr.resample(data, rate, sample_rate)
    return np.ascontiguousarray(data, np.float32), (start, end)


def _bar_chroma(mono: np.ndarray, sample_rate: int, downbeats: np.ndarray) -> np.ndarray | None:
    """Mean chroma of each bar (downbeat to next), used to prefer joins between similar harmony."""
    if len(downbeats) < 2:
        return None
    import soxr

    chroma = chromagram(soxr.resample(mono, sample_rate, ANALYSIS_RATE))
    frames = np.clip((np.append(downbeats, len(mono) / sample_rate) * chroma_rate()).astype(int), 0, len(chroma))
    return np.array([chroma[a : max(b, a + 1)].mean(axis=0) if a < len(chroma) else np.zeros(12)
                     for a, b in zip(frames[:-1], frames[1:], strict=True)])
