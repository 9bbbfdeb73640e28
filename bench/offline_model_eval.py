"""Offline music–text model (issue 3): text→audio Recall@10 and mAP per attribute, with floors in the same run.

    python bench/offline_model_eval.py [--weights PATH] [--compare OLD.pt] [--seed 0] [--eval-shards 17]
                                       [--real-files 120] [--manifest ~/.cache/cuesteer-corpus/manifest.csv]
                                       [--json OUT]

Held-out renders: the seeded eval shards (whole source pieces never used in training), both the light view
(gain + EQ) and the fully augmented one (reverb, noise, clipping, codecs), embedded from audio through the
product path (`OfflineEncoder.embed_audio`). One query phrase per attribute value; relevant = the clip has it.
Floors, same clips, same metrics:
- `descriptor`: our learning-free encoder has no text tower, so each query is the centroid of the descriptor
  vectors of the clips holding the attribute in the *other* half of the sources (2-fold, by source): a
  supervised floor the learned text tower has to beat;
- `random`: the same architecture with random initial weights (random projections of both towers);
- `chance`: the share of relevant clips (what a random ranking scores in R@10 when relevant ≥ 10);
- `--compare OLD.pt`: other weights (e.g. the previous commit's) on the same clips, so a retrain is judged on
  one held-out set. Per-family R@10 is printed for the offline model(s).
With ≥ 10 relevant clips per value, R@10 is precision@10: a larger held-out set (more clips per family) is a
different — easier — measurement than the first 128-clip set, which is why old weights are re-measured here.
Real recordings (`shared/corpus/fetch.sh music`): the tracks whose tags allow a judgement — Wesnoth's
"Romantic Classical" → orchestral strings, Frets on Fire's isolated guitar stems → guitar and their
backing tracks (metal) → drums — ranked inside the pool of all genre-tagged tracks; one 10-s window each.
Speed: × real time of `embed_audio` on 10-s windows with this machine's threads (2 cores, shared).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.cli.train_offline import EVAL_SHARDS  # noqa: E402
from worker.encoders.base import unit  # noqa: E402
from worker.encoders.offline import features  # noqa: E402
from worker.encoders.offline.evaluate import evaluated_tokens, query_phrase, report_from_scores  # noqa: E402
from worker.encoders.offline.train import dataset  # noqa: E402

TARGETS = {"instrument family": 0.6, "drums": 0.8, "tempo band": 0.8}
DEFAULT_EVAL_SHARDS = EVAL_SHARDS  # 13 of data recipe 1 + 4 of recipe 2 (music21, mma): ≈ 540 clips
GROUPS_SHOWN = ("instrument family", "drums", "tempo band", "mode", "solo/ensemble", "density", "register",
                "dynamics", "style")
WINDOW_S = 10.0
REAL_OFFSET_S = 20.0  # real tracks: the window starts here (past intros), or at 0 for short files
SPEED_WINDOWS = 48
REAL_QUERIES = {  # query phrase → (token whose descriptor centroid is the floor's query, relevance rule)
    "orchestral strings": ("fam:strings", "romantic classical"),
    "electric guitar": ("fam:guitar", "fof guitar stem"),
    "drums": ("drums:yes", "fof backing track"),
}


def random_encoder(seed: int):
    from worker.encoders.offline.encoder import OfflineEncoder
    from worker.encoders.offline.model import OfflineModel

    torch.manual_seed(seed)
    return OfflineEncoder(model=OfflineModel())


def eval_set(seed: int, n_shards: int) -> dict[str, object]:
    paths = dataset.build(dataset.default_cache_dir(), "eval", n_shards, seed)
    data = dataset.load_shards(paths)
    audio = data["audio"].float().numpy() / 32767.0
    data["waves"] = {"light": audio[0::dataset.VIEWS], "augmented": audio[1::dataset.VIEWS]}
    return data


def timed_embed(encoder, waves: np.ndarray) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = encoder.embed_audio(list(waves))
    return out, time.perf_counter() - t0


def text_report(encoder, audio: np.ndarray, tokens: list[list[str]]) -> dict[str, dict[str, float]]:
    queries = evaluated_tokens(tokens)
    text = encoder.embed_text([query_phrase(t) for t in queries])
    return report_from_scores(dict(zip(queries, text @ audio.T, strict=True)), tokens)


def fold_of(source: str) -> int:
    return zlib.crc32(source.encode()) % 2


def centroid_report(audio: np.ndarray, tokens: list[list[str]], sources: list[str]) -> dict[str, dict[str, float]]:
    """Descriptor floor: each clip is scored by the attribute's centroid over the other fold's sources."""
    folds = np.array([fold_of(s) for s in sources])
    scores = {}
    for token in evaluated_tokens(tokens):
        has = np.array([token in t for t in tokens])
        row = np.zeros(len(tokens))
        for f in (0, 1):
            donors = has & (folds != f)
            centroid = unit(audio[donors].mean(0)) if donors.any() else np.zeros(audio.shape[1])
            row[folds == f] = audio[folds == f] @ centroid
        scores[token] = row
    return report_from_scores(scores, tokens)


def real_pool(manifest: Path, limit: int) -> list[dict[str, object]]:
    """Genre-tagged corpus tracks with the relevance labels the tags allow."""
    if not manifest.exists():
        return []
    rows = []
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            fof = "fretsonfire" in row["package"]
            genre = row["genre"].strip().lower()
            if row["kind"] != "audio" or not os.path.exists(row["path"]) or not (fof or genre):
                continue
            if genre in ("sound fx", "(none)"):
                continue
            name = Path(row["path"]).name
            labels = {"romantic classical": genre == "romantic classical",
                      "fof guitar stem": fof and name == "guitar.ogg",
                      "fof backing track": fof and name == "song.ogg"}
            rows.append({"path": row["path"], "duration": float(row["duration_s"] or 0), "labels": labels})
    return rows[:limit]


def real_windows(pool: list[dict[str, object]]) -> tuple[list[np.ndarray], list[dict[str, object]]]:
    from worker.library.decode import DecodeError, decode_mono

    waves, kept = [], []
    n = int(WINDOW_S * features.SAMPLE_RATE)
    for item in pool:
        start = REAL_OFFSET_S if float(item["duration"]) > REAL_OFFSET_S + WINDOW_S else 0.0
        try:
            wave = decode_mono(item["path"], features.SAMPLE_RATE, max_seconds=start + WINDOW_S)
        except DecodeError:
            continue
        a = int(start * features.SAMPLE_RATE)
        w = wave[a:a + n]
        if len(w) >= n // 2:
            waves.append(w.astype(np.float32))
            kept.append(item)
    return waves, kept


def real_report(audio: np.ndarray, items: list[dict[str, object]], query_vecs: dict[str, np.ndarray]
                ) -> dict[str, dict[str, float]]:
    from worker.encoders.offline.evaluate import average_precision, recall_at_k

    out = {}
    for phrase, (_, rule) in REAL_QUERIES.items():
        relevant = np.array([bool(it["labels"][rule]) for it in items], dtype=float)
        if relevant.sum() == 0:
            continue
        row = audio @ query_vecs[phrase]
        out[phrase] = {"r@10": recall_at_k(row, relevant), "ap": average_precision(row, relevant),
                       "n": float(relevant.sum()), "prior": float(relevant.mean())}
    return out


def fmt_groups(name: str, report: dict[str, dict[str, float]]) -> str:
    cells = []
    for g in GROUPS_SHOWN:
        m = report.get(f"group:{g}")
        cells.append(f"{m['r@10']:.2f}/{m['ap']:.2f}" if m else "   -     ")
    return f"{name:<22}" + " ".join(f"{c:>10}" for c in cells)


def family_table(reports: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per-family R@10 (#relevant) rows for the given reports."""
    fams = [k for k in next(iter(reports.values())) if k.startswith("fam:")]
    head = f"{'family R@10':<22}" + " ".join(f"{f[4:][:9]:>9}" for f in fams)
    rows = [f"{'  (relevant clips)':<22}" + " ".join(f"{next(iter(reports.values()))[f]['n']:>9.0f}" for f in fams)]
    rows += [f"{name[:22]:<22}" + " ".join(f"{rep[f]['r@10']:>9.2f}" for f in fams) for name, rep in reports.items()]
    return "\n".join([head] + rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="offline.pt (default: the committed weights)")
    parser.add_argument("--seed", type=int, default=0, help="data seed of the held-out shards")
    parser.add_argument("--compare", metavar="OLD", help="other offline weights to measure on the same clips")
    parser.add_argument("--eval-shards", type=int, default=DEFAULT_EVAL_SHARDS)
    parser.add_argument("--manifest", default=str(Path.home() / ".cache" / "cuesteer-corpus" / "manifest.csv"))
    parser.add_argument("--real-files", type=int, default=120, help="at most this many tagged real tracks")
    parser.add_argument("--json", metavar="OUT", help="also write all figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from worker.encoders.descriptor import DescriptorEncoder
    from worker.encoders.offline.encoder import OfflineEncoder

    offline = OfflineEncoder(weights=args.weights)
    compare = OfflineEncoder(weights=args.compare) if args.compare else None
    random = random_encoder(args.seed)
    descriptor = DescriptorEncoder()
    data = eval_set(args.seed, args.eval_shards)
    tokens, sources = data["tokens"], data["sources"]
    print(f"offline model {offline.version}; held-out: {len(tokens)} clips from {len(set(sources))} source pieces "
          f"(seed {args.seed}, {args.eval_shards} shards); torch threads {torch.get_num_threads()}")
    results: dict[str, object] = {"renders": {}, "real": {}, "speed": {}}
    header = f"{'R@10/mAP':<22}" + " ".join(f"{g[:10]:>10}" for g in GROUPS_SHOWN)
    for view, waves in data["waves"].items():
        seconds = len(waves) * waves.shape[1] / features.SAMPLE_RATE
        emb = {}
        encoders = [("offline", offline), ("random", random), ("descriptor", descriptor)]
        for name, enc in encoders + ([("compared", compare)] if compare else []):
            emb[name], wall = timed_embed(enc, waves)
            results["speed"].setdefault(name, []).append(seconds / wall)
        reports = {"offline": text_report(offline, emb["offline"], tokens),
                   **({f"compared ({compare.version[:22]})": text_report(compare, emb["compared"], tokens)}
                      if compare else {}),
                   "descriptor (centroid)": centroid_report(emb["descriptor"], tokens, sources),
                   "random projection": text_report(random, emb["random"], tokens)}
        reports["chance"] = {k: {"r@10": v["prior"], "ap": v["prior"]} for k, v in reports["offline"].items()
                             if k.startswith("group:")}
        results["renders"][view] = reports
        print(f"\nheld-out renders, {view} view ({len(waves)} clips × {waves.shape[1] / features.SAMPLE_RATE:.0f} s)")
        print(header)
        for name, rep in reports.items():
            print(fmt_groups(name, rep))
        print(family_table({k: v for k, v in reports.items() if k == "offline" or k.startswith("compared")}))
    for view in data["waves"]:
        rep = results["renders"][view]["offline"]
        checks = [f"{g} {rep[f'group:{g}']['r@10']:.2f} {'≥' if rep[f'group:{g}']['r@10'] >= t else '<'} {t}"
                  for g, t in TARGETS.items()]
        print(f"targets ({view}): " + "; ".join(checks))
    pool = real_pool(Path(args.manifest), args.real_files)
    waves, items = real_windows(pool)
    if items:
        d_train = DescriptorEncoder().embed_audio(list(data["waves"]["augmented"]))
        centroids = {p: unit(d_train[[tok in t for t in tokens]].mean(0)) for p, (tok, _) in REAL_QUERIES.items()}
        learned = [("offline", offline), ("random", random)] + ([("compared", compare)] if compare else [])
        emb = {name: enc.embed_audio(waves) for name, enc in learned + [("descriptor", descriptor)]}
        phrases = list(REAL_QUERIES)
        qv = {name: dict(zip(phrases, enc.embed_text(phrases), strict=True)) for name, enc in learned}
        qv["descriptor"] = centroids
        print(f"\nreal recordings: {len(items)} genre-tagged tracks, one {WINDOW_S:.0f}-s window each (R@10/mAP)")
        print(f"{'query':<22}{'relevant':>9}{'offline':>12}{'descriptor':>12}{'random':>12}{'chance':>8}")
        reps = {name: real_report(emb[name], items, qv[name]) for name in emb}
        results["real"] = reps
        for phrase in reps["offline"]:
            o, d, r = (reps[k][phrase] for k in ("offline", "descriptor", "random"))
            print(f"{phrase:<22}{o['n']:>9.0f}" + "".join(f"{m['r@10']:>6.2f}/{m['ap']:.2f}" for m in (o, d, r))
                  + f"{o['prior']:>8.2f}")
            if compare:
                c = reps["compared"][phrase]
                print(f"{'  compared weights':<22}{c['n']:>9.0f}{c['r@10']:>6.2f}/{c['ap']:.2f}")
    else:
        print("\nreal recordings: none (run shared/corpus/fetch.sh music)")
    windows = [np.random.default_rng(i).standard_normal(int(WINDOW_S * features.SAMPLE_RATE)).astype(np.float32)
               * 0.1 for i in range(SPEED_WINDOWS)]
    for name, enc in (("offline", offline), ("descriptor", descriptor)):
        enc.embed_audio(windows[:4])
        _, wall = timed_embed(enc, np.stack(windows))
        results["speed"][f"{name} 10-s windows"] = SPEED_WINDOWS * WINDOW_S / wall
    print("\nembedding speed (× real time, this machine): " + ", ".join(
        f"{k} {np.mean(v):.0f}×" for k, v in results["speed"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
