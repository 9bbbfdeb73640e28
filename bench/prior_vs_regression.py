"""Diff4Steer prior vs regression vs query-kNN on a synthetic one-to-many task in 512-d (paper Tables 1–3).

Each condition (an "image" query) maps to a mixture of several modes of a concept; the ground truth is the one
library item the query was paired with. Prints Recall@10/100, FMD, MISCS, triplet accuracy and label
entropy@10 for: query-kNN (the concept's text embedding), the regression baseline (same network, no noise),
true conditional samples (an upper bound no model can beat), and the prior over a sweep of CFG strength ω and
text-steering strength k, with the fast default sampler and with the paper's 256 Euler–Maruyama steps.

Part (b), `--part b`: the labelled corpus. MIDI renders with exact attribute labels (the offline model's cached
shards), embedded with the offline model; condition = the text embedding of a caption (one-to-many: "fast piano"
fits many clips), target = the clip's audio embedding. Prior and regression train on the training shards' pairs
with the product's conditional recipe; the library is the held-out renders (source pieces never trained on);
a result is relevant when the clip holds every attribute of the caption. Same metrics and sweep as part (a).

    python bench/prior_vs_regression.py                # trains (cached in $TMPDIR/cuesteer-bench-prior)
    python bench/prior_vs_regression.py --quick        # a smoke run: tiny training, few queries
    python bench/prior_vs_regression.py --part b --threads 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.jobs import Job  # noqa: E402
from worker.prior.checkpoint import (  # noqa: E402
    PriorCheckpoint,
    build_model,
    data_fingerprint,
    load_checkpoint,
    save_checkpoint,
)
from worker.prior.evaluation import build_index, evaluate  # noqa: E402
from worker.prior.guidance import STEER_MAX_SIGMA  # noqa: E402
from worker.prior.schedules import PAPER_STEPS  # noqa: E402
from worker.prior.seeds import DEFAULT_SAMPLER, DEFAULT_STEPS, generate_seeds, regress  # noqa: E402
from worker.prior.synthetic import OneToManyTask, one_to_many_task  # noqa: E402
from worker.prior.training import train_prior, train_regression  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "cuesteer-bench-prior"
TASK = {"dim": 512, "concepts": 128, "distractor_concepts": 384, "items_per_concept": 24, "seed": 0}
TRAIN_STEPS = 4000
TRAIN_BATCH = 256
SEEDS_PER_QUERY = 16
QUERIES = 384
CHUNK_ROWS = 1024  # rows per sampler call
OMEGAS = (-1.0, 0.0, 1.0, 3.0, 9.0)
STRENGTHS = (0.03, 0.1, 0.3)
SLERP_RATIO = 0.55
CORPUS_QUERIES = 256
CORPUS_MIN_RELEVANT = 3  # a caption must fit at least this many held-out clips (one-to-many)
COLUMNS = ("recall@10", "recall@100", "fmd", "miscs", "triplet_acc", "entropy@10")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_printer(label: str) -> Job:
    last = [-1]

    def report(stage: str, fraction: float, message: str) -> None:
        tenth = int(fraction * 10)
        if tenth != last[0]:
            last[0] = tenth
            log(f"  {label}: {message}")

    return Job(progress_fn=report)


def trained(task: OneToManyTask, kind: str, *, width: int, depth: int, steps: int, cache: Path
            ) -> PriorCheckpoint:
    """Train once per (kind, width, depth, steps, data); later runs (and prior_latency.py) load the file."""
    return trained_on(task.library[task.train_items], task.train_conditions, kind, width=width, depth=depth,
                      steps=steps, cache=cache)


def trained_on(vectors: np.ndarray, conditions: np.ndarray, kind: str, *, width: int, depth: int, steps: int,
               cache: Path) -> PriorCheckpoint:
    tag = data_fingerprint(vectors, conditions)[:12]
    path = cache / f"{kind}-w{width}-d{depth}-s{steps}-{tag}.pt"
    if path.exists():
        return load_checkpoint(path)
    log(f"training {kind} (width {width}, depth {depth}, {steps} steps) → {path}")
    started = time.perf_counter()
    train = train_regression if kind.endswith("regression") else train_prior
    checkpoint = train(vectors, conditions, steps=steps, batch=TRAIN_BATCH, seed=0, width=width, depth=depth,
                       job=progress_printer(kind))
    checkpoint.info["train_seconds"] = round(time.perf_counter() - started, 1)
    save_checkpoint(checkpoint, path)
    return checkpoint


def prior_seed_sets(model: torch.nn.Module, task: OneToManyTask, queries: np.ndarray, *, omega: float,
                    strength: float = 0.0, sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
                    slerp_ratio: float = 0.0, seeds_per_query: int = SEEDS_PER_QUERY,
                    steer_max_sigma: float = STEER_MAX_SIGMA) -> list[np.ndarray]:
    """seeds_per_query unit seeds for each test query; seed ids depend only on the query's position."""
    texts = task.concept_texts[task.item_concept[task.test_items[queries]]]
    return seed_sets(model, task.test_conditions[queries], texts, omega=omega, strength=strength, sampler=sampler,
                     steps=steps, slerp_ratio=slerp_ratio, seeds_per_query=seeds_per_query,
                     steer_max_sigma=steer_max_sigma)


