"""A Standard MIDI File tempo map that lands on every tracked beat (SMF 1, PPQ 480).

Track 0 (conductor) holds only meta events: one Set Tempo per beat computed with error feedback in exact
microseconds (so rounding never accumulates: every beat stays within 1 µs of the audio), time signatures
from the downbeats, key signature, and markers. Track 1 holds one note spanning the whole region, because
Ableton Live ignores imported tempo without one; an optional track 2 clicks every beat (GM channel 10).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from fractions import Fraction

import mido
import numpy as np

PPQ = 480
MICROSECONDS = 1_000_000
MAX_TEMPO_US = 0xFFFFFF  # 24-bit Set Tempo field (~3.6 BPM)
MIN_TEMPO_US = 1
MAX_LEAD_BPM = 300.0  # Cubase's ceiling: a faster lead-in tempo would be clamped by some DAWs
DEFAULT_BPM = 120.0  # when there are too few beats to say anything
REGION_NOTE = 60
REGION_VELOCITY = 64
CLICK_CHANNEL = 9  # GM percussion
CLICK_DOWNBEAT, CLICK_BEAT = 76, 77  # Hi / Low Wood Block
CLICK_TICKS = PPQ // 8
TYPOGRAPHY = str.maketrans({"–": "-", "—": "-", "−": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...",
                           "·": "-", "♯": "#", "♭": "b"})
MIDO_KEYS = {  # our key names → mido key_signature names
    **{f"{n} major": n for n in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")},
    **{f"{n} minor": f"{n}m" for n in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")},
}


def midi_text(text: str) -> str:
    """`text` as MIDI meta text can hold it: mido writes latin-1 (what DAWs read), so anything else would fail the
    whole export. Typographic punctuation becomes ASCII, accents are kept where latin-1 has them, the rest is '?'."""
    text = unicodedata.normalize("NFC", text.translate(TYPOGRAPHY))
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


@dataclass(frozen=True)
class BeatGrid:
    """Where each beat sits in ticks, and the tempo (µs per quarter) that starts there."""

    lead_ticks: int
    lead_tempo_us: int
    beat_tempi_us: list[int]
    beats_per_bar: list[int]  # per beat: the length of the bar it belongs to
    downbeat_index: list[int]  # beat indices that start a bar

    def beat_tick(self, i: int) -> int:
        return self.lead_ticks + i * PPQ


def plan_grid(beats_s: np.ndarray, downbeats_s: np.ndarray, default_bar: int = 4) -> BeatGrid:
    beats = np.asarray(beats_s, np.float64)
    if len(beats) < 2:
        beats = np.arange(2) * 60.0 / DEFAULT_BPM
    downs = _downbeat_indices(beats, np.asarray(downbeats_s, np.float64))
    bars = _bar_lengths(len(beats), downs, default_bar)
    first_down = downs[0] if downs else 0
    lead_ticks, lead_us = _lead_in(beats, first_down, bars[first_down])
    tempi: list[int] = []
    now = Fraction(lead_us * lead_ticks, PPQ)  # µs at the first beat, exactly as a DAW computes it
    for i in range(len(beats)):
        target = beats[i + 1] if i + 1 < len(beats) else beats[i] + (beats[i] - beats[i - 1])
        tempo = int(np.clip(round(Fraction(target * MICROSECONDS) - now), MIN_TEMPO_US, MAX_TEMPO_US))
        tempi.append(tempo)
        now += tempo
    return BeatGrid(lead_ticks, lead_us, tempi, bars, downs)


def _downbeat_indices(beats: np.ndarray, downbeats: np.ndarray) -> list[int]:
    if len(downbeats) == 0:
        return []
    idx = np.abs(beats[None, :] - downbeats[:, None]).argmin(axis=1)
    return sorted(set(int(i) for i in idx))


def _bar_lengths(count: int, downs: list[int], default_bar: int) -> list[int]:
    """Beats per bar for every beat, from the spacing of downbeats (the last bar keeps the previous length)."""
    out = [default_bar] * count
    for k, start in enumerate(downs):
        length = downs[k + 1] - start if k + 1 < len(downs) else (out[downs[k - 1]] if k else default_bar)
        for i in range(start, downs[k + 1] if k + 1 < len(downs) else count):
            out[i] = max(length, 1)
    if downs:
        for i in range(downs[0]):
            out[i] = out[downs[0]]
    return out


def _lead_in(beats: np.ndarray, first_down: int, bar: int) -> tuple[int, int]:
    """(ticks, µs per quarter) of the stretch before the first beat.

    Prefer whole beats that put the first downbeat on a bar line at a tempo near the opening tempo; when
    the stretch is too short for that (a faster tempo than MAX_LEAD_BPM), use a fraction of a beat instead.
    """
    start, period = float(beats[0]), float(beats[1] - beats[0])
    if start <= 0.0:
        return 0, round(period * MICROSECONDS)
    first = (-first_down) % bar or bar
    options = [first + k * bar for k in range(int(start / period / bar) + 2)]
    count = min(options, key=lambda n: abs(np.log(start / n / period)))
    ticks = count * PPQ if 60.0 * count / start <= MAX_LEAD_BPM else max(1, round(start / period * PPQ))
    return ticks, int(np.clip(round(start * MICROSECONDS * PPQ / ticks), MIN_TEMPO_US, MAX_TEMPO_US))


def seconds_to_tick(seconds: float, beats_s: np.ndarray, grid: BeatGrid) -> int:
    """Tick of a time on the map (linear within each beat, as tempo is constant between events)."""
    beats = np.asarray(beats_s, np.float64)
    if len(beats) < 2:
        return round(seconds * MICROSECONDS / (60.0 / DEFAULT_BPM * MICROSECONDS) * PPQ)
    if seconds < beats[0]:
        return round(seconds * MICROSECONDS * PPQ / grid.lead_tempo_us) if grid.lead_ticks else 0
    i = min(int(np.searchsorted(beats, seconds, side="right")) - 1, len(beats) - 1)
    return grid.beat_tick(i) + round((seconds - beats[i]) * MICROSECONDS * PPQ / grid.beat_tempi_us[i])


def build_tempo_midi(
    beats_s,
    downbeats_s=(),
    *,
    end_s: float,
    markers: list[tuple[float, str]] = (),
    key: str | None = None,
    name: str = "cuesteer",
    text: str = "",
    click: bool = False,
) -> mido.MidiFile:
    """The tempo-map MIDI file for a region [0, end_s] whose beats are `beats_s` (seconds from its start)."""
    beats = np.asarray(beats_s, np.float64)
    grid = plan_grid(beats, downbeats_s)
    if len(beats) < 2:
        beats = np.arange(2) * 60.0 / DEFAULT_BPM
    events: list[tuple[int, int, mido.MetaMessage]] = []  # (tick, order, message)

    def add(tick: int, order: int, msg: mido.MetaMessage) -> None:
        events.append((tick, order, msg))

    name = midi_text(name)
    add(0, 0, mido.MetaMessage("track_name", name=name))
    if text:
        add(0, 1, mido.MetaMessage("text", text=midi_text(text)))
    if key in MIDO_KEYS:
        add(0, 2, mido.MetaMessage("key_signature", key=MIDO_KEYS[key]))
    previous_bar = None
    if grid.lead_ticks:
        add(0, 3, mido.MetaMessage("set_tempo", tempo=grid.lead_tempo_us))
    if grid.lead_ticks or not grid.downbeat_index or grid.downbeat_index[0] != 0:
        add(0, 4, _time_signature(grid.beats_per_bar[0]))
        previous_bar = grid.beats_per_bar[0]
    for i, tempo in enumerate(grid.beat_tempi_us):
        add(grid.beat_tick(i), 3, mido.MetaMessage("set_tempo", tempo=tempo))
        if i in grid.downbeat_index and grid.beats_per_bar[i] != previous_bar:
            add(grid.beat_tick(i), 4, _time_signature(grid.beats_per_bar[i]))
            previous_bar = grid.beats_per_bar[i]
    for at, label in markers:
        add(seconds_to_tick(at, beats, grid), 5, mido.MetaMessage("marker", text=midi_text(label)))
    end_tick = max(seconds_to_tick(end_s, beats, grid), 1)
    conductor = _track(events, end_tick)
    region = _track(
        [(0, 0, mido.MetaMessage("track_name", name=f"{name} region")),
         (0, 1, mido.Message("note_on", note=REGION_NOTE, velocity=REGION_VELOCITY)),
         (end_tick, 0, mido.Message("note_off", note=REGION_NOTE, velocity=0))],
        end_tick,
    )
    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    midi.tracks.extend([conductor, region])
    if click:
        midi.tracks.append(_click_track(grid, len(beats), end_tick))
    return midi


def _time_signature(beats_per_bar: int) -> mido.MetaMessage:
    return mido.MetaMessage("time_signature", numerator=beats_per_bar, denominator=4,
                            clocks_per_click=24, notated_32nd_notes_per_beat=8)


def _click_track(grid: BeatGrid, count: int, end_tick: int) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message]] = [(0, 0, mido.MetaMessage("track_name", name="click"))]
    downs = set(grid.downbeat_index)
    for i in range(count):
        tick = grid.beat_tick(i)
        note = CLICK_DOWNBEAT if i in downs else CLICK_BEAT
        events.append((tick, 2, mido.Message("note_on", channel=CLICK_CHANNEL, note=note, velocity=100)))
        events.append((tick + CLICK_TICKS, 1, mido.Message("note_off", channel=CLICK_CHANNEL, note=note)))
    return _track(events, max(end_tick, grid.beat_tick(count - 1) + CLICK_TICKS))


def _track(events, end_tick: int) -> mido.MidiTrack:
    """Absolute-tick events → a track with delta times and an End of Track at `end_tick`."""
    track = mido.MidiTrack()
    now = 0
    for tick, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


def tempo_changes(midi: mido.MidiFile) -> list[tuple[int, int]]:
    """(tick, µs per quarter) of every Set Tempo in the conductor track."""
    out, now = [], 0
    for msg in midi.tracks[0]:
        now += msg.time
        if msg.type == "set_tempo":
            out.append((now, msg.tempo))
    return out


def tick_to_seconds(tick: int, changes: list[tuple[int, int]], ppq: int = PPQ) -> float:
    """Seconds at `tick` under a tempo map (what every DAW computes on import)."""
    seconds, last_tick, tempo = 0.0, 0, 500_000
    for at, value in changes:
        if at >= tick:
            break
        seconds += mido.tick2second(at - last_tick, ppq, tempo)
        last_tick, tempo = at, value
    return seconds + mido.tick2second(tick - last_tick, ppq, tempo)
