"""Arrangements as Standard MIDI Files (format 1, PPQ 480): a conductor track (metre, key, tempo, section
markers) and one track per stem, plus the tempo map read back from the file — the exact beats of the cue."""

from __future__ import annotations

from collections.abc import Sequence

import mido
import numpy as np

from worker.generate.symbolic.arrange import Arrangement
from worker.generate.symbolic.notes import Part
from worker.generate.symbolic.theory import MINOR_MODES, PITCH_NAMES

PPQ = 480
MICROSECONDS_PER_MINUTE = 60_000_000
DRUM_CHANNEL = 9
PITCHED_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)
VOLUME_CC, PAN_CC = 7, 10
VOLUME = 100
CENTRE_PAN = 64
PANS = (46, 82, 58, 70, 38, 90)  # pitched stems alternate around the centre; bass and drums stay central
CENTRED_STEMS = ("drums",)
GAP_TEMPO = 500_000  # µs per beat in the silence between preview segments (120 BPM: 2 beats a second)
# At equal ticks: tempo/meta first, then program/controls, note-offs, note-ons.
ORDER_META, ORDER_SETUP, ORDER_OFF, ORDER_ON = 0, 1, 2, 3
Event = tuple[int, int, mido.Message | mido.MetaMessage]


def tempo_microseconds(bpm: float) -> int:
    return int(round(MICROSECONDS_PER_MINUTE / bpm))


def to_midi(arrangement: Arrangement, *, tail_seconds: float = 0.0) -> mido.MidiFile:
    """The cue as a MIDI file; `tail_seconds` of silence after the last bar lets a renderer play releases
    (and a loop's tail, which is then folded back onto its start)."""
    plan = arrangement.plan
    tempo = tempo_microseconds(plan.tempo_bpm)
    end_tick = arrangement.beats * PPQ + _ticks_for(tail_seconds, tempo)
    conductor: list[Event] = [
        (0, ORDER_META, mido.MetaMessage("track_name", name=f"{plan.style} in {plan.key}")),
        (0, ORDER_META, mido.MetaMessage("time_signature", numerator=plan.beats_per_bar, denominator=4)),
        (0, ORDER_META, mido.MetaMessage("key_signature", key=_key_signature(plan.tonic, plan.mode))),
        (0, ORDER_META, mido.MetaMessage("set_tempo", tempo=tempo)),
    ]
    for bar in arrangement.form:
        if bar.section_start:
            tick = bar.index * plan.beats_per_bar * PPQ
            conductor.append((tick, ORDER_META, mido.MetaMessage("marker", text=bar.section)))
    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    midi.tracks.append(_track(conductor, end_tick))
    for part, channel, pan in _channels(arrangement.parts):
        midi.tracks.append(_track(_part_events(part, channel, pan, 0), end_tick))
    return midi


def previews_to_midi(arrangements: Sequence[Arrangement], gap_seconds: float) -> tuple[mido.MidiFile, list[float]]:
    """Many short arrangements one after another in one file (one renderer start for all candidates), with
    `gap_seconds` of silence between them; returns the file and each segment's start in seconds."""
    conductor: list[Event] = []
    tracks: list[list[Event]] = []
    starts: list[float] = []
    tick, seconds = 0, 0.0
    gap_ticks = _ticks_for(gap_seconds, GAP_TEMPO)
    for arrangement in arrangements:
        tempo = tempo_microseconds(arrangement.plan.tempo_bpm)
        conductor.append((tick, ORDER_META, mido.MetaMessage("set_tempo", tempo=tempo)))
        starts.append(seconds)
        for i, (part, channel, pan) in enumerate(_channels(arrangement.parts)):
            if i == len(tracks):
                tracks.append([])
            tracks[i] += _part_events(part, channel, pan, tick)
        length = arrangement.beats * PPQ
        conductor.append((tick + length, ORDER_META, mido.MetaMessage("set_tempo", tempo=GAP_TEMPO)))
        tick += length + gap_ticks
        seconds += length * tempo / PPQ / 1e6 + gap_ticks * GAP_TEMPO / PPQ / 1e6
    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    midi.tracks.append(_track(conductor, tick))
    for events in tracks:
        midi.tracks.append(_track(events, tick))
    return midi, starts


