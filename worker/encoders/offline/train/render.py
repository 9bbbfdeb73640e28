"""Render many clips in one FluidSynth run (loading a 140 MB soundfont costs ~1 s): clips are laid end to
end with silent gaps in one MIDI file, channels re-programmed at each clip start, and the render is cut
back apart."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from worker.encoders.offline.train.clip import Clip

SAMPLE_RATE = 16_000
FLUID_GAIN = "0.6"  # FluidSynth master gain: loud enough, no clipping on dense GM mixes
GAP_S = 1.5  # silence between clips so release and reverb tails die out
TICKS_PER_S = 960  # 480 ticks per beat at the fixed 120 BPM of the container file
DRUM_CHANNEL = 9
MELODIC_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def soundfonts() -> list[Path]:
    """The GM soundfonts on this machine: Debian's FluidR3 and the TimGM6mb bundled in pretty_midi."""
    import pretty_midi

    found = [FLUIDR3, Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"]
    return [p for p in found if p.exists()]


def build_midi(clips: list[Clip], reverb: list[int], chorus: list[int]) -> tuple[mido.MidiFile, list[float]]:
    """One type-0 MIDI file holding all clips; returns it and each clip's start time in seconds."""
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message); order puts offs before ons
    starts, t = [], 0.0
    for k, clip in enumerate(clips):
        starts.append(t)
        melodic = iter(MELODIC_CHANNELS)
        for part in clip.parts[:16]:
            ch = DRUM_CHANNEL if part.is_drum else next(melodic, None)
            if ch is None:
                continue
            setup_tick = max(int((t - 0.5) * TICKS_PER_S), 0)
            program = 0 if part.is_drum else part.program
            for msg in (mido.Message("control_change", channel=ch, control=121, value=0),
                        mido.Message("program_change", channel=ch, program=program),
                        mido.Message("control_change", channel=ch, control=7, value=part.volume),
                        mido.Message("control_change", channel=ch, control=10, value=part.pan),
                        mido.Message("control_change", channel=ch, control=91, value=reverb[k]),
                        mido.Message("control_change", channel=ch, control=93, value=chorus[k])):
                events.append((setup_tick, 0, msg))
            for start, end, pitch, vel in part.notes:
                a = int((t + max(start, 0.0)) * TICKS_PER_S)
                b = max(int((t + min(end, clip.seconds)) * TICKS_PER_S), a + 1)
                events.append((a, 2, mido.Message("note_on", channel=ch, note=pitch, velocity=int(vel))))
                events.append((b, 1, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        end_tick = int((t + clip.seconds) * TICKS_PER_S) + 1
        for ch in range(16):
            events.append((end_tick, 1, mido.Message("control_change", channel=ch, control=123, value=0)))
        t += clip.seconds + GAP_S
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=int(GAP_S * TICKS_PER_S)))
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(track)
    return mid, starts


def render_clips(clips: list[Clip], soundfont: Path, rng: np.random.Generator, *, rate: int = SAMPLE_RATE,
                 gain: str = FLUID_GAIN) -> list[np.ndarray]:
    """Mono float32 waves at `rate`, one per clip, each exactly clip.seconds long (one FluidSynth run: loading a
    soundfont costs about a second, so clips are rendered in batches)."""
    reverb = [int(rng.integers(0, 90)) for _ in clips]
    chorus = [int(rng.integers(0, 60)) for _ in clips]
    mid, starts = build_midi(clips, reverb, chorus)
    with tempfile.TemporaryDirectory() as tmp:
        mid_path, wav_path = os.path.join(tmp, "batch.mid"), os.path.join(tmp, "batch.wav")
        mid.save(mid_path)
        subprocess.run(["fluidsynth", "-ni", "-g", gain, "-r", str(rate), "-F", wav_path,
                        str(soundfont), mid_path], check=True, capture_output=True)
        audio, got = sf.read(wav_path, dtype="float32", always_2d=True)
    assert got == rate
    mono = audio.mean(axis=1)
    out = []
    for clip, start in zip(clips, starts, strict=True):
        a = int(round(start * rate))
        n = int(round(clip.seconds * rate))
        w = mono[a:a + n]
        out.append(np.pad(w, (0, n - len(w))).astype(np.float32))
    return out
