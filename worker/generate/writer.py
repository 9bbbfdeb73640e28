"""Writing a generated cue: `<name>-mix.wav`, `<name>-<stem>.wav`, `<name>.mid` and `<name>.json` (seed,
back-end, licence, tempo map), plus NLE marker files on request — all or nothing: every file is written to a
temporary name in the output folder first and renamed into place only when all of them are complete.

A generated cue leaves through the same hand-off path as a found one (`worker.export`): WAVs are 24-bit BWF
with bext (description, seed, TimeReference from the timecode start), acid (tempo, beats) and iXML; the MIDI is
the arrangement itself for symbolic back-ends (its conductor track is the exact tempo map) and a tempo-map
file from the tracked beats for audio back-ends; markers come from the cue's own beats. The stems sit on the
same 24-bit grid as the mix, so the files' stems sum to the file's mix sample for sample. `created` fixes the
bext date so a given seed and date give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from worker.export.api import marker_files, marker_formats
from worker.export.markers import beat_markers
from worker.export.metadata import CueInfo, wav_metadata
from worker.export.midi_tempo import build_tempo_midi
from worker.export.timecode import FrameRate, frame_rate, parse_timecode, time_reference
from worker.export.wav import build_wav
from worker.generate.base import GeneratedCue, GenerateError
from worker.jobs import JobFailed

MIX = "mix"
BIT_DEPTH = 24  # the stems sum to the mix exactly on this grid (mixdown.finish quantises to it)
DEFAULT_BPM = 120.0  # acid/bext tempo when an audio back-end's beats could not be tracked
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def cue_files(cue: GeneratedCue, name: str, *, out_dir: Path = Path("."), markers: Sequence[str] | str = (),
              timecode: str = "00:00:00:00", fps: str = "25",
              created: dt.datetime | None = None) -> dict[str, Callable[[io.BufferedWriter], None]]:
    """File name → function writing that file's bytes, for every file of the cue (marker files point at the mix
    as it will sit in `out_dir`)."""
    base = safe_name(name)
    formats, rate = hand_off_options(markers, timecode, fps)
    info = cue_info(cue, base)
    reference = time_reference(timecode, rate, cue.sample_rate)
    beats = round(cue.seconds * info.tempo_bpm / 60.0)

    def wav(wave: np.ndarray, stem: str) -> Callable[[io.BufferedWriter], None]:
        meta = wav_metadata(CueInfo(**{**info.__dict__, "extra": {"STEM": stem, "LICENCE": cue.licence}}),
                            time_reference=reference, rate=rate, sample_rate=cue.sample_rate, bit_depth=BIT_DEPTH,
                            channels=wave.shape[1] if wave.ndim == 2 else 1, beats=beats, loudness_lufs=None,
                            ixml=True, now=created)
        return lambda handle: handle.write(build_wav(wave, cue.sample_rate, BIT_DEPTH, meta))

    mix_name = f"{base}-{MIX}.wav"
    files: dict[str, Callable[[io.BufferedWriter], None]] = {mix_name: wav(cue.mix, MIX)}
    for stem, wave in cue.stems.items():
        label = safe_name(stem)
        if label == MIX:
            label = f"{MIX}-stem"
        files[f"{base}-{label}.wav"] = wav(wave, stem)
    midi = cue.midi if cue.midi is not None else build_tempo_midi(
        cue.beat_times, cue.downbeat_times, end_s=cue.seconds, key=cue.key, name=base, text=info.summary())
    files[f"{base}.mid"] = lambda handle: midi.save(file=handle)
    documents = marker_files(beat_markers(cue.beat_times, cue.downbeat_times), formats, name=base,
                             mix_path=(out_dir / mix_name).resolve(), duration_s=cue.seconds, rate=rate,
                             timecode=timecode, sample_rate=cue.sample_rate, channels=cue.mix.shape[1],
                             bit_depth=BIT_DEPTH)
    for path, text in documents.items():
        files[path.name] = lambda handle, text=text: handle.write(text.encode())
    files[f"{base}.json"] = lambda handle: handle.write(describe(cue, base).encode())
    return files


def hand_off_options(markers: Sequence[str] | str, timecode: str, fps: str) -> tuple[list[str], FrameRate]:
    """The marker formats and frame rate, checked — callers check before generating, not after."""
    try:
        rate = frame_rate(fps, drop=";" in timecode)
        parse_timecode(timecode, rate)
        return marker_formats(markers), rate
    except (ValueError, JobFailed) as exc:
        raise GenerateError(str(exc)) from exc


def cue_info(cue: GeneratedCue, name: str) -> CueInfo:
    """What the cue's files say about themselves (bext, iXML, MIDI text)."""
    tempo = cue.tempo_bpm or DEFAULT_BPM
    return CueInfo(tempo_bpm=float(tempo), key=cue.key, time_signature=f"{cue.beats_per_bar}/4", source=name,
                   region=(0.0, cue.seconds), seed=cue.metadata.get("seed"),
                   description=f"generated by {cue.metadata.get('backend', 'cuesteer')}")


def write_cue(cue: GeneratedCue, out_dir: str | os.PathLike[str], *, name: str, force: bool = False,
              markers: Sequence[str] | str = (), timecode: str = "00:00:00:00", fps: str = "25",
              created: dt.datetime | None = None) -> list[Path]:
    """Write every file of the cue into `out_dir` atomically; refuses to overwrite unless `force`."""
    folder = Path(out_dir)
    files = cue_files(cue, name, out_dir=folder, markers=markers, timecode=timecode, fps=fps, created=created)
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / file_name for file_name in files]
    existing = [t.name for t in targets if t.exists()]
    if existing and not force:
        raise GenerateError(f"{folder} already holds {', '.join(existing)}: choose another name or out folder, "
                            "or overwrite with --force")
    temporaries: list[Path] = []
    try:
        for target, write in zip(targets, files.values(), strict=True):
            handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
            temporaries.append(Path(temp))
            with os.fdopen(handle, "wb") as stream:
                write(stream)
        for temp, target in zip(temporaries, targets, strict=True):
            os.replace(temp, target)
    finally:
        for temp in temporaries:
            temp.unlink(missing_ok=True)
    return targets


def describe(cue: GeneratedCue, name: str) -> str:
    """The cue's sidecar: everything needed to reproduce it and to cut to it (no timestamps: reproducible)."""
    document = {
        "name": name, "backend": cue.metadata.get("backend"), "seed": cue.metadata.get("seed"),
        "licence": cue.licence, "sample_rate": cue.sample_rate, "seconds": cue.seconds,
        "tempo_bpm": cue.tempo_bpm, "key": cue.key, "beats_per_bar": cue.beats_per_bar,
        "beats_s": [round(float(t), 6) for t in cue.beat_times], "stems": list(cue.stems),
        "metadata": cue.metadata,
    }
    return json.dumps(document, indent=2, sort_keys=True, default=_plain) + "\n"


def safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip("._")
    if not cleaned:
        raise GenerateError(f"{name!r} cannot be used as a file name; use letters, digits, '-' or '_'")
    return cleaned


def _plain(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)
