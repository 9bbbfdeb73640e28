import sys

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


def test_demucs_without_the_package_names_the_install_commands(monkeypatch):
    """Without the package, asking for Demucs names the commands; "auto" falls back to labelled HPSS."""
    monkeypatch.setitem(sys.modules, "demucs", None)  # as if not installed
    mix = sum(_mix(1.0).values()).astype(np.float32)
    assert not stems_demucs.demucs_available()
    with pytest.raises(stems_demucs.DemucsUnavailable) as info:
        separate(mix, RATE, backend="demucs")
    assert "pip install demucs" in str(info.value) and "cuesteer models pull demucs" in str(info.value)
    assert separate(mix, RATE, backend="auto").backend == "hpss"
    with pytest.raises(ValueError):
        separate(mix, RATE, backend="spleeter")


def test_demucs_with_missing_weights_fails_at_once_and_auto_falls_back(monkeypatch, tmp_path):
    """An empty torch hub cache: no download is tried, the error names the missing checkpoint."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    mix = sum(_mix(1.0).values()).astype(np.float32)
    if not stems_demucs.demucs_available():  # the package itself is optional: then the package error comes first
        with pytest.raises(stems_demucs.DemucsUnavailable, match="pip install demucs"):
            stems_demucs.load_cached_model()
        return
    missing = stems_demucs.missing_checkpoints("htdemucs")
    assert [p.parent for p in missing] == [tmp_path / "hub" / "checkpoints"]
    with pytest.raises(stems_demucs.DemucsUnavailable) as info:
        separate(mix, RATE, backend="demucs")
    assert "cuesteer models pull demucs" in str(info.value) and missing[0].name in str(info.value)
    assert separate(mix, RATE, backend="auto").backend == "hpss"


def test_demucs_separation_path_with_a_tiny_random_htdemucs():
    """The real apply_model path (resampling, normalisation, channel matching) on a tiny random HTDemucs:
    stems named by the model's sources, shaped like the input, summing back to the mix."""
    if not stems_demucs.demucs_available():
        with pytest.raises(stems_demucs.DemucsUnavailable):
            stems_demucs.separate_demucs(np.zeros(RATE, np.float32), RATE, model=object())
        return
    import torch
    from demucs.htdemucs import HTDemucs

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on busy cores: threads only contend
    try:
        torch.manual_seed(0)
        model = HTDemucs(sources=["drums", "bass", "other", "vocals"], audio_channels=2, samplerate=8000, segment=1,
                         channels=4, growth=2, depth=2, nfft=256, t_layers=1, t_heads=2, bottom_channels=0,
                         dconv_depth=1, dconv_comp=2, t_hidden_scale=1.0, cac=True).eval()
        parts = _mix(2.0)
        mono = (parts["bass"] + parts["other"] + parts["drums"]).astype(np.float32)
        stereo = np.stack([mono, 0.5 * mono], axis=1)
        for samples in (mono, stereo):
            stems = stems_demucs.separate_demucs(samples, RATE, model=model)
            assert set(stems) == {"drums", "bass", "other", "vocals"}
            assert all(stem.shape == samples.shape and stem.dtype == np.float32 for stem in stems.values())
            assert np.abs(sum(stems.values()) - samples).max() < SUM_TOLERANCE
            assert all(np.abs(stem).max() > 0 for stem in stems.values())  # the network really ran
    finally:
        torch.set_num_threads(threads)