def seed_sets(model: torch.nn.Module, conditions: np.ndarray, texts: np.ndarray, *, omega: float,
              strength: float = 0.0, sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
              slerp_ratio: float = 0.0, seeds_per_query: int = SEEDS_PER_QUERY,
              steer_max_sigma: float = STEER_MAX_SIGMA) -> list[np.ndarray]:
    """Per query (row of `conditions`) its seeds, steered toward its text embedding (row of `texts`) by `strength`
    and/or spherically interpolated toward it by `slerp_ratio`; many queries share each sampler call."""
    rows = np.repeat(np.arange(len(conditions)), seeds_per_query)
    texts = np.asarray(texts)[rows]
    out = []
    for start in range(0, len(rows), CHUNK_ROWS):
        part = slice(start, start + CHUNK_ROWS)
        out.append(generate_seeds(
            model, list(range(start, start + len(rows[part]))), condition=conditions[rows[part]],
            omega=omega, directions=texts[part, None, :] if strength else None,
            strengths=np.full((len(rows[part]), 1), strength) if strength else None, sampler=sampler,
            steps=steps, slerp_target=texts[part] if slerp_ratio else None, slerp_ratio=slerp_ratio,
            steer_max_sigma=steer_max_sigma))
    return list(np.concatenate(out).reshape(len(conditions), seeds_per_query, -1))


def subset(task: OneToManyTask, queries: np.ndarray) -> OneToManyTask:
    from dataclasses import replace

    return replace(task, test_items=task.test_items[queries], test_conditions=task.test_conditions[queries])


def timed(label: str, make: Callable[[], list[np.ndarray]], task: OneToManyTask, index, rows: list) -> dict:
    started = time.perf_counter()
    seeds = make()
    seconds = time.perf_counter() - started
    metrics = evaluate(task, seeds, index)
    rows.append({"method": label, **metrics, "sample_s": round(seconds, 1)})
    log(f"{label:44s} " + "  ".join(f"{k} {metrics[k]:.3f}" for k in COLUMNS) + f"  ({seconds:.0f} s)")
    return metrics


@dataclass
class Corpus:
    """Part (b): MIDI renders with exact attribute labels, embedded with the offline model."""

    train_vectors: np.ndarray  # (n, d) audio embeddings of training clips (both views), one row per caption
    train_conditions: np.ndarray  # (n, d) the caption's text embedding (the offline model's joint space)
    library: np.ndarray  # (m, d) held-out clips, light view, through OfflineEncoder.embed_audio
    labels: list[str]  # instrument families of each library clip (for label entropy)
    query_texts: list[str]
    query_conditions: np.ndarray  # (q, d)
    relevant: list[set[int]]  # library rows holding every attribute of the caption
    positives: np.ndarray  # the held-out clip each caption was written for
    negatives: np.ndarray  # a library row not relevant to the caption
    version: str


