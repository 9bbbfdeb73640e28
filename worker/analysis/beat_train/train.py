"""Train the beat/downbeat network on rendered shards: weighted BCE on targets widened ±1 frame, random crops
stretched in time, AdamW with a cosine schedule, a wall-clock budget, a chosen number of torch threads. Seeded."""

from __future__ import annotations

import math
import time

import numpy as np

from worker.analysis.beat_model import BEAT, DOWNBEAT, BeatNetConfig, build_network, parameter_count, time_stretched

CROP_FRAMES = 1500  # 15 s per training example
BATCH = 8
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4
POS_WEIGHT = (4.0, 12.0)  # beat, downbeat: beats are ~3 % of frames, downbeats ~1 %
NEIGHBOUR_TARGET = 0.5  # frames next to a beat count as half a beat (timing is only ±1 frame exact)
VALID_EVERY = 200  # steps
GRAD_CLIP = 1.0
# each crop is also stretched in time by a random factor in this range (log-uniform), features and beats alike:
# the network never sees the same crop twice, and sees every piece at the tempi its hearings use (STRETCHES)
CROP_STRETCH = (0.8, 1.25)


def targets(frames: int, beats: np.ndarray, downbeats: np.ndarray) -> np.ndarray:
    """(frames, 2) float32 targets: 1 at each beat's nearest frame, NEIGHBOUR_TARGET beside it."""
    out = np.zeros((frames, 2), np.float32)
    for channel, times in ((BEAT, beats), (DOWNBEAT, downbeats)):
        idx = np.round(np.asarray(times)).astype(int)
        idx = idx[(idx >= 0) & (idx < frames)]
        for side in (-1, 1):
            near = np.clip(idx + side, 0, frames - 1)
            out[near, channel] = np.maximum(out[near, channel], NEIGHBOUR_TARGET)
        out[idx, channel] = 1.0
    return out


def crop_batch(items: list, rng: np.random.Generator, size: int = BATCH, crop: int = CROP_FRAMES,
               stretch: tuple[float, float] = CROP_STRETCH):
    """(features, targets) arrays of `size` random crops, each time-stretched by a random factor within `stretch`
    (excerpts shorter than a crop are zero-padded)."""
    feats, targs = [], []
    for i in rng.integers(len(items), size=size):
        f, b, d = items[int(i)]
        factor = float(np.exp(rng.uniform(*np.log(stretch))))
        source = int(np.ceil(crop / factor))
        start = int(rng.integers(0, max(len(f) - source, 0) + 1))
        f = time_stretched(f[start : start + source].astype(np.float32), factor)[:crop]
        t = targets(len(f), (np.asarray(b) - start) * factor, (np.asarray(d) - start) * factor)
        pad = crop - len(f)
        feats.append(np.pad(f, ((0, pad), (0, 0))))
        targs.append(np.pad(t, ((0, pad), (0, 0))))
    return np.stack(feats), np.stack(targs)


def evaluate(network, items: list) -> float:
    """Mean weighted BCE over whole validation excerpts (eval mode)."""
    import torch

    network.eval()
    losses = []
    with torch.inference_mode():
        for f, b, d in items:
            logits = network(torch.from_numpy(f.astype(np.float32))[None])[0]
            losses.append(float(_loss(logits, torch.from_numpy(targets(len(f), b, d)))))
    network.train()
    return float(np.mean(losses))


def _loss(logits, target):
    import torch

    weight = torch.tensor(POS_WEIGHT, dtype=logits.dtype)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)


def train(train_items: list, valid_items: list, *, seed: int, minutes: float, config: BeatNetConfig | None = None,
          max_steps: int | None = None, on_best=None, log=print):
    """The trained network (the state with the lowest validation loss) and a dict of training facts."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    network = build_network(config or BeatNetConfig())
    optimiser = torch.optim.AdamW(network.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    budget = minutes * 60.0
    started = time.perf_counter()
    best, best_state, step, history = math.inf, None, 0, []
    log(f"{parameter_count(network)} parameters, {len(train_items)} training / {len(valid_items)} validation excerpts")
    while True:
        elapsed = time.perf_counter() - started
        if elapsed >= budget or (max_steps is not None and step >= max_steps):
            break
        progress = elapsed / budget if max_steps is None else step / max_steps
        for group in optimiser.param_groups:
            group["lr"] = LEARNING_RATE * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        feats, targs = crop_batch(train_items, rng)
        loss = _loss(network(torch.from_numpy(feats)), torch.from_numpy(targs))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), GRAD_CLIP)
        optimiser.step()
        step += 1
        if step % VALID_EVERY == 0:
            train_loss = loss.item()
            valid = evaluate(network, valid_items) if valid_items else train_loss
            history.append((step, round(time.perf_counter() - started), train_loss, valid))
            log(f"step {step} {time.perf_counter() - started:6.0f} s train {train_loss:.4f} valid {valid:.4f}")
            if valid < best:
                best, best_state = valid, {k: v.clone() for k, v in network.state_dict().items()}
                if on_best is not None:  # e.g. a checkpoint to try decoders on while training goes on
                    on_best(network, {"step": step, "valid": valid})
    if valid_items and step % VALID_EVERY:
        valid = evaluate(network, valid_items)
        if valid < best:
            best, best_state = valid, None
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    facts = {"steps": step, "seconds": round(time.perf_counter() - started), "best_valid_loss": best,
             "history": history, "parameters": parameter_count(network), "seed": seed}
    return network, facts
