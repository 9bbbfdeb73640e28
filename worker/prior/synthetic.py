"""A synthetic one-to-many retrieval task in the shape of the paper's image→music setting (for benchmarks).

Each concept (a "genre") has several modes ("sub-styles") of unequal weight in a d-dimensional audio space;
items scatter around their mode. As in real embedding spaces, the structure lives in a low-dimensional
subspace (plus a little isotropic noise), so concepts crowd each other and the mean of a concept's modes lies
among other concepts' items: exactly where a regression to the mean retrieves from. A query (an "image")
lives in its own space: a fixed random rotation of the concept direction plus per-pair noise, so it says
which concept but not which mode. Each concept also has a "text" embedding in the audio space, offset by a
common modality gap, for query-kNN and steering. Unpaired concepts fill the library as distractors. The
ground truth of a test query is the one item it was paired with (as in MusicCaps).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

INTRINSIC_DIM = 32  # dimensions the concept/mode/item structure spans
AMBIENT_NOISE = 0.25  # norm share of isotropic full-dimensional noise in every vector
MODE_CONCEPT_COS = 0.4  # cosine between a mode centre and its concept direction
ITEM_MODE_COS = 0.8  # cosine between an item and its mode centre (within the subspace)
QUERY_COS = 0.8  # cosine between a query and its concept's direction in the query space
TEXT_COS = 0.8  # cosine between a concept's text embedding and its direction (the rest: gap + noise)
TEXT_GAP_SHARE = 0.6  # of the text's off-concept part, the share along the common modality-gap direction
MODE_WEIGHT_CONCENTRATION = 1.5  # Dirichlet α of mode weights: unequal modes, as genres are


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _mix(base: np.ndarray, other: np.ndarray, cos: float) -> np.ndarray:
    """unit(cos·base + sin·other⊥): vectors at the given cosine to the unit rows of `base`."""
    other = other - (other * base).sum(-1, keepdims=True) * base
    return _unit(cos * base + np.sqrt(1.0 - cos**2) * _unit(other))


@dataclass(frozen=True)
class OneToManyTask:
    library: np.ndarray  # (N, d) unit float32: labelled items first, then distractors
    item_concept: np.ndarray  # (N,) concept of each item (distractor concepts included)
    item_mode: np.ndarray  # (N,) global mode label, for label entropy
    train_items: np.ndarray  # library rows paired with train_conditions
    train_conditions: np.ndarray  # (n_train, d_q) unit float32 queries
    test_items: np.ndarray  # ground-truth library row of each test query
    test_conditions: np.ndarray  # (n_test, d_q)
    concept_texts: np.ndarray  # (n_concepts_total, d) unit text embeddings in the audio space
    labelled: int  # rows [0, labelled) of the library belong to paired concepts
    mode_centres: np.ndarray  # (n_modes, intrinsic) unit, in subspace coordinates
    mode_weights: np.ndarray  # (n_modes,) within-concept weights
    subspace: np.ndarray  # (intrinsic, d) orthonormal rows
    modes_per_concept: int

    def test_concepts(self) -> np.ndarray:
        return self.item_concept[self.test_items]

    def sample_items(self, concept: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Fresh draws from a concept's true distribution: what a perfect prior would return."""
        first = concept * self.modes_per_concept
        weights = self.mode_weights[first:first + self.modes_per_concept]
        modes = first + rng.choice(self.modes_per_concept, size=n, p=weights / weights.sum())
        return _items(self.mode_centres[modes], self.subspace, rng)


def _items(centres: np.ndarray, subspace: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    inner = _mix(centres, rng.normal(size=centres.shape), ITEM_MODE_COS) @ subspace
    noise = _unit(rng.normal(size=inner.shape))
    return _unit(np.sqrt(1 - AMBIENT_NOISE**2) * inner + AMBIENT_NOISE * noise)


def one_to_many_task(*, dim: int = 512, concepts: int = 64, distractor_concepts: int = 256,
                     modes_per_concept: int = 4, items_per_concept: int = 24, test_fraction: float = 0.25,
                     seed: int = 0) -> OneToManyTask:
    rng = np.random.default_rng(seed)
    total = concepts + distractor_concepts
    subspace = np.linalg.qr(rng.normal(size=(dim, INTRINSIC_DIM)))[0].T.astype(np.float32)
    concept_dirs = _unit(rng.normal(size=(total, INTRINSIC_DIM)))
    centres = _mix(np.repeat(concept_dirs, modes_per_concept, axis=0),
                   rng.normal(size=(total * modes_per_concept, INTRINSIC_DIM)), MODE_CONCEPT_COS)
    weights = rng.dirichlet(np.full(modes_per_concept, MODE_WEIGHT_CONCENTRATION), size=total).ravel()
    counts = np.maximum(2, np.round(weights * items_per_concept).astype(int))
    item_mode = np.repeat(np.arange(total * modes_per_concept), counts)
    item_concept = item_mode // modes_per_concept
    library = _items(centres[item_mode], subspace, rng)
    labelled = int(np.sum(item_concept < concepts))

    rotation = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    query_dirs = _unit(concept_dirs @ subspace @ rotation.T)

    def queries(rows: np.ndarray) -> np.ndarray:
        base = query_dirs[item_concept[rows]]
        return _mix(base, rng.normal(size=base.shape), QUERY_COS)

    gap = _unit(rng.normal(size=dim))
    off = _unit(TEXT_GAP_SHARE * gap + (1 - TEXT_GAP_SHARE) * _unit(rng.normal(size=(total, dim))))
    texts = _mix(_unit(concept_dirs @ subspace), off, TEXT_COS)

    order = rng.permutation(labelled)
    n_test = int(round(test_fraction * labelled))
    test_items, train_items = np.sort(order[:n_test]), np.sort(order[n_test:])
    return OneToManyTask(library=library, item_concept=item_concept, item_mode=item_mode,
                         train_items=train_items, train_conditions=queries(train_items),
                         test_items=test_items, test_conditions=queries(test_items), concept_texts=texts,
                         labelled=labelled, mode_centres=centres, mode_weights=weights, subspace=subspace,
                         modes_per_concept=modes_per_concept)


def with_distractors(task: OneToManyTask, total: int, *, items_per_concept: int = 24, seed: int = 1
                     ) -> OneToManyTask:
    """The task with its library grown to `total` rows by items of new unpaired concepts drawn the same way
    (benchmarks time kNN over a library of a given size; labelled rows, queries and texts are unchanged)."""
    extra = total - len(task.library)
    if extra <= 0:
        return task
    rng = np.random.default_rng(seed)
    modes = task.modes_per_concept
    concepts = -(-extra // items_per_concept)
    dirs = _unit(rng.normal(size=(concepts, INTRINSIC_DIM)))
    centres = _mix(np.repeat(dirs, modes, axis=0), rng.normal(size=(concepts * modes, INTRINSIC_DIM)),
                   MODE_CONCEPT_COS)
    item_mode = rng.integers(0, concepts * modes, size=extra)
    first_concept = int(task.item_concept.max()) + 1
    return replace(task, library=np.concatenate([task.library, _items(centres[item_mode], task.subspace, rng)]),
                   item_concept=np.concatenate([task.item_concept, first_concept + item_mode // modes]),
                   item_mode=np.concatenate([task.item_mode, first_concept * modes + item_mode]))
