"""Audition through `sounddevice`: play a result from its in-point, stop, loop, pick the output device, volume.

The audio is read on the thread pool; a PortAudio output stream pulls it through a callback that applies the
current volume and wraps when looping, so volume changes are heard at once. With no PortAudio or no output
device (CI, a server) the player says "no output device" and everything else in the app keeps working.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from desktop.tasks import run_task
from desktop.waveform import read_from

log = logging.getLogger(__name__)

AUDITION_SECONDS = 90.0  # how much audio one play reads from the in-point
POLL_MS = 100
NO_DEVICE = "no output device"


def output_devices() -> tuple[list[tuple[int, str]], str]:
    """([(index, name)] of output devices, why empty): never raises, so a machine without audio still runs."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        return [], f"{NO_DEVICE} (PortAudio unavailable: {exc})"
    try:
        devices = sd.query_devices()
    except Exception as exc:  # PortAudio errors are not one exception type across versions
        return [], f"{NO_DEVICE} ({exc})"
    outs = [(i, d["name"]) for i, d in enumerate(devices) if d.get("max_output_channels", 0) > 0]
    return outs, "" if outs else NO_DEVICE


class Player(QObject):
    """`play(path, start_s)`, `stop()`, `loop`, `volume` (0…1), `device` (index or None for the default)."""

    state_changed = Signal(str)  # "playing" | "stopped" | "loading"
    position_changed = Signal(float)  # seconds into the source file
    error = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.devices, self.unavailable_reason = output_devices()
        self.device: int | None = self.devices[0][0] if self.devices else None
        self.volume = 0.8
        self.loop = False
        self.state = "stopped"
        self.path: str | None = None
        self.start_s = 0.0
        self._stream: Any = None
        self._data = np.zeros((0, 1), np.float32)
        self._rate = 1
        self._pos = 0
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._ticket = 0  # a newer play() supersedes a read still in progress
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def available(self) -> bool:
        return bool(self.devices)

    def refresh_devices(self) -> None:
        self.devices, self.unavailable_reason = output_devices()
        if self.device not in {i for i, _ in self.devices}:
            self.device = self.devices[0][0] if self.devices else None

    def play(self, path: str, start_s: float = 0.0) -> bool:
        """Start reading `path` from `start_s` and play it; False (and `error`) when there is no device."""
        self.stop()
        if not self.available:
            self.error.emit(self.unavailable_reason or NO_DEVICE)
            return False
        self._ticket += 1
        ticket = self._ticket
        self.path, self.start_s = path, float(start_s)
        self._set_state("loading")
        run_task(lambda: read_from(path, start_s, AUDITION_SECONDS), lambda out, err: self._loaded(ticket, out, err))
        return True

    def stop(self) -> None:
        self._ticket += 1
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:
                log.exception("closing the output stream")
        self._timer.stop()
        self._set_state("stopped")

    def toggle(self, path: str, start_s: float = 0.0) -> None:
        if self.state != "stopped" and self.path == path:
            self.stop()
        else:
            self.play(path, start_s)

    def set_volume(self, volume: float) -> None:
        self.volume = max(0.0, min(1.0, float(volume)))

    # ---- internals --------------------------------------------------------------------------------------------

    def _loaded(self, ticket: int, out: tuple[np.ndarray, int] | None, err: BaseException | None) -> None:
        if ticket != self._ticket:
            return  # stopped or replaced while reading
        if err is not None or out is None:
            self._set_state("stopped")
            self.error.emit(f"cannot play {self.path}: {err}")
            return
        import sounddevice as sd

        self._data, self._rate = out
        self._pos = 0
        self._finished.clear()
        try:
            self._stream = sd.OutputStream(samplerate=self._rate, channels=self._data.shape[1], dtype="float32",
                                           device=self.device, callback=self._callback)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            self._set_state("stopped")
            self.error.emit(f"cannot open the output device: {exc}")
            return
        self._timer.start()
        self._set_state("playing")

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        """PortAudio's thread: copy the next frames (volume applied), wrap when looping."""
        with self._lock:
            written = 0
            while written < frames:
                chunk = self._data[self._pos:self._pos + frames - written]
                if len(chunk) == 0:
                    if self.loop and len(self._data):
                        self._pos = 0
                        continue
                    outdata[written:] = 0
                    self._finished.set()
                    return
                outdata[written:written + len(chunk)] = chunk * self.volume
                written += len(chunk)
                self._pos += len(chunk)

    def _poll(self) -> None:
        self.position_changed.emit(self.start_s + self._pos / max(self._rate, 1))
        if self._finished.is_set():
            self.stop()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
