"""Indexing throughput: our indexer vs a naive peer (one file at a time, librosa.load + the same encoder).

    python bench/index_throughput.py [--manifest ~/.cache/cuesteer-corpus/manifest.csv] [--hours H]

Prints × real time, files/s and peak RSS (summed over worker processes) per configuration (each run in a fresh
process), the time of re-indexing the unchanged library as a share of the first run, and the machine's load
average around every run: on shared cores the ratio to the peer measured in the same run is the figure that
holds. Corpus: `shared/corpus/fetch.sh music` (omit --hours for all of it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import corpus_files, run_child, uptime  # noqa: E402


def child_ours(manifest: str, hours: float | None, encoder_name: str, workers: int) -> dict:
    from worker.library.catalogue import Library
    from worker.library.indexer import index_folders

    encoder = _encoder(encoder_name)
    files = corpus_files(Path(manifest), hours, shuffle=True)
    with tempfile.TemporaryDirectory() as lib_dir:
        lib = Library(lib_dir)
        setup_cpu = time.process_time()  # imports and set-up, not counted (the peer's numba warm-up neither)
        t0 = time.perf_counter()
        first = index_folders(lib, encoder, [p for p, _ in files], workers=workers)
        t1 = time.perf_counter()
        again = index_folders(lib, encoder, [p for p, _ in files], workers=workers)
        t2 = time.perf_counter()
    return {"files": len(files), "indexed": first.indexed, "errors": len(first.errors), "setup_cpu_s": setup_cpu,
            "audio_s": first.audio_seconds, "seconds": t1 - t0, "reindex_seconds": t2 - t1,
            "reindex_skipped": again.skipped}


def child_naive(manifest: str, hours: float | None, encoder_name: str) -> dict:
    import librosa
    import numpy as np

    from worker.library.windows import windows
    from worker.settings import HOP_SECONDS, WINDOW_SECONDS

    encoder = _encoder(encoder_name)
    files = corpus_files(Path(manifest), hours, shuffle=True)
    librosa.load(files[0][0], sr=encoder.sample_rate, mono=True, duration=1.0)  # numba warm-up, not timed
    setup_cpu = time.process_time()
    t0 = time.perf_counter()
    audio = 0.0
    for path, _ in files:
        try:
            wave, _ = librosa.load(path, sr=encoder.sample_rate, mono=True)
        except Exception:  # noqa: BLE001 - unreadable (e.g. tracker modules): skipped, as ours reports them
            continue
        wins = [w.samples for w in windows([wave.astype(np.float32)], encoder.sample_rate, WINDOW_SECONDS,
                                           HOP_SECONDS)]
        encoder.embed_audio(wins)
        audio += len(wave) / encoder.sample_rate
    return {"files": len(files), "audio_s": audio, "seconds": time.perf_counter() - t0, "setup_cpu_s": setup_cpu}


def _load(run: dict) -> str:
    return f"load {run['load_before']:.1f} → {run['load_after']:.1f}"


def _encoder(name: str):
    if name == "tiny-clap":
        from tests.worker.encoders.tiny_models import tiny_clap
        from worker.encoders.clap import ClapEncoder

        model, processor = tiny_clap()
        return ClapEncoder.from_objects(model, processor)
    from worker.encoders.registry import get_encoder

    return get_encoder(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default=os.path.expanduser("~/.cache/cuesteer-corpus/manifest.csv"))
    parser.add_argument("--hours", type=float, default=None, help="use only the first H hours of the corpus")
    parser.add_argument("--clap-hours", type=float, default=0.3, help="corpus slice for the (slow) tiny CLAP")
    parser.add_argument("--encoders", default="descriptor,tiny-clap")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, name, hours = args.child[0], args.child[1], args.child[2]
        h = None if hours == "all" else float(hours)
        result = child_ours(args.manifest, h, name, os.cpu_count() or 1) if kind == "ours" \
            else child_naive(args.manifest, h, name)
        print(json.dumps(result))
        return
    me = str(Path(__file__).resolve())
    print(f"cores: {os.cpu_count()}, manifest: {args.manifest}, {uptime()}", flush=True)
    for name in args.encoders.split(","):
        hours = args.clap_hours if name == "tiny-clap" else args.hours
        h = "all" if hours is None else str(hours)
        ours = run_child([me, "--manifest", args.manifest, "--child", "ours", name, h])
        naive = run_child([me, "--manifest", args.manifest, "--child", "naive", name, h])
        rt_ours = ours["audio_s"] / ours["seconds"]
        rt_naive = naive["audio_s"] / naive["seconds"]
        print(f"\n[{name}] {ours['files']} files, {ours['audio_s'] / 3600:.2f} h of audio")
        print(f"  ours : {rt_ours:7.1f}× real time, {ours['files'] / ours['seconds']:6.2f} files/s, "
              f"peak RSS {ours['peak_rss_mb']:.0f} MB, {ours['errors']} unreadable, {_load(ours)}")
        print(f"  naive: {rt_naive:7.1f}× real time, {naive['files'] / naive['seconds']:6.2f} files/s, "
              f"peak RSS {naive['peak_rss_mb']:.0f} MB (librosa.load, one file at a time), {_load(naive)}")
        cpu_ours = ours["audio_s"] / (ours["cpu_s"] - ours["setup_cpu_s"])
        cpu_naive = naive["audio_s"] / (naive["cpu_s"] - naive["setup_cpu_s"])
        print(f"  ratio ours/naive: {rt_ours / rt_naive:.2f}× wall; per CPU-second of work: ours {cpu_ours:.0f}×, "
              f"naive {cpu_naive:.0f}× real time ({cpu_ours / cpu_naive:.2f}×; on {os.cpu_count()} idle cores ours "
              f"would reach ~{cpu_ours * (os.cpu_count() or 1):.0f}×)")
        print(f"  re-index unchanged: {ours['reindex_seconds']:.2f} s = "
              f"{100 * ours['reindex_seconds'] / ours['seconds']:.2f}% of the first run "
              f"({ours['reindex_skipped']} skipped)", flush=True)


if __name__ == "__main__":
    main()
