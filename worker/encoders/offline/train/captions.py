"""Captions in several phrasings from a clip's exact tokens: single facts ("fast"), short combinations
("solo piano") and full sentences, each returned with the token set it asserts."""

from __future__ import annotations

import numpy as np

from worker.encoders.offline.train.attributes import token_words

ORDER = ("tempo:", "dynamics:", "density:", "mode:", "register:", "solo", "ensemble", "fam:", "drums:",
         "style:")
OPENERS = ("", "", "a ", "music with ", "a piece with ", "a track featuring ", "instrumental, ")
SENTENCE_FORMS = ("{adj} {inst}", "{inst}, {adj}", "{adj} music: {inst}", "{inst} playing {adj}")


def _sort_key(token: str) -> int:
    return next(i for i, prefix in enumerate(ORDER) if token.startswith(prefix))


def caption_for(tokens: list[str], rng: np.random.Generator) -> str:
    """Words for a token set, ordered adjectives first, with random phrasings and connective forms."""
    tokens = sorted(tokens, key=_sort_key)
    words = {t: str(rng.choice(token_words(t))) for t in tokens}
    if "solo" in words and any(t.startswith("fam:") for t in tokens) and rng.random() < 0.7:
        words["solo"] = "solo"
    adj = [words[t] for t in tokens if not t.startswith(("fam:", "drums:", "style:", "solo", "ensemble"))]
    lead = [words[t] for t in tokens if t in ("solo", "ensemble")]
    inst = [words[t] for t in tokens if t.startswith("fam:")]
    tail = [words[t] for t in tokens if t.startswith(("drums:", "style:"))]
    inst_text = _join(inst)
    if lead and inst_text:
        inst_text = f"{lead[0]} {inst_text}" if "solo" in words else f"{lead[0]} with {inst_text}"
    elif lead:
        inst_text = lead[0]
    parts_text = ", ".join(p for p in [inst_text] + tail if p)
    if adj and parts_text and rng.random() < 0.6:
        form = str(rng.choice(SENTENCE_FORMS))
        text = form.format(adj=", ".join(adj), inst=parts_text)
    else:
        text = ", ".join(adj + ([parts_text] if parts_text else []))
    if len(tokens) > 2:
        opener = str(rng.choice(OPENERS))
        text = (opener if not (opener.endswith("with ") and text.startswith("with")) else "") + text
    return text.strip()


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sample_captions(tokens: set[str], rng: np.random.Generator, n: int) -> list[tuple[str, frozenset[str]]]:
    """`n` captions of a clip: about a third single facts, a third pairs/triples, a third near-full."""
    ordered = sorted(tokens)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            k = 1
        elif kind == 1:
            k = min(len(ordered), int(rng.integers(2, 4)))
        else:
            k = max(1, len(ordered) - int(rng.integers(0, 3)))
        chosen = [str(t) for t in rng.choice(ordered, size=min(k, len(ordered)), replace=False)]
        # "solo X" reads best with its instrument; keep the pairing common
        if "solo" in chosen and not any(t.startswith("fam:") for t in chosen):
            fams = [t for t in ordered if t.startswith("fam:")]
            if fams:
                chosen.append(fams[0])
        out.append((caption_for(chosen, rng), frozenset(chosen)))
    return out
