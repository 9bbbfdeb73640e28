"""Beat-synchronous mixup: tempo groups, same-group partners, the latent mix formula, and audio mixup aligned on
the downbeats of real FluidSynth renders whose downbeats are known from their MIDI."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from worker.encoders.offline.train.mixup import beat_sync_mix, downbeat_starts, mix_pairs
from worker.generate.symbolic.render import render
from worker.prior.mixup import augment, latent_mixup, mix_ratio, partners, tempo_group

SR = 22050
BPM = 120.0
BAR_S = 4 * 60.0 / BPM  # 2 s
KICK, HAT = 36, 42
ENVELOPE_HOP = 220  # 10 ms


def test_tempo_groups_are_six_percent_bins_on_a_log_axis() -> None:
    np.testing.assert_array_equal(tempo_group([60.0, 63.0, 63.7, 120.0, 240.0]), [0, 0, 1, 11, 23])
    assert tempo_group(119.0) == tempo_group(120.0) != tempo_group(128.0)
    with pytest.raises(ValueError):
        tempo_group([0.0])


def test_mix_ratio_is_beta_5_5() -> None:
    lam = mix_ratio(np.random.default_rng(0), 20000)
    assert lam.min() > 0 and lam.max() < 1
    assert lam.mean() == pytest.approx(0.5, abs=0.005)
    assert lam.std() == pytest.approx(np.sqrt(25 / (100 * 11)), abs=0.005)  # ab/((a+b)²(a+b+1))


def test_partners_stay_in_their_group_and_differ_from_themselves() -> None:
    groups = np.array([0, 0, 1, 1, 1, 2, 0])
    for seed in range(20):
        j = partners(groups, np.random.default_rng(seed))
        assert np.all(groups[j] == groups)
        assert j[5] == 5  # alone in its group
        assert np.all(j[[0, 1, 2, 3, 4, 6]] != np.array([0, 1, 2, 3, 4, 6]))


def test_latent_mixup_follows_the_formula() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 8))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    q = rng.normal(size=(6, 3))
    groups = [0, 0, 0, 1, 1, 1]
    mixed, mixed_q, j, lam = latent_mixup(z, q, groups, rng=np.random.default_rng(2))
    for i in range(6):
        direction = lam[i] * z[i] + (1 - lam[i]) * z[j[i]]
        np.testing.assert_allclose(mixed[i], direction / np.linalg.norm(direction), atol=1e-6)
        np.testing.assert_allclose(mixed_q[i], lam[i] * q[i] + (1 - lam[i]) * q[j[i]], atol=1e-6)
    assert np.all(np.asarray(groups)[j] == groups)
    big_z, big_q = augment(z, q, groups, copies=2, seed=3)
    assert big_z.shape == (18, 8) and big_q.shape == (18, 3)
    np.testing.assert_array_equal(big_z[:6], z.astype(np.float32))
    assert augment(z, None, groups)[1] is None


def test_mix_pairs_pair_only_within_a_tempo_group() -> None:
    tempi = [120.0, 121.0, 90.0, 91.0, 150.0, 119.5, 120.5]
    for seed in range(10):
        pairs = mix_pairs(tempi, np.random.default_rng(seed))
        used = [i for pair in pairs for i in pair]
        assert len(used) == len(set(used))  # disjoint
        assert all(tempo_group(tempi[a]) == tempo_group(tempi[b]) for a, b in pairs)
        assert 4 not in used  # 150 BPM has no partner


def _drum_render(lead_in_s: float, bars: int) -> tuple[np.ndarray, list[float]]:
    """A FluidSynth render of a drum loop: kick on every downbeat, hi-hat on the other beats, starting after
    `lead_in_s` of silence. Returns the mono wave and the downbeats known from the MIDI."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0))
    lead = int(round(lead_in_s * BPM / 60.0 * 480))
    for beat in range(4 * bars):
        note = KICK if beat % 4 == 0 else HAT
        track.append(mido.Message("note_on", channel=9, note=note, velocity=110, time=lead if beat == 0 else 0))
        track.append(mido.Message("note_off", channel=9, note=note, velocity=0, time=480))
    wave = render(midi, sample_rate=SR).mean(axis=1)
    return wave, [lead_in_s + bar * BAR_S for bar in range(bars)]


def _low_envelope(wave: np.ndarray) -> np.ndarray:
    """Positive change of low-band energy in 10-ms frames (where the kicks start)."""
    spectrum = np.fft.rfft(wave)
    spectrum[np.fft.rfftfreq(len(wave), 1.0 / SR) > 150.0] = 0.0
    low = np.fft.irfft(spectrum, n=len(wave))
    frames = len(low) // ENVELOPE_HOP
    energy = (low[:frames * ENVELOPE_HOP].reshape(frames, ENVELOPE_HOP) ** 2).sum(axis=1)
    return np.maximum(np.diff(energy, prepend=0.0), 0.0)


def _bar_lag_s(a: np.ndarray, b: np.ndarray) -> float:
    """Lag (s) of b's kicks relative to a's within a bar (a lag of whole bars is none), from the peak of the
    envelopes' circular cross-correlation."""
    ea, eb = _low_envelope(a), _low_envelope(b)
    corr = np.fft.irfft(np.fft.rfft(ea) * np.conj(np.fft.rfft(eb)), n=len(ea))
    lag = int(np.argmax(corr))
    lag = lag - len(ea) if lag > len(ea) // 2 else lag
    return (-lag * ENVELOPE_HOP / SR + BAR_S / 2) % BAR_S - BAR_S / 2


@pytest.fixture(scope="module")
def renders() -> tuple[tuple[np.ndarray, list[float]], tuple[np.ndarray, list[float]]]:
    return _drum_render(0.30, 5), _drum_render(0.85, 5)


def test_audio_mixup_on_downbeats_lines_up_the_bars_of_two_renders(renders) -> None:
    (a, downbeats_a), (b, downbeats_b) = renders
    length = int(2 * BAR_S * SR)
    rng = np.random.default_rng(4)
    for _ in range(5):
        mix = beat_sync_mix(a, downbeats_a, b, downbeats_b, sample_rate=SR, length=length, rng=rng)
        assert mix is not None and 0.0 < mix.lam < 1.0
        assert np.min(np.abs(np.asarray(downbeats_a) - mix.start_a / SR)) < 1.0 / SR
        assert np.min(np.abs(np.asarray(downbeats_b) - mix.start_b / SR)) < 1.0 / SR
        part_a, part_b = a[mix.start_a:mix.start_a + length], b[mix.start_b:mix.start_b + length]
        np.testing.assert_allclose(mix.wave, mix.lam * part_a + (1 - mix.lam) * part_b, atol=1e-6)
        assert abs(_bar_lag_s(part_a, part_b)) <= 0.011  # the kicks coincide (one 10-ms frame)
    # the same cut one beat late in b puts its kicks half a second off: what alignment prevents
    late = int(round((downbeats_b[1] + 60.0 / BPM) * SR))
    start = int(round(downbeats_a[1] * SR))
    assert abs(_bar_lag_s(a[start:start + length], b[late:late + length])) == pytest.approx(0.5, abs=0.011)


def test_no_mix_when_no_downbeat_leaves_room(renders) -> None:
    (a, downbeats_a), (b, downbeats_b) = renders
    too_long = len(b)
    assert beat_sync_mix(a, downbeats_a, b, downbeats_b, sample_rate=SR, length=too_long,
                         rng=np.random.default_rng(0)) is None
    np.testing.assert_array_equal(downbeat_starts([0.0, 1.0, 2.0, -1.0], 10, total=25, length=10), [0, 10])
