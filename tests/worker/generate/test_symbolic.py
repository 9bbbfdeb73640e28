"""The symbolic generator end to end with the real renderer (FluidSynth) and a real encoder (`descriptor`):
true stems that sum to the mix, the exact MIDI and tempo map, reproducibility, phrases, steering, endings."""

from __future__ import annotations

import datetime
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from worker.analysis.api import analyze_wave
from worker.encoders.descriptor import DescriptorEncoder
from worker.generate.api import generate_cue, write_cue
from worker.generate.base import GeneratedCue, GenerateRequest, Phrase
from worker.generate.symbolic.arrange import arrange
from worker.generate.symbolic.generator import SymbolicGenerator, candidate_plans
from worker.generate.symbolic.midi import DRUM_CHANNEL
from worker.generate.symbolic.plan import fit_length
from worker.generate.symbolic.theory import MINOR_MODES, cadence, dominant
from worker.jobs import Cancelled, Job

CANDIDATES = 5
SECONDS = 5.0
ONSET_TOLERANCE_S = 0.020
FRAME_S = 0.002


@pytest.fixture(scope="module")
def encoder() -> DescriptorEncoder:
    return DescriptorEncoder()


@pytest.fixture(scope="module")
def drums_cue(encoder: DescriptorEncoder) -> GeneratedCue:
    seeds = np.random.default_rng(1).normal(size=(3, encoder.dim))
    return generate_cue("symbolic", encoder=encoder, seeds=seeds, phrases=["+drums", "pop"], seconds=SECONDS,
                        seed=11, candidates=CANDIDATES)


def midi_notes(midi: mido.MidiFile) -> list[tuple[float, int, int]]:
    """(seconds, channel, pitch) of every note-on in the file."""
    out, seconds = [], 0.0
    for msg in midi:  # merged tracks with times in seconds
        seconds += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append((seconds, msg.channel, msg.note))
    return out


def test_stems_sum_to_the_mix_and_share_length_and_start(drums_cue: GeneratedCue) -> None:
    cue = drums_cue
    assert len(cue.stems) >= 3 and "drums" in cue.stems
    assert cue.mix.shape == (int(round(SECONDS * cue.sample_rate)), 2)
    for wave in cue.stems.values():
        assert wave.shape == cue.mix.shape and wave.dtype == np.float32
        assert np.abs(wave).max() > 1e-3  # every stem is audible
    total = np.sum([s.astype(np.float64) for s in cue.stems.values()], axis=0)
    assert np.array_equal(total, cue.mix.astype(np.float64))
    assert 0.5 < np.abs(cue.mix).max() < 1.0
    assert cue.metadata["candidates"] == CANDIDATES and len(cue.metadata["candidate_scores"]) == CANDIDATES
    assert cue.metadata["chosen"] == int(np.argmax(cue.metadata["candidate_scores"]))


def test_midi_beats_match_the_tempo_map(drums_cue: GeneratedCue, tmp_path: Path) -> None:
    cue = drums_cue
    path = tmp_path / "cue.mid"
    cue.midi.save(path)
    beats = pretty_midi.PrettyMIDI(str(path)).get_beats()
    n = len(cue.beat_times)
    assert n == cue.metadata["bars"] * cue.beats_per_bar
    np.testing.assert_allclose(beats[:n], cue.beat_times, atol=1e-6)
    np.testing.assert_allclose(np.diff(cue.beat_times), 60.0 / cue.tempo_bpm, atol=1e-9)
    assert cue.beat_times[-1] + 60.0 / cue.tempo_bpm == pytest.approx(SECONDS, abs=1e-3)  # whole bars fill it


def test_drum_audio_lands_on_the_midi_times(drums_cue: GeneratedCue) -> None:
    """The drum stem's onsets line up with the MIDI's drum hits within 20 ms, at the start and at the end
    (no drift): the lag that best matches a click train of the MIDI hits to the stem's energy rises."""
    cue = drums_cue
    wave = cue.stems["drums"].mean(axis=1).astype(np.float64)
    hop = int(FRAME_S * cue.sample_rate)
    energy = np.sqrt(np.add.reduceat(wave**2, np.arange(0, len(wave), hop)))
    rise = np.maximum(np.diff(energy, prepend=0.0), 0.0)
    clicks = np.zeros_like(rise)
    hits = [t for t, channel, _ in midi_notes(cue.midi) if channel == DRUM_CHANNEL]
    assert len(hits) >= 8
    for t in hits:
        clicks[min(int(round(t / FRAME_S)), len(clicks) - 1)] = 1.0
    half = len(rise) // 2
    lags = np.arange(-int(0.1 / FRAME_S), int(0.1 / FRAME_S) + 1)
    for part in (slice(0, half), slice(half, len(rise))):
        scores = [np.dot(clicks[part], np.roll(rise, -lag)[part]) for lag in lags]
        lag_s = lags[int(np.argmax(scores))] * FRAME_S
        assert -FRAME_S <= lag_s <= ONSET_TOLERANCE_S, lag_s


def test_analysed_beats_match_the_midi_tempo_map() -> None:
    """`cuesteer analyze` (worker.analysis) on the rendered mix finds the MIDI's tempo and beats."""
    cue = generate_cue("symbolic", encoder=None, seeds=None, phrases=["rock", "+drums"], seconds=8.0, seed=3)
    found = analyze_wave(cue.mix.mean(axis=1), cue.sample_rate)
    assert found["tempo_bpm"] == pytest.approx(cue.tempo_bpm, rel=0.02)
    beats = np.asarray(found["beats_s"])
    assert len(beats) >= len(cue.beat_times) * 0.7
    errors = np.array([np.min(np.abs(cue.beat_times - b)) for b in beats])
    assert np.median(errors) < ONSET_TOLERANCE_S, errors


