"""Text→audio retrieval metrics per attribute: one query phrase per attribute value, relevance = the clip has
that exact attribute. Recall@10 is the share of the relevant clips a top-10 could hold that it does hold
(hits / min(10, #relevant)); AP is average precision over the full ranking."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from worker.encoders.offline.train.attributes import all_tokens, token_words

K = 10
GROUPS = {"fam:": "instrument family", "drums:": "drums", "tempo:": "tempo band", "mode:": "mode",
          "solo": "solo/ensemble", "ensemble": "solo/ensemble", "density:": "density",
          "register:": "register", "dynamics:": "dynamics", "style:": "style"}
MIN_RELEVANT = 3  # attribute values with fewer relevant clips are skipped (AP on 1–2 items is noise)


def group_of(token: str) -> str:
    return next(name for prefix, name in GROUPS.items() if token.startswith(prefix))


def query_phrase(token: str) -> str:
    """The canonical query for an attribute value: its first (plainest) phrasing."""
    return token_words(token)[0]


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    rel = relevant[order]
    hits = np.cumsum(rel)
    precision = hits / np.arange(1, len(rel) + 1)
    return float((precision * rel).sum() / max(rel.sum(), 1))


def recall_at_k(scores: np.ndarray, relevant: np.ndarray, k: int = K) -> float:
    top = np.argsort(-scores, kind="stable")[:k]
    return float(relevant[top].sum() / max(min(k, int(relevant.sum())), 1))


def evaluated_tokens(clip_tokens: Sequence[Sequence[str]]) -> list[str]:
    """Attribute values with at least MIN_RELEVANT clips, in vocabulary order."""
    return [t for t in all_tokens() if sum(t in ct for ct in clip_tokens) >= MIN_RELEVANT]


def retrieval_report(audio: np.ndarray, clip_tokens: Sequence[Sequence[str]],
                     embed_text: Callable[[list[str]], np.ndarray]) -> dict[str, dict[str, float]]:
    """Per attribute value and per group: R@10, AP, #relevant (and group means)."""
    tokens = evaluated_tokens(clip_tokens)
    if not tokens:
        return {}
    queries = embed_text([query_phrase(t) for t in tokens])
    return report_from_scores(dict(zip(tokens, queries @ audio.T, strict=True)), clip_tokens)


def report_from_scores(scores: dict[str, np.ndarray], clip_tokens: Sequence[Sequence[str]]
                       ) -> dict[str, dict[str, float]]:
    """The report for given query scores per attribute value (row: one score per clip)."""
    per_token: dict[str, dict[str, float]] = {}
    for token, row in scores.items():
        relevant = np.array([token in ct for ct in clip_tokens], dtype=float)
        per_token[token] = {"r@10": recall_at_k(row, relevant), "ap": average_precision(row, relevant),
                            "n": float(relevant.sum()), "prior": float(relevant.mean())}
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for token, m in per_token.items():
        groups[group_of(token)].append(m)
    report = {f"group:{g}": {"r@10": float(np.mean([m["r@10"] for m in ms])),
                             "ap": float(np.mean([m["ap"] for m in ms])),
                             "prior": float(np.mean([m["prior"] for m in ms])), "values": float(len(ms))}
              for g, ms in groups.items()}
    report.update(per_token)
    return report
