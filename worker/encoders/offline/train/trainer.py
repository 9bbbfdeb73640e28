"""Contrastive training of the offline model: multi-positive InfoNCE (a caption is positive for every clip
whose exact attributes contain its tokens) in both directions, learned temperature, AdamW + warmup/cosine.

`train_offline_model` is the reproducible entry point behind `cuesteer train-offline-model`: data shards are
seeded and cached, the text side (frozen MiniLM) is embedded once, and a time budget is turned into a step
count after timing the first steps. The learning-rate schedule depends only on (step, total steps), so the
recorded `steps` reproduce a timed run exactly: same seed + steps → same weights.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from worker.encoders.offline.evaluate import retrieval_report
from worker.encoders.offline.model import (
    ModelConfig,
    OfflineModel,
    parameter_count,
    save_weights,
    weights_blob,
)
from worker.encoders.offline.train import dataset
from worker.encoders.offline.train.attributes import all_tokens
from worker.jobs import Job

BATCH = 96
LR = 2e-3
WEIGHT_DECAY = 1e-4
WARMUP_STEPS = 40
CALIBRATION_STEPS = 20  # steps timed to turn a time budget into a step count (≤ WARMUP_STEPS: lr is the same)
OVERRUN = 2.0  # a timed run stops anyway at this multiple of its budget (if the machine got much busier)
MIN_CROP = 156  # frames (5 s): windows shorter than the 10-s index window must still embed well
FREQ_MASK = 8
CROPS = 3  # statistics per view: the whole clip and two random crops
SHARDS_PER_MINUTE = 1.5  # data volume grows with the time budget
MAX_LOG_SCALE = math.log(100.0)
TRAIN_THREADS = 1  # small matrices: one thread is as fast, is not stalled by a busy machine, and is bit-stable


def token_matrix(token_sets: list[list[str]], vocab: dict[str, int]) -> torch.Tensor:
    m = torch.zeros(len(token_sets), len(vocab))
    for i, ts in enumerate(token_sets):
        for t in ts:
            m[i, vocab[t]] = 1.0
    return m


def multi_positive_nce(logits: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Mean over rows of −mean log-softmax at positives, text→audio (rows) and audio→text (columns)."""
    def one_side(lg: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(lg, dim=1)
        return -((logp * pos).sum(1) / pos.sum(1).clamp(min=1)).mean()

    return 0.5 * (one_side(logits, positive) + one_side(logits.T, positive.T))


def embed_captions(texts: list[str], cache: Path) -> dict[str, np.ndarray]:
    """MiniLM vectors for every caption string, cached on disk across runs."""
    from worker.encoders.offline.text import shared_sentence_encoder

    known: dict[str, np.ndarray] = torch.load(cache, weights_only=False) if cache.exists() else {}
    missing = sorted(set(texts) - set(known))
    if missing:
        vecs = shared_sentence_encoder().encode(missing)
        known.update(zip(missing, vecs, strict=True))
        dataset.save_shard(known, cache)
    return known


def train(model: OfflineModel, data: dict[str, object], text_vecs: dict[str, np.ndarray], *, seed: int,
          minutes: float | None = None, steps: int | None = None, job: Job | None = None) -> dict[str, float]:
    """Train in place until `steps` or the time budget; returns training statistics."""
    job = job or Job()
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    vocab = {t: i for i, t in enumerate(all_tokens())}
    clip_m = token_matrix(data["tokens"], vocab)
    caps = data["captions"]
    mel = data["mel"]
    n, views, _, frames = mel.shape
    stats = precompute_stats(model, mel, gen) if model.cfg.tower == "stats" else None
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    budget_s = (minutes or 0) * 60.0
    if not steps and not budget_s:
        raise ValueError("train needs steps or minutes")
    total = steps or 0  # 0: decided after CALIBRATION_STEPS
    t0 = time.monotonic()
    step, losses, truncated = 0, [], False
    model.train()
    while not total or step < total:
        idx = torch.randperm(n, generator=gen)[:BATCH]
        if stats is not None:
            variant = torch.randint(0, stats.shape[1], (len(idx),), generator=gen)
            a = model.audio.forward_stats(stats[idx, variant])
        else:
            view = torch.randint(0, views, (len(idx),), generator=gen)
            crop = int(torch.randint(min(MIN_CROP, frames), frames + 1, (1,), generator=gen))
            start = int(torch.randint(0, frames - crop + 1, (1,), generator=gen))
            x = mel[idx, view, :, start:start + crop].float()
            f0 = int(torch.randint(0, x.shape[1] - FREQ_MASK, (1,), generator=gen))
            if torch.rand(1, generator=gen) < 0.5:
                x[:, f0:f0 + FREQ_MASK] = x.mean()
            a = model.audio(x)
        pick = [caps[int(i)][int(torch.randint(len(caps[int(i)]), (1,), generator=gen))] for i in idx]
        t = torch.from_numpy(np.stack([text_vecs[text] for text, _ in pick]))
        pos = (token_matrix([tk for _, tk in pick], vocab) @ clip_m[idx].T
               >= token_matrix([tk for _, tk in pick], vocab).sum(1, keepdim=True)).float()
        e = model.text(t)
        logits = model.log_scale.clamp(max=MAX_LOG_SCALE).exp() * e @ a.T
        loss = multi_positive_nce(logits, pos)
        lr = learning_rate(step, total)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        elapsed = time.monotonic() - t0
        if not total and step == CALIBRATION_STEPS:
            total = max(WARMUP_STEPS + 1, int(budget_s / (elapsed / step)))
        if step % 20 == 0:
            job.checkpoint()
            job.progress("train", step / max(total, step), f"step {step}/{total} loss {np.mean(losses[-20:]):.3f}")
        if not steps and elapsed >= OVERRUN * budget_s:
            truncated = True
            break
    model.eval()
    return {"steps": step, "seconds": time.monotonic() - t0, "final_loss": float(np.mean(losses[-50:])),
            "first_loss": float(np.mean(losses[:20])), "temperature": float(1.0 / model.log_scale.detach().exp()),
            "truncated": truncated}


def learning_rate(step: int, total: int) -> float:
    """Linear warmup, then cosine decay to zero at `total` (unused while total is 0: only during warmup)."""
    if step < WARMUP_STEPS or not total:
        return LR * (step + 1) / WARMUP_STEPS
    return LR * 0.5 * (1 + math.cos(math.pi * (step - WARMUP_STEPS) / max(total - WARMUP_STEPS, 1)))


@torch.no_grad()
def precompute_stats(model: OfflineModel, mel: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(n, views * CROPS, stats dim) statistics of each view, whole and at random crops; fits the
    tower's normaliser. Training then only runs the MLPs (minutes on a busy CPU)."""
    n, views, _, frames = mel.shape
    out = []
    for v in range(views):
        for c in range(CROPS):
            crop = frames if c == 0 else int(torch.randint(min(MIN_CROP, frames), frames + 1, (1,), generator=gen))
            start = int(torch.randint(0, frames - crop + 1, (1,), generator=gen))
            out.append(torch.cat([model.audio.statistics(mel[i:i + 256, v, :, start:start + crop].float())
                                  for i in range(0, n, 256)]))
    stats = torch.stack(out, dim=1)
    model.audio.fit_normaliser(stats.reshape(-1, stats.shape[-1]))
    return stats


@torch.no_grad()
def embed_mels(model: OfflineModel, mel: torch.Tensor, batch: int = 64) -> np.ndarray:
    model.eval()
    return torch.cat([model.audio(mel[i:i + batch].float()) for i in range(0, len(mel), batch)]).numpy()


def evaluate(model: OfflineModel, data: dict[str, object]) -> dict[str, dict[str, dict[str, float]]]:
    """Held-out retrieval per attribute, on the lightly and the fully augmented view."""
    from worker.encoders.offline.text import shared_sentence_encoder

    sentence = shared_sentence_encoder()

    def embed_text(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return model.text(torch.from_numpy(sentence.encode(texts))).numpy()

    return {name: retrieval_report(embed_mels(model, data["mel"][:, v]), data["tokens"], embed_text)
            for v, name in enumerate(("light", "augmented"))}


def train_offline_model(out_dir: Path | str, *, seed: int = 0, minutes: float | None = 10.0,
                        steps: int | None = None, job: Job | None = None, train_shards: int | None = None,
                        eval_shards: int = 4, cache_dir: Path | None = None, tower: str = "stats",
                        threads: int = TRAIN_THREADS) -> Path:
    """Build (or reuse) the seeded data, train, evaluate; write `offline.pt` + `metrics.json` to out_dir.

    With `steps` the run is exactly reproducible; with only `minutes` the step count is chosen after timing
    and recorded in the metadata (pass it back as `steps` to reproduce the weights)."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train_offline_model(Path(out_dir), seed, minutes, steps, job or Job(), train_shards, eval_shards,
                                    cache_dir, tower, threads)
    finally:
        torch.set_num_threads(previous_threads)


def _train_offline_model(out: Path, seed: int, minutes: float | None, steps: int | None, job: Job,
                         train_shards: int | None, eval_shards: int, cache_dir: Path | None, tower: str,
                         threads: int) -> Path:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cache = cache_dir or dataset.default_cache_dir()
    n_train = train_shards or max(4, int((minutes or 10.0) * SHARDS_PER_MINUTE))
    build_t0 = time.monotonic()

    def progress(stage: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            job.checkpoint()
            job.progress(stage, done / total, f"{done}/{total} shards")

        return report

    eval_paths = dataset.build(cache, "eval", eval_shards, seed, progress=progress("render eval"))
    train_paths = dataset.build(cache, "train", n_train, seed, progress=progress("render train"))
    build_s = time.monotonic() - build_t0
    train_data = dataset.load_shards(train_paths)
    eval_data = dataset.load_shards(eval_paths)
    job.progress("captions", 0.0, "embedding captions with MiniLM")
    texts = [text for caps in train_data["captions"] for text, _ in caps]
    text_vecs = embed_captions(texts, cache / "caption-vectors.pt")
    torch.manual_seed(seed)  # the initial weights are part of what the seed reproduces
    model = OfflineModel(ModelConfig(tower=tower))
    stats = train(model, train_data, text_vecs, seed=seed, minutes=None if steps else minutes, steps=steps,
                  job=job)
    job.progress("evaluate", 0.0, "held-out retrieval")
    report = evaluate(model, eval_data)
    meta = {"tag": f"offline-{tower}-s{seed}-n{len(train_data['tokens'])}-st{stats['steps']}", "seed": seed,
            "tower": tower, "train_shards": n_train, "eval_shards": eval_shards,
            "train_clips": len(train_data["tokens"]), "eval_clips": len(eval_data["tokens"]),
            "train_sources": len(set(train_data["sources"])), "eval_sources": len(set(eval_data["sources"])),
            "render_seconds": build_s, "params": parameter_count(model), "threads": threads,
            "torch": str(torch.__version__), **stats}
    return write_outputs(model, meta, report, out)


def write_outputs(model: OfflineModel, meta: dict[str, object], report: dict[str, object], out: Path) -> Path:
    """offline.pt and metrics.json, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "offline.pt"
    save_weights(weights_blob(model, meta), path)
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps({"meta": meta, "eval": report}, indent=1))
    os.replace(tmp, out / "metrics.json")
    return path