def test_same_seed_identical_files_other_seed_different(encoder: DescriptorEncoder, drums_cue: GeneratedCue,
                                                        tmp_path: Path) -> None:
    seeds = np.random.default_rng(1).normal(size=(3, encoder.dim))
    again = generate_cue("symbolic", encoder=encoder, seeds=seeds, phrases=["+drums", "pop"], seconds=SECONDS,
                         seed=11, candidates=CANDIDATES)
    made = datetime.datetime(2026, 1, 2, 3, 4, 5)  # the bext date is the only clock in the files
    first = write_cue(drums_cue, tmp_path / "a", name="cue", created=made)
    second = write_cue(again, tmp_path / "b", name="cue", created=made)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate_cue("symbolic", encoder=None, seeds=None, phrases=["+drums", "pop"], seconds=SECONDS,
                         seed=12)
    assert other.mix.shape == drums_cue.mix.shape and not np.array_equal(other.mix, drums_cue.mix)


def test_minus_drums_yields_no_drum_track() -> None:
    cue = generate_cue("symbolic", encoder=None, seeds=None, phrases=["rock", "-drums"], seconds=3.0, seed=0)
    assert "drums" not in cue.stems and len(cue.stems) >= 2
    assert all(channel != DRUM_CHANNEL for _, channel, _ in midi_notes(cue.midi))


def test_solo_piano_is_one_piano_stem() -> None:
    cue = generate_cue("symbolic", encoder=None, seeds=None, phrases=["+solo piano"], seconds=3.0, seed=3)
    assert len(cue.stems) == 1
    programs = {m.program for m in cue.midi.tracks[1] if m.type == "program_change"}
    assert programs <= set(range(8))  # GM pianos


def test_fast_is_faster_than_slow() -> None:
    fast = generate_cue("symbolic", encoder=None, seeds=None, phrases=["fast"], seconds=3.0, seed=0)
    slow = generate_cue("symbolic", encoder=None, seeds=None, phrases=["slow"], seconds=3.0, seed=0)
    assert fast.tempo_bpm > slow.tempo_bpm


def test_steering_picks_the_candidate_nearest_the_seeds(encoder: DescriptorEncoder) -> None:
    """Seeds made from one candidate's own preview embedding choose that candidate; the same vector as a
    strong negative phrase pushes the choice to the best of the others."""
    generator = SymbolicGenerator(encoder=encoder, candidates=CANDIDATES)
    request = GenerateRequest(seconds=2.0, seed=21)
    embeddings = generator.embed_previews(candidate_plans(request, CANDIDATES), Job())
    assert np.linalg.matrix_rank(embeddings) == CANDIDATES  # distinct candidates
    target = CANDIDATES - 2
    seeds = embeddings[target : target + 1]
    assert generator.compose(GenerateRequest(seconds=2.0, seed=21, seeds=seeds)).chosen == target
    pushed = generator.compose(GenerateRequest(seconds=2.0, seed=21, seeds=seeds,
                                               phrases=(Phrase("that", -3.0, embeddings[target]),)))
    expected = np.argmax(-2.0 * (embeddings @ embeddings[target]))
    assert pushed.chosen == expected != target


def test_ending_resolves_on_the_tonic_and_loop_leads_back() -> None:
    plan = candidate_plans(GenerateRequest(seconds=20.0, seed=4), 1)[0]
    plan, bars = fit_length(plan, seconds=20.0)
    finished = arrange(plan, bars)
    subdominant, fifth, home = cadence(plan.tonic, plan.mode)
    assert [b.chord for b in finished.form[-3:]] == [subdominant, fifth, home]
    last_bar = (bars - 1) * plan.beats_per_bar
    for part in finished.parts:
        if part.is_drum:
            continue
        final = [n.pitch % 12 for n in part.notes if n.start >= last_bar]
        assert final and set(final) <= set(home.pitch_classes)
    third = (home.pitch_classes[1] - home.root) % 12
    assert third == (3 if plan.mode in MINOR_MODES else 4)
    looped = arrange(plan, bars, loop=True)
    assert looped.form[-1].chord == dominant(plan.tonic) and looped.form[0].chord.root == plan.tonic


def test_loop_is_exact_length_and_seamless() -> None:
    cue = generate_cue("symbolic", encoder=None, seeds=None, phrases=["ambient"], seconds=6.0, seed=8, loop=True)
    assert len(cue.mix) == 6 * cue.sample_rate
    edge = int(0.01 * cue.sample_rate)
    # No fade at the loop point: the end is as loud as the music around it, and the start carries the tail.
    assert np.abs(cue.mix[-edge:]).max() > 0.05 * np.abs(cue.mix).max()
    assert np.abs(cue.mix[:edge]).max() > 0.0


def test_length_in_bars() -> None:
    cue = generate_cue("symbolic", encoder=None, seeds=None, phrases=["waltz"], seconds=None, bars=3, seed=2)
    assert cue.beats_per_bar == 3 and len(cue.beat_times) == 9
    assert len(cue.mix) == int(round(9 * 60.0 / cue.tempo_bpm * cue.sample_rate))


def test_cancel_stops_before_rendering(encoder: DescriptorEncoder) -> None:
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled):
        generate_cue("symbolic", encoder=encoder, seeds=np.ones((1, encoder.dim)), phrases=[], seconds=3.0,
                     seed=0, job=job, candidates=2)
