"""MIDI → audio with the FluidSynth command-line renderer and a General-MIDI soundfont.

Each call starts one `fluidsynth` process (≈0.5 s with on-demand sample loading) that renders faster than
real time to a float WAV. FluidSynth's output is bit-identical for the same input, which is what makes cues
reproducible from their seed. Event times are quantised to FluidSynth's 64-sample blocks (≈1.3 ms at 48 kHz).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from worker.generate.base import GenerateError
from worker.models.soundfont import find_soundfont

# Debian's fluid-soundfont-gm (MIT licence) where it is; $CUESTEER_SOUNDFONT, a bundled or a user soundfont otherwise
SOUNDFONT = find_soundfont() or Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SAMPLE_RATE = 48_000
CHANNELS = 2
GAIN = 0.5  # FluidSynth's master gain; the cue is normalised afterwards with one factor for all stems
PARALLEL = 2  # renderer processes at once (the machine has two cores)
TIMEOUT_SECONDS = 600
INSTALL_HINT = "install it with `apt-get install fluidsynth fluid-soundfont-gm` (or run installer/setup.sh)"


def fluidsynth_available(soundfont: Path = SOUNDFONT) -> bool:
    return shutil.which("fluidsynth") is not None and Path(soundfont).is_file()


def render(midi: mido.MidiFile, *, sample_rate: int = SAMPLE_RATE, soundfont: Path = SOUNDFONT) -> np.ndarray:
    """(samples, 2) float32 audio of `midi` from time 0 (FluidSynth adds a release tail at the end)."""
    _check(soundfont)
    with tempfile.TemporaryDirectory(prefix="cuesteer-render-") as folder:
        source = Path(folder) / "cue.mid"
        target = Path(folder) / "cue.wav"
        midi.save(source)
        command = ["fluidsynth", "-n", "-i", "-q", "-o", "synth.dynamic-sample-loading=1", "-g", str(GAIN),
                   "-r", str(sample_rate), "-O", "float", "-T", "wav", "-F", str(target), str(soundfont),
                   str(source)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                                  env={**os.environ, "LANG": "C"})
        except subprocess.TimeoutExpired as exc:
            raise GenerateError(f"fluidsynth did not finish rendering within {TIMEOUT_SECONDS} s") from exc
        if done.returncode != 0 or not target.is_file():
            raise GenerateError(f"fluidsynth failed to render ({done.returncode}): {done.stderr.strip()[-500:]}")
        audio, rate = sf.read(target, dtype="float32", always_2d=True)
    if rate != sample_rate:
        raise GenerateError(f"fluidsynth rendered at {rate} Hz instead of {sample_rate} Hz")
    if audio.shape[1] == 1:
        audio = np.repeat(audio, CHANNELS, axis=1)
    return np.ascontiguousarray(audio[:, :CHANNELS])


def render_many(midis: Sequence[mido.MidiFile], *, sample_rate: int = SAMPLE_RATE,
                soundfont: Path = SOUNDFONT) -> list[np.ndarray]:
    """`render` for several files, PARALLEL processes at a time, results in input order."""
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda m: render(m, sample_rate=sample_rate, soundfont=soundfont), midis))


def _check(soundfont: Path) -> None:
    if shutil.which("fluidsynth") is None:
        raise GenerateError(f"the symbolic generator renders with FluidSynth, which is not installed: {INSTALL_HINT}")
    if not Path(soundfont).is_file():
        raise GenerateError(f"the General-MIDI soundfont {soundfont} is missing: {INSTALL_HINT}")
