"""What every exported file says about itself: tempo, key, source, region and seed (bext, iXML, MIDI text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from worker.export.bwf import Acid, Bext, acid_payload, bext_payload, ixml_payload
from worker.export.riff import chunk
from worker.export.timecode import FrameRate

BEXT_DESCRIPTION_BYTES = 256
ORIGINATOR = "cuesteer"
KEY_PITCH = {"C": 0, "C#": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9, "Bb": 10, "B": 11}


@dataclass(frozen=True)
class CueInfo:
    tempo_bpm: float
    key: str | None
    time_signature: str
    source: str
    region: tuple[float, float]
    seed: int | None
    description: str = ""
    fit_target_s: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def beats_per_bar(self) -> int:
        return int(self.time_signature.split("/")[0])

    def summary(self) -> str:
        """One line for bext Description and the MIDI text event (ASCII, cut to 256 bytes by bext)."""
        parts = [f"tempo {self.tempo_bpm:.2f} BPM", f"key {self.key or 'unknown'}", self.time_signature,
                 f"seed {self.seed if self.seed is not None else 'none'}",
                 f"source {self.source.rsplit('/', 1)[-1]} {self.region[0]:.3f}-{self.region[1]:.3f}s"]
        if self.fit_target_s is not None:
            parts.append(f"fit {self.fit_target_s:g}s")
        if self.description:
            parts.append(self.description)
        return "cuesteer: " + "; ".join(parts)

    def fields(self) -> dict[str, str]:
        out = {
            "NOTE": self.summary(),
            "TEMPO_BPM": f"{self.tempo_bpm:.3f}",
            "KEY": self.key or "",
            "TIME_SIGNATURE": self.time_signature,
            "SOURCE": self.source,
            "SOURCE_START_S": f"{self.region[0]:.6f}",
            "SOURCE_END_S": f"{self.region[1]:.6f}",
            "SEED": "" if self.seed is None else str(self.seed),
            "DESCRIPTION": self.description,
        }
        if self.fit_target_s is not None:
            out["FIT_TARGET_S"] = f"{self.fit_target_s:.3f}"
        return {**out, **self.extra}


def wav_metadata(info: CueInfo, *, time_reference: int, rate: FrameRate, sample_rate: int, bit_depth: int,
                 channels: int, beats: int, loudness_lufs: float | None, ixml: bool,
                 now: dt.datetime | None = None) -> list[bytes]:
    """bext + acid (+ iXML) chunks for one WAV (the mix or a stem)."""
    now = now or dt.datetime.now()
    tonic = KEY_PITCH.get((info.key or "").split(" ")[0])
    chunks = [
        chunk(b"bext", bext_payload(Bext(
            description=info.summary(), originator=ORIGINATOR,
            originator_reference=f"{ORIGINATOR}-{info.seed}" if info.seed is not None else ORIGINATOR,
            origination_date=now.strftime("%Y-%m-%d"), origination_time=now.strftime("%H:%M:%S"),
            time_reference=time_reference, loudness_lufs=loudness_lufs,
            coding_history=f"A=PCM,F={sample_rate},W={bit_depth},M={'stereo' if channels == 2 else 'mono'},"
                           f"T={ORIGINATOR}\r\n",
        ))),
        chunk(b"acid", acid_payload(Acid(bpm=float(info.tempo_bpm), beats=beats, numerator=info.beats_per_bar,
                                         denominator=4, root_note=tonic))),
    ]
    if ixml:
        speed = {
            "TIMECODE_RATE": f"{rate.fps.numerator}/{rate.fps.denominator}",
            "TIMECODE_FLAG": "DF" if rate.drop else "NDF",
            "FILE_SAMPLE_RATE": str(sample_rate),
            "AUDIO_BIT_DEPTH": str(bit_depth),
            "TIMESTAMP_SAMPLE_RATE": str(sample_rate),
            "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI": str(time_reference >> 32),
            "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO": str(time_reference & 0xFFFFFFFF),
        }
        chunks.append(chunk(b"iXML", ixml_payload({"PROJECT": ORIGINATOR, **info.fields()}, speed=speed)))
    return chunks