def _caption_vectors(texts: list[str], encoder) -> np.ndarray:
    """Caption texts in the offline model's space: MiniLM vectors from the training cache where present."""
    from worker.encoders.offline.text import shared_sentence_encoder
    from worker.encoders.offline.train import dataset

    cached_file = dataset.default_cache_dir() / "caption-vectors.pt"
    known = torch.load(cached_file, weights_only=False) if cached_file.exists() else {}
    missing = sorted(set(texts) - set(known))
    if missing:
        known = {**known, **dict(zip(missing, shared_sentence_encoder().encode(missing), strict=True))}
    sentence = torch.from_numpy(np.stack([np.asarray(known[t], np.float32) for t in texts]))
    with torch.no_grad():
        out = encoder.model.text(sentence).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _clip_vectors(encoder, mel: torch.Tensor) -> np.ndarray:
    """Audio embeddings from stored log-mels (B, M, T): the stats tower the product runs on waves."""
    with torch.no_grad():
        return torch.cat([encoder.model.audio(mel[i:i + 512].float()) for i in range(0, len(mel), 512)]).numpy()


def load_corpus(seed: int, queries: int, min_relevant: int = CORPUS_MIN_RELEVANT) -> Corpus:
    """Training pairs from the offline model's cached training shards, the library and its caption queries from
    its held-out shards (source pieces never seen in training)."""
    from worker.encoders.offline.encoder import OfflineEncoder
    from worker.encoders.offline.train import dataset

    root = dataset.default_cache_dir() / f"seed{seed}"
    train_paths, eval_paths = sorted(root.glob("train-*.pt")), sorted(root.glob("eval-*.pt"))
    if not train_paths or not eval_paths:
        raise SystemExit(f"no cached shards in {root}: `cuesteer train-offline-model --seed {seed}` renders the "
                         "training shards and `python bench/offline_model_eval.py` the held-out ones")
    encoder = OfflineEncoder()
    train = dataset.load_shards(train_paths)
    log(f"corpus: {len(train['tokens'])} training clips ({len(train_paths)} shards), embedding both views")
    views = [_clip_vectors(encoder, train["mel"][:, v]) for v in range(train["mel"].shape[1])]
    captions = [[text for text, _ in clip] for clip in train["captions"]]
    texts = sorted({t for clip in captions for t in clip})
    text_vectors = dict(zip(texts, _caption_vectors(texts, encoder), strict=True))
    rows, conditions = [], []
    for clip, clip_captions in enumerate(captions):
        for view in views:
            for text in clip_captions:
                rows.append(view[clip])
                conditions.append(text_vectors[text])

    held = dataset.load_shards(eval_paths)
    audio = held["audio"].float().numpy()[0::dataset.VIEWS] / 32767.0  # the light view
    library = encoder.embed_audio(list(audio))
    tokens = [set(t) for t in held["tokens"]]
    labels = ["+".join(sorted(t for t in clip if t.startswith("fam:"))) or "none" for clip in tokens]
    by_text: dict[str, tuple[set[str], int]] = {}
    for clip, clip_captions in enumerate(held["captions"]):
        for text, caption_tokens in clip_captions:
            by_text.setdefault(text, (set(caption_tokens), clip))
    rng = np.random.default_rng(seed)
    candidates = []
    for text in sorted(by_text):
        wanted, source = by_text[text]
        relevant = {i for i, clip in enumerate(tokens) if wanted <= clip}
        if min_relevant <= len(relevant) < len(tokens) // 2:  # one-to-many, yet not half the library
            candidates.append((text, relevant, source))
    picked = [candidates[i] for i in sorted(rng.permutation(len(candidates))[:queries])]
    negatives = np.array([rng.choice(sorted(set(range(len(tokens))) - rel)) for _, rel, _ in picked])
    query_texts = [t for t, _, _ in picked]
    log(f"corpus: library {len(library)} held-out clips ({len(eval_paths)} shards), {len(picked)} of "
        f"{len(candidates)} captions with {min_relevant}+ relevant clips, {len(rows)} training pairs")
    return Corpus(train_vectors=np.stack(rows).astype(np.float32),
                  train_conditions=np.stack(conditions).astype(np.float32), library=library, labels=labels,
                  query_texts=query_texts, query_conditions=_caption_vectors(query_texts, encoder),
                  relevant=[r for _, r, _ in picked], positives=np.array([s for _, _, s in picked]),
                  negatives=negatives, version=encoder.version)


