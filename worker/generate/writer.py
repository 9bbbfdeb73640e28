"""Writing a generated cue: `<name>-mix.wav`, `<name>-<stem>.wav`, `<name>.mid` (symbolic back-ends) and
`<name>.json` (seed, back-end, licence, tempo map), all or nothing: every file is written to a temporary name
in the output folder first and renamed into place only when all of them are complete.

WAVs are 24-bit PCM at the cue's rate; the stems sit on the same 24-bit grid as the mix, so the files' stems
sum to the file's mix sample for sample. BWF chunks, fit-to-length and markers are `worker.export`'s job.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import soundfile as sf

from worker.generate.base import GeneratedCue, GenerateError
from worker.generate.mixdown import to_pcm

MIX = "mix"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def cue_files(cue: GeneratedCue, name: str) -> dict[str, Callable[[io.BufferedWriter], None]]:
    """File name → function writing that file's bytes, for every file of the cue."""
    base = safe_name(name)
    files: dict[str, Callable[[io.BufferedWriter], None]] = {f"{base}-{MIX}.wav": _wav(cue.mix, cue.sample_rate)}
    for stem, wave in cue.stems.items():
        label = safe_name(stem)
        if label == MIX:
            label = f"{MIX}-stem"
        files[f"{base}-{label}.wav"] = _wav(wave, cue.sample_rate)
    if cue.midi is not None:
        files[f"{base}.mid"] = lambda handle: cue.midi.save(file=handle)
    files[f"{base}.json"] = lambda handle: handle.write(describe(cue, base).encode())
    return files


def write_cue(cue: GeneratedCue, out_dir: str | os.PathLike[str], *, name: str, force: bool = False) -> list[Path]:
    """Write every file of the cue into `out_dir` atomically; refuses to overwrite unless `force`."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = cue_files(cue, name)
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


def _wav(wave, sample_rate: int) -> Callable[[io.BufferedWriter], None]:
    def write(handle: io.BufferedWriter) -> None:
        sf.write(handle, to_pcm(wave), sample_rate, subtype="PCM_24", format="WAV")
    return write


def _plain(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)
