"""Does beat-synchronous audio mixup (MusicLDM's BAM, worker/encoders/offline/train/mixup.py) help the offline
music–text model? Two short trainings with the same seed, steps and base data; held-out retrieval compared.

Base data: the first --shards cached training shards (~/.cache/cuesteer/offline-train/seed<seed>, built by
`cuesteer train-offline`); their clips are re-rendered exactly as the shard builder did (same seeds) to get the
audio back. Mixed data: pairs of those clips within one tempo group, cut on downbeats (the clips are MIDI renders
starting on a bar line, so their downbeats are the bar grid of their tempo), λ ~ Beta(5, 5), featurised with the
same light/full augmentation views; a mixed clip's tokens are the union of instruments/drums/style and the
intersection of single-valued attributes (tempo, mode, density, register, dynamics; solo becomes ensemble).
Evaluation: `trainer.evaluate` on the cached eval shards (held-out pieces), per attribute group R@10 and AP.

    python bench/offline_mixup.py [--shards 4] [--steps 300] [--repeats 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.encoders.offline import features  # noqa: E402
from worker.encoders.offline.model import ModelConfig, OfflineModel  # noqa: E402
from worker.encoders.offline.train import dataset  # noqa: E402
from worker.encoders.offline.train.augment import augment  # noqa: E402
from worker.encoders.offline.train.captions import sample_captions  # noqa: E402
from worker.encoders.offline.train.mixup import beat_sync_mix, mix_pairs  # noqa: E402
from worker.encoders.offline.train.render import SAMPLE_RATE, render_clips, soundfonts  # noqa: E402
from worker.encoders.offline.train.trainer import embed_captions, evaluate, train  # noqa: E402

SINGLE_VALUED = ("tempo:", "mode:", "density:", "register:", "dynamics:")
BEATS_PER_BAR = 4


def merged_tokens(a: list[str], b: list[str]) -> list[str]:
    """Both clips play: instruments, drums and style add up; single-valued attributes survive only if shared."""
    shared = set(a) & set(b)
    out = {t for t in set(a) | set(b) if not t.startswith(SINGLE_VALUED) and t not in ("solo", "ensemble")}
    out |= {t for t in shared if t.startswith(SINGLE_VALUED)}
    families = {t for t in out if t.startswith("fam:")}
    out.add("ensemble" if len(families) > 1 or "ensemble" in set(a) | set(b) else "solo")
    if "drums:only" in out and families:
        out.discard("drums:only")
        out.add("drums:yes")
    return sorted(out)


def rerender(index: int, seed: int) -> tuple[list[np.ndarray], list[float]]:
    """The kept clips' waves and tempi of training shard `index`, exactly as `dataset.make_shard` made them."""
    pieces = dataset.split_pieces(dataset.midi_files())["train"]
    rng = np.random.default_rng([seed, index, 7, False])
    clips = dataset.make_clips("train", index, seed, pieces)
    fonts = soundfonts()
    font = fonts[0] if rng.random() < 0.75 or len(fonts) == 1 else fonts[1]
    waves = render_clips(clips, font, rng)
    keep = [i for i, w in enumerate(waves) if float(np.sqrt((w**2).mean())) > dataset.SILENT_RMS]
    return [waves[i] for i in keep], [float(clips[i].bpm) for i in keep]


def bar_grid(bpm: float, samples: int) -> list[float]:
    """Downbeats of a render that starts on a bar line: every BEATS_PER_BAR beats."""
    bar = BEATS_PER_BAR * 60.0 / bpm
    return [n * bar for n in range(int(samples / SAMPLE_RATE / bar) + 1)]


def mixed_shard(waves: list[np.ndarray], bpms: list[float], tokens: list[list[str]], rng: np.random.Generator
                ) -> dict[str, object] | None:
    mels, toks, caps = [], [], []
    for i, j in mix_pairs(bpms, rng):
        length = min(len(waves[i]), len(waves[j]))
        mix = beat_sync_mix(waves[i], bar_grid(bpms[i], len(waves[i])), waves[j], bar_grid(bpms[j], len(waves[j])),
                            sample_rate=SAMPLE_RATE, length=length, rng=rng)
        if mix is None:
            continue
        wave = np.pad(mix.wave, (0, len(waves[i]) - length))
        views = np.stack([dataset.light(wave, rng), augment(wave, rng)])
        with torch.no_grad():
            mels.append(features.log_mel(torch.from_numpy(views)).reshape(dataset.VIEWS, features.N_MELS, -1))
        merged = merged_tokens(tokens[i], tokens[j])
        toks.append(merged)
        caps.append([(text, sorted(t)) for text, t in sample_captions(set(merged), rng, dataset.CAPTIONS_PER_CLIP)])
    if not mels:
        return None
    return {"mel": torch.stack(mels).half(), "tokens": toks, "captions": caps}