def corpus_rows(args: argparse.Namespace) -> tuple[list[dict], str]:
    """Part (b): prior vs regression vs query-kNN on caption → held-out clip retrieval with exact labels."""
    from worker.prior.evaluation import evaluate_relevant
    from worker.retrieval.conditional import REGRESSION_STEPS
    from worker.retrieval.conditional import TRAIN_STEPS as CONDITIONAL_STEPS
    from worker.retrieval.priors import TRAIN_DEPTH, TRAIN_WIDTH

    corpus = load_corpus(args.corpus_seed, args.queries)
    width, depth = args.width or TRAIN_WIDTH, args.depth or TRAIN_DEPTH
    prior_steps = args.train_steps or CONDITIONAL_STEPS
    regression_steps = args.train_steps or REGRESSION_STEPS
    prior = build_model(trained_on(corpus.train_vectors, corpus.train_conditions, "corpus-prior", width=width,
                                   depth=depth, steps=prior_steps, cache=args.cache))
    regression = build_model(trained_on(corpus.train_vectors, corpus.train_conditions, "corpus-regression",
                                        width=width, depth=depth, steps=regression_steps, cache=args.cache))
    index = build_index(corpus.library)
    rows: list[dict] = []
    q = corpus.query_conditions

    def row(label: str, make: Callable[[], list[np.ndarray]]) -> None:
        started = time.perf_counter()
        seeds = make()
        seconds = time.perf_counter() - started
        metrics = evaluate_relevant(corpus.library, seeds, corpus.relevant, corpus.positives, corpus.negatives,
                                    corpus.labels, index)
        rows.append({"method": label, **metrics, "sample_s": round(seconds, 1)})
        log(f"{label:44s} " + "  ".join(f"{k} {metrics[k]:.3f}" for k in COLUMNS) + f"  ({seconds:.0f} s)")

    row("query-kNN (caption text embedding)", lambda: list(q[:, None]))
    row("regression (same net, no noise)", lambda: list(regress(regression, q)[:, None]))
    fast = f"{DEFAULT_SAMPLER}/{DEFAULT_STEPS}"
    by_omega = {}
    for omega in OMEGAS:
        row(f"prior ω={omega:g} [{fast}]", lambda omega=omega: seed_sets(prior, q, q, omega=omega))
        by_omega[omega] = rows[-1]
    best = max((o for o in OMEGAS if o >= 0), key=lambda o: by_omega[o]["recall@10"])
    for strength in STRENGTHS:
        row(f"prior ω={best:g} + text k={strength:g} [{fast}]",
            lambda s=strength: seed_sets(prior, q, q, omega=best, strength=s))
    for strength in STRENGTHS:
        row(f"unconditional + text k={strength:g} [{fast}]",
            lambda s=strength: seed_sets(prior, q, q, omega=-1.0, strength=s))
    if not args.no_em:
        row(f"prior ω={best:g} [euler_maruyama/{PAPER_STEPS}] (paper)",
            lambda: seed_sets(prior, q, q, omega=best, sampler="euler_maruyama", steps=PAPER_STEPS))
    title = (f"prior vs regression, labelled corpus (offline model {corpus.version}; library {len(corpus.library)} "
             f"held-out renders, {len(corpus.query_texts)} caption queries × {SEEDS_PER_QUERY} seeds, relevant = "
             f"clips holding all the caption's attributes, mean {np.mean([len(r) for r in corpus.relevant]):.1f}; "
             f"{len(corpus.train_vectors)} training pairs; network {depth}×{width}, prior {prior_steps} / regression "
             f"{regression_steps} training steps; torch threads {torch.get_num_threads()})")
    return rows, title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("a", "b"), default="a",
                        help="a: synthetic one-to-many task; b: labelled corpus of MIDI renders (offline model)")
    parser.add_argument("--width", type=int, help="a: 256; b: the product's conditional prior width")
    parser.add_argument("--depth", type=int, help="a: 6; b: the product's conditional prior depth")
    parser.add_argument("--train-steps", type=int,
                        help=f"a: {TRAIN_STEPS}; b: the product's (conditional prior 1000, regression 600)")
    parser.add_argument("--queries", type=int, help=f"test queries evaluated (a: {QUERIES}, b: {CORPUS_QUERIES})")
    parser.add_argument("--corpus-seed", type=int, default=0, help="b: data seed of the offline model's shards")
    parser.add_argument("--no-em", action="store_true", help="skip the slow 256-step Euler–Maruyama rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 training steps, 64 queries")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--threads", type=int,
                        help="torch threads (1 is much faster than 2 on a machine other jobs keep busy)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.train_steps, args.queries = 200, 64
    log(f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}")
    if args.part == "b":
        args.queries = args.queries or CORPUS_QUERIES
        rows, title = corpus_rows(args)
        print_rows(rows, title, args.json)
        return 0
    args.width, args.depth = args.width or 256, args.depth or 6
    args.train_steps, args.queries = args.train_steps or TRAIN_STEPS, args.queries or QUERIES
    full = one_to_many_task(**TASK)
    queries = np.random.default_rng(1).permutation(len(full.test_items))[:args.queries]
    task = subset(full, queries)
    positions = np.arange(len(queries))
    index = build_index(task.library)
    log(f"task: library {task.library.shape}, {len(full.train_items)} training pairs, "
        f"{len(queries)} test queries × {SEEDS_PER_QUERY} seeds")

    prior = build_model(trained(full, "prior", width=args.width, depth=args.depth, steps=args.train_steps,
                                cache=args.cache))
    regression = build_model(trained(full, "regression", width=args.width, depth=args.depth,
                                     steps=args.train_steps, cache=args.cache))
    rows: list[dict] = []
    concepts = task.item_concept[task.test_items]
    timed("query-kNN (concept text)", lambda: [t[None] for t in task.concept_texts[concepts]],
          task, index, rows)
    timed("regression (same net, no noise)", lambda: list(regress(regression, task.test_conditions)[:, None]),
          task, index, rows)
    rng = np.random.default_rng(2)
    timed("true conditional samples (upper bound)",
          lambda: [task.sample_items(int(c), SEEDS_PER_QUERY, rng) for c in concepts], task, index, rows)

    fast = f"{DEFAULT_SAMPLER}/{DEFAULT_STEPS}"
    by_omega = {}
    for omega in OMEGAS:
        by_omega[omega] = timed(f"prior ω={omega:g} [{fast}]",
                                lambda omega=omega: prior_seed_sets(prior, task, positions, omega=omega),
                                task, index, rows)
    best = max((o for o in OMEGAS if o >= 0), key=lambda o: by_omega[o]["recall@10"])
    for strength in STRENGTHS:
        timed(f"prior ω={best:g} + text k={strength:g} [{fast}]",
              lambda s=strength: prior_seed_sets(prior, task, positions, omega=best, strength=s),
              task, index, rows)
    for strength in STRENGTHS:
        timed(f"unconditional + text k={strength:g} [{fast}]",
              lambda s=strength: prior_seed_sets(prior, task, positions, omega=-1.0, strength=s),
              task, index, rows)
    timed(f"prior ω={best:g} + slerp {SLERP_RATIO} to text [{fast}]",
          lambda: prior_seed_sets(prior, task, positions, omega=best, slerp_ratio=SLERP_RATIO),
          task, index, rows)
    if not args.no_em:
        timed(f"prior ω={best:g} [euler_maruyama/{PAPER_STEPS}] (paper)",
              lambda: prior_seed_sets(prior, task, positions, omega=best, sampler="euler_maruyama",
                                      steps=PAPER_STEPS), task, index, rows)

    print_rows(rows, f"prior vs regression, synthetic one-to-many task ({task.library.shape[0]} items, 512-d, "
                     f"{len(queries)} queries × {SEEDS_PER_QUERY} seeds; network {args.depth}×{args.width}, "
                     f"{args.train_steps} training steps; torch threads {torch.get_num_threads()})", args.json)
    return 0


def print_rows(rows: list[dict], title: str, json_path: Path | None) -> None:
    print(f"\n{title}")
    print(f"{'method':52s} " + " ".join(f"{c:>11s}" for c in COLUMNS))
    for row in rows:
        print(f"{row['method']:52s} " + " ".join(f"{row[c]:11.3f}" for c in COLUMNS))
    if json_path:
        json_path.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
