import io

import mido
import numpy as np
import pytest

from worker.export.midi_tempo import (
    CLICK_CHANNEL,
    PPQ,
    REGION_NOTE,
    build_tempo_midi,
    plan_grid,
    tempo_changes,
    tick_to_seconds,
)


def _round_trip(midi: mido.MidiFile) -> mido.MidiFile:
    buffer = io.BytesIO()
    midi.save(file=buffer)
    buffer.seek(0)
    return mido.MidiFile(file=buffer)


def _beats(count: int, start: float, seed: int = 0) -> np.ndarray:
    """A drifting, accelerating beat sequence (what a tracker returns for a live recording)."""
    rng = np.random.default_rng(seed)
    periods = np.linspace(0.6, 0.42, count - 1) + 0.01 * rng.standard_normal(count - 1)
    return start + np.concatenate([[0.0], np.cumsum(periods)])


@pytest.mark.parametrize("start", [0.0, 0.013, 0.9, 4.2])
def test_round_trip_lands_on_every_beat(start):
    beats = _beats(600, start)
    downbeats = beats[2::4]  # a two-beat pickup
    end = beats[-1] + 1.0
    midi = _round_trip(build_tempo_midi(beats, downbeats, end_s=end, click=True))
    assert midi.type == 1 and midi.ticks_per_beat == PPQ == 480
    grid = plan_grid(beats, downbeats)
    changes = tempo_changes(midi)
    assert changes[0][0] == 0  # a tempo at tick 0, also for the lead-in
    recovered = np.array([tick_to_seconds(grid.beat_tick(i), changes) for i in range(len(beats))])
    assert np.abs(recovered - beats).max() < 0.001
    # independently: mido's own playback clock puts the click notes on the beats
    now, clicks = 0.0, []
    for msg in midi:
        now += msg.time
        if msg.type == "note_on" and msg.channel == CLICK_CHANNEL:
            clicks.append(now)
    assert np.abs(np.array(clicks) - beats).max() < 0.001
    assert len([m for m in midi.tracks[0] if m.type == "set_tempo"]) >= len(beats)
    assert all(not isinstance(m, mido.Message) for m in midi.tracks[0])  # conductor: meta events only


def test_first_downbeat_on_a_bar_line_when_the_lead_in_allows():
    beats = 1.5 + np.arange(40) * 0.5  # 120 BPM, first beat after 1.5 s, first downbeat is beat 1
    midi = build_tempo_midi(beats, beats[1::4], end_s=22.0)
    grid = plan_grid(beats, beats[1::4])
    assert grid.beat_tick(1) % (4 * PPQ) == 0
    assert 60e6 / grid.lead_tempo_us == pytest.approx(120.0, rel=0.01)
    signatures = [m for m in midi.tracks[0] if m.type == "time_signature"]
    assert [(s.numerator, s.denominator) for s in signatures] == [(4, 4)]


def test_time_signatures_markers_key_and_region_note():
    beats = np.arange(32) * 0.5
    downbeats = np.concatenate([beats[0:12:4], beats[12:24:3], beats[24::4]])  # 4/4, then 3/4, then 4/4
    midi = _round_trip(build_tempo_midi(beats, downbeats, end_s=17.0, markers=[(3.0, "Hit"), (6.25, "Swell")],
                                        key="Eb major", name="cue"))
    conductor = midi.tracks[0]
    now, sigs, marks = 0, [], []
    for msg in conductor:
        now += msg.time
        if msg.type == "time_signature":
            sigs.append((now, msg.numerator, msg.denominator))
        if msg.type == "marker":
            marks.append((now, msg.text))
    assert sigs == [(0, 4, 4), (12 * PPQ, 3, 4), (24 * PPQ, 4, 4)]
    assert marks == [(6 * PPQ, "Hit"), (12 * PPQ + PPQ // 2, "Swell")]
    assert any(m.type == "key_signature" and m.key == "Eb" for m in conductor)
    notes, now = [], 0
    for msg in midi.tracks[1]:
        now += msg.time
        if msg.type in ("note_on", "note_off"):
            notes.append((now, msg.type, msg.note))
    end_tick = 34 * PPQ  # 17 s at 120 BPM
    assert notes == [(0, "note_on", REGION_NOTE), (end_tick, "note_off", REGION_NOTE)]


def test_text_outside_latin1_is_written_not_refused():
    """A query in Japanese or an en dash in a description must not fail the export (mido writes latin-1)."""
    midi = build_tempo_midi(np.arange(8) * 0.5, end_s=4.0, name="夜の港 – cue 2", text="+ warm strings · café ♯",
                            markers=[(1.0, "Szene “Hafen” — Ende")])
    metas = {m.type: m for m in _round_trip(midi).tracks[0] if m.is_meta}
    assert metas["track_name"].name.endswith("- cue 2") and "?" in metas["track_name"].name
    assert metas["text"].text == "+ warm strings - café #"
    assert metas["marker"].text == 'Szene "Hafen" - Ende'