def solo_track(midi: mido.MidiFile, index: int) -> mido.MidiFile:
    """The conductor track plus track `index` alone: what one stem is rendered from."""
    solo = mido.MidiFile(type=1, ticks_per_beat=midi.ticks_per_beat)
    solo.tracks.append(midi.tracks[0])
    solo.tracks.append(midi.tracks[index])
    return solo


def stem_names(midi: mido.MidiFile) -> list[str]:
    """Track names of the stem tracks (every track after the conductor), in order."""
    return [next((m.name for m in track if m.type == "track_name"), f"track{i}")
            for i, track in enumerate(midi.tracks[1:], start=1)]


def beat_times(midi: mido.MidiFile, beats: int) -> np.ndarray:
    """Seconds of beats 0..beats-1 read from the file's tempo events (exact: no audio analysis involved)."""
    changes = sorted((tick, msg.tempo) for tick, msg in _absolute(midi.tracks[0]) if msg.type == "set_tempo")
    if not changes or changes[0][0] != 0:
        changes.insert(0, (0, GAP_TEMPO))  # the SMF default tempo is 120 BPM
    out = np.empty(beats, np.float64)
    seconds, last_tick, tempo, k = 0.0, 0, changes[0][1], 1
    for beat in range(beats):
        tick = beat * midi.ticks_per_beat
        while k < len(changes) and changes[k][0] <= tick:
            seconds += (changes[k][0] - last_tick) * tempo / midi.ticks_per_beat / 1e6
            last_tick, tempo = changes[k]
            k += 1
        out[beat] = seconds + (tick - last_tick) * tempo / midi.ticks_per_beat / 1e6
    return out


def _absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    tick, out = 0, []
    for msg in track:
        tick += msg.time
        out.append((tick, msg))
    return out


def _ticks_for(seconds: float, tempo: int) -> int:
    return int(round(seconds * 1e6 / tempo * PPQ))


def _key_signature(tonic: int, mode: str) -> str:
    return PITCH_NAMES[tonic % 12] + ("m" if mode in MINOR_MODES else "")


def _channels(parts: Sequence[Part]) -> list[tuple[Part, int, int]]:
    out = []
    pitched = 0
    for part in parts:
        if part.is_drum:
            out.append((part, DRUM_CHANNEL, CENTRE_PAN))
            continue
        central = part.name in CENTRED_STEMS or part.program in range(32, 40)  # GM basses
        out.append((part, PITCHED_CHANNELS[pitched], CENTRE_PAN if central else PANS[pitched % len(PANS)]))
        pitched += 1
    return out


def _part_events(part: Part, channel: int, pan: int, offset: int) -> list[Event]:
    events: list[Event] = [
        (offset, ORDER_META, mido.MetaMessage("track_name", name=part.name)),
        (offset, ORDER_SETUP, mido.Message("program_change", channel=channel, program=part.program)),
        (offset, ORDER_SETUP, mido.Message("control_change", channel=channel, control=VOLUME_CC, value=VOLUME)),
        (offset, ORDER_SETUP, mido.Message("control_change", channel=channel, control=PAN_CC, value=pan)),
    ]
    notes = sorted(part.notes, key=lambda n: (n.start, n.pitch))
    next_start: dict[int, int] = {}
    for note in reversed(notes):  # a note ends where the next one of the same pitch begins
        on = offset + int(round(note.start * PPQ))
        off = offset + int(round((note.start + note.length) * PPQ))
        off = min(off, next_start.get(note.pitch, off))
        next_start[note.pitch] = on
        if off <= on:
            continue
        events.append((on, ORDER_ON, mido.Message("note_on", channel=channel, note=note.pitch,
                                                  velocity=note.velocity)))
        events.append((off, ORDER_OFF, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    return events


def _track(events: list[Event], end_tick: int) -> mido.MidiTrack:
    """Absolute-tick events (sorted by tick, then kind) as a track with delta times and an end marker."""
    track = mido.MidiTrack()
    last = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1], getattr(e[2], "note", 0))):
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - last, 0)))
    return track