def summary(report: dict) -> dict[str, float]:
    out = {}
    for view, groups in report.items():
        keys = [k for k in groups if k.startswith("group:")]
        out[f"{view} R@10"] = round(float(np.mean([groups[k]["r@10"] for k in keys])), 4)
        out[f"{view} AP"] = round(float(np.mean([groups[k]["ap"] for k in keys])), 4)
        for k in keys:
            out[f"{view} {k[6:]} AP"] = round(groups[k]["ap"], 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--eval-shards", type=int, default=4)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="trainings per variant (different init seeds)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cache = dataset.default_cache_dir()
    root = cache / f"seed{args.seed}"
    train_paths = [root / f"train-{i:05d}.pt" for i in range(args.shards)]
    eval_paths = [root / f"eval-{i:05d}.pt" for i in range(args.eval_shards)]
    missing = [p for p in train_paths + eval_paths if not p.exists()]
    if missing:
        raise SystemExit(f"missing cached shards ({missing[0]} …): run `cuesteer train-offline` first")
    base = dataset.load_shards(train_paths)
    eval_data = dataset.load_shards(eval_paths)
    rng = np.random.default_rng([args.seed, 1234])
    t0 = time.perf_counter()
    extra = []
    start = 0
    for index in range(args.shards):
        waves, bpms = rerender(index, args.seed)
        count = len(waves)
        shard = mixed_shard(waves, bpms, base["tokens"][start:start + count], rng)
        start += count
        if shard is not None:
            extra.append(shard)
    frames = min(base["mel"].shape[-1], *(s["mel"].shape[-1] for s in extra))
    mixed = {"mel": torch.cat([base["mel"][..., :frames], *(s["mel"][..., :frames] for s in extra)]),
             "tokens": base["tokens"] + [t for s in extra for t in s["tokens"]],
             "captions": base["captions"] + [c for s in extra for c in s["captions"]]}
    added = len(mixed["tokens"]) - len(base["tokens"])
    print(f"base: {len(base['tokens'])} clips from {args.shards} shards; BAM adds {added} mixed clips "
          f"({time.perf_counter() - t0:.0f} s to re-render and mix); eval {len(eval_data['tokens'])} clips")
    with tempfile.TemporaryDirectory() as tmp:
        own_cache = Path(tmp) / "captions.pt"
        shared = cache / "caption-vectors.pt"
        if shared.exists():
            own_cache.write_bytes(shared.read_bytes())  # start from the shared cache, never write to it
        texts = [text for caps in mixed["captions"] for text, _ in caps]
        text_vecs = embed_captions(texts, own_cache)
    rows = []
    for name, data in (("no mixup (peer)", base), ("BAM (tempo group, downbeats)", mixed)):
        runs = []
        for repeat in range(args.repeats):  # same data, different initial weights and batches
            torch.manual_seed(args.seed + repeat)
            model = OfflineModel(ModelConfig(tower="stats"))
            t0 = time.perf_counter()
            train(model, data, text_vecs, seed=args.seed + repeat, steps=args.steps)
            runs.append({"train_s": time.perf_counter() - t0, **summary(evaluate(model, eval_data))})
        row = {"variant": name, "clips": len(data["tokens"]),
               **{k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]},
               "light AP per run": [r["light AP"] for r in runs]}
        rows.append(row)
        print(f"{name:<30} clips {row['clips']:5d}  light R@10 {row['light R@10']:.4f} AP {row['light AP']:.4f}  "
              f"augmented R@10 {row['augmented R@10']:.4f} AP {row['augmented AP']:.4f}  (mean of {args.repeats} "
              f"trainings, {row['train_s']:.0f} s each; light AP per run {row['light AP per run']})", flush=True)
    print(json.dumps({"steps": args.steps, "shards": args.shards, "rows": rows}))


if __name__ == "__main__":
    main()
