import numpy as np
import pytest

from worker.analysis import stems_demucs
from worker.analysis.stems import separate
from worker.analysis.stems_hpss import STEM_NAMES, SUM_TOLERANCE

RATE = 48000


def _mix(seconds: float = 3.0) -> dict[str, np.ndarray]:
    """A sustained bass note, a sustained high chord and noise-burst hits, each known separately."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * RATE)) / RATE
    bass = 0.3 * np.sin(2 * np.pi * 55.0 * t)
    chord = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (880.0, 1108.7, 1318.5))
    hits = np.zeros_like(t)
    burst = rng.standard_normal(int(0.02 * RATE)) * np.exp(-np.linspace(0, 6, int(0.02 * RATE)))
    for start in np.arange(0.1, seconds - 0.1, 0.5):
        i = int(start * RATE)
        hits[i : i + len(burst)] += 0.5 * burst
    return {"bass": bass, "other": chord, "drums": hits}


def _energy_share(stems: dict[str, np.ndarray], source: np.ndarray, name: str) -> float:
    """How much of the source's energy each stem captures, via projection onto the source."""
    projections = {k: float(np.dot(v.reshape(len(source), -1).mean(axis=1), source)) for k, v in stems.items()}
    return projections[name] / max(sum(max(p, 0.0) for p in projections.values()), 1e-12)


def test_hpss_stems_sum_to_the_mix_and_sort_sources():
    parts = _mix()
    mix = (parts["bass"] + parts["other"] + parts["drums"]).astype(np.float32)
    stereo = np.stack([mix, 0.8 * mix], axis=1)
    result = separate(stereo, RATE, backend="hpss")
    assert result.backend == "hpss"
    assert set(result.tracks) == set(STEM_NAMES)
    for stem in result.tracks.values():
        assert stem.shape == stereo.shape
    assert np.abs(sum(result.tracks.values()) - stereo).max() < SUM_TOLERANCE
    for name in STEM_NAMES:
        assert _energy_share(result.tracks, parts[name], name) > 0.7, name


def test_mono_input_gives_mono_stems():
    mix = sum(_mix(1.0).values()).astype(np.float32)
    result = separate(mix, RATE, backend="hpss")
    assert all(stem.shape == mix.shape for stem in result.tracks.values())
    assert np.abs(sum(result.tracks.values()) - mix).max() < SUM_TOLERANCE


def test_demucs_is_guarded_with_install_commands():
    """Without the package, asking for Demucs names the commands; "auto" falls back to labelled HPSS."""
    mix = sum(_mix(1.0).values()).astype(np.float32)
    if stems_demucs.demucs_available():
        assert stems_demucs.require_demucs().__name__ == "demucs"
        return
    with pytest.raises(stems_demucs.DemucsUnavailable) as info:
        separate(mix, RATE, backend="demucs")
    assert "pip install demucs" in str(info.value) and "cuesteer models pull demucs" in str(info.value)
    assert separate(mix, RATE, backend="auto").backend == "hpss"
    with pytest.raises(ValueError):
        separate(mix, RATE, backend="spleeter")
