"""`analyze_file`: tempo, beats, downbeats, per-beat tempo map, key and loudness of one audio file.

`analyze_wave` is the pure part (a mono array in, a JSON-able dict out); `analyze_file` adds decoding and
progress. The result is what the catalogue caches and what exporters read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.analysis.beat_model import weights_digest
from worker.analysis.beats import track_beats
from worker.analysis.beats_learned import learned_grid
from worker.analysis.beats_madmom import LEARNED, MADMOM, chosen_backend, madmom_downbeats
from worker.analysis.chroma import beat_chroma, chroma_rate, chromagram
from worker.analysis.downbeats import Meter, beat_cues, choose_meter, downbeat_times
from worker.analysis.key import estimate_key
from worker.analysis.loudness import integrated_lufs, read_channels
from worker.analysis.onset import onset_envelopes
from worker.analysis.spectral import ANALYSIS_RATE, HOP, magnitude_spectrogram
from worker.analysis.tempo import summary_tempo, tempo_map
from worker.jobs import Job, JobFailed
from worker.library.decode import DecodeError, decode_mono

ANALYZER_VERSION = "dsp-3"  # bump when results change, so cached analyses are recomputed
MADMOM_ANALYZER_VERSION = "madmom-1"
LEARNED_DECODER_VERSION = "learned-2"  # bump when beats_learned's decoding changes; the weights' digest is appended
TIME_DECIMALS = 4  # 0.1 ms: far below what any DAW or NLE resolves


def current_analyzer(beats_backend: str | None = None) -> str:
    """The version an analysis made now would carry: a cached one with another version is stale."""
    backend = chosen_backend(beats_backend)
    if backend == LEARNED:  # new weights change results without any code change
        return f"{LEARNED_DECODER_VERSION}+{weights_digest()}"
    return MADMOM_ANALYZER_VERSION if backend == MADMOM else ANALYZER_VERSION


def analyze_wave(wave: np.ndarray, sample_rate: int = ANALYSIS_RATE, *, beats_backend: str | None = None) -> dict:
    """Beats, downbeats, tempo map, meter and key of a mono float wave at `sample_rate` (no loudness).

    `beats_backend` is "dsp" (built in), "learned" (our network, `beat_model.pt`) or "madmom" (optional,
    non-commercial models); when None, $CUESTEER_BEATS decides, else `beats_madmom.default_backend()`."""
    backend = chosen_backend(beats_backend)
    original, original_rate = wave, sample_rate
    if sample_rate != ANALYSIS_RATE:
        import soxr

        wave = soxr.resample(np.asarray(wave, np.float32), sample_rate, ANALYSIS_RATE)
    chroma = chromagram(wave)
    if backend == MADMOM:
        beats, downbeats, meter = _madmom_grid(original, original_rate)
    elif backend == LEARNED:
        beats, downbeats, meter = learned_grid(wave, chroma=chroma)
    else:
        beats, downbeats, meter = _dsp_grid(wave, chroma)
    key = estimate_key(chroma)
    return {
        "tempo_bpm": round(summary_tempo(beats), 3),
        "beats_s": _rounded(beats),
        "downbeats_s": _rounded(downbeats),
        "tempo_map": [[round(t, TIME_DECIMALS), round(b, 3)] for t, b in tempo_map(beats)],
        "time_signature": meter.time_signature,
        "key": key.name if key else None,
        "key_confidence": round(key.confidence, 3) if key else None,
        "duration_s": round(len(wave) / ANALYSIS_RATE, TIME_DECIMALS),
        "analyzer": current_analyzer(backend),
        "beats_backend": backend,
        "frame_hop_s": HOP / ANALYSIS_RATE,
    }


def _dsp_grid(wave: np.ndarray, chroma: np.ndarray) -> tuple[np.ndarray, np.ndarray, Meter]:
    """Beats, downbeats and meter from the built-in tracker (wave at ANALYSIS_RATE)."""
    onsets = onset_envelopes(magnitude_spectrogram(wave))
    beats = track_beats(onsets.flux, onsets.fps)
    harmony = beat_chroma(chroma, beats * chroma_rate())
    cues = beat_cues(beats * onsets.fps, onsets.flux, onsets.low, harmony) if len(beats) > 1 else np.zeros(len(beats))
    meter = choose_meter(cues)
    downbeats = downbeat_times(beats, meter) if len(beats) else beats
    return beats, downbeats, meter


def _madmom_grid(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, Meter]:
    """Beats, downbeats and meter from madmom's joint downbeat model (one network pass)."""
    beats, positions = madmom_downbeats(wave, sample_rate)
    if len(beats) == 0:
        return beats, beats, Meter(4, 0)
    per_bar = int(positions.max())
    first = int(np.flatnonzero(positions == 1)[0]) if (positions == 1).any() else 0
    return beats, beats[positions == 1], Meter(per_bar, first)


def analyze_file(path: str | Path, *, job: Job | None = None, beats_backend: str | None = None) -> dict:
    """Analyse one file: `{"tempo_bpm", "beats_s", "downbeats_s", "key", "loudness_lufs", "duration_s",
    "time_signature", ...}`. Raises JobFailed with the decoder's reason when the file cannot be read."""
    job = job or Job()
    job.progress("decode", 0.0, str(path))
    try:
        wave = decode_mono(path, ANALYSIS_RATE)
    except DecodeError as exc:
        raise JobFailed(f"cannot analyse {path}: {exc}") from exc
    job.checkpoint()
    job.progress("beats", 0.2, "tempo, beats, key")
    result = analyze_wave(wave, ANALYSIS_RATE, beats_backend=beats_backend)
    job.checkpoint()
    job.progress("loudness", 0.8, "EBU R128")
    samples, rate = read_channels(path)
    result["loudness_lufs"] = _round_or_none(integrated_lufs(samples, rate), 2)
    result["source"] = str(path)
    job.progress("done", 1.0, "")
    return result


def _rounded(times: np.ndarray) -> list[float]:
    return [round(float(t), TIME_DECIMALS) for t in times]


def _round_or_none(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
