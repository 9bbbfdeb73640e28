import math

import numpy as np
import pytest

from worker.prior.metrics import (
    fmd,
    frechet_distance_from_stats,
    label_entropy_at_k,
    mean_recall_at_k,
    miscs,
    recall_at_k,
    triplet_accuracy,
)


def test_fmd_one_dimension_by_hand():
    # G = {-1, 1}: mean 0, unbiased variance 2.  R = {2, 4, 6}: mean 4, variance 4.
    # (0-4)² + 2 + 4 - 2·√(2·4) = 16 + 6 - 2·√8
    generated = np.array([[-1.0], [1.0]])
    real = np.array([[2.0], [4.0], [6.0]])
    assert fmd(generated, real) == pytest.approx(22.0 - 2.0 * math.sqrt(8.0))


def test_fmd_diagonal_gaussians_by_hand():
    # Σ_G = diag(1, 4), Σ_R = diag(9, 1): tr = 5 + 10 − 2(√9 + √4) = 5; mean difference (3, 4) adds 25.
    value = frechet_distance_from_stats(np.array([0.0, 0.0]), np.diag([1.0, 4.0]),
                                        np.array([3.0, 4.0]), np.diag([9.0, 1.0]))
    assert value == pytest.approx(30.0)


def test_fmd_is_zero_for_the_same_set_and_symmetric():
    x = np.random.default_rng(0).normal(size=(200, 6))
    y = np.random.default_rng(1).normal(size=(300, 6)) * 1.5 + 0.3
    assert fmd(x, x) == pytest.approx(0.0, abs=1e-8)
    assert fmd(x, y) == pytest.approx(fmd(y, x), rel=1e-6)
    assert fmd(x, y) > 1.0


def test_miscs_by_hand_and_rescales_to_unit_norm():
    # pairs: ⟨e1, e1·2⟩ → 1, ⟨e1, e2⟩ → 0, ⟨e1·2, e2⟩ → 0: mean 1/3
    samples = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert miscs(samples) == pytest.approx(1.0 / 3.0)
    opposite = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert miscs(opposite) == pytest.approx(-1.0)


def test_miscs_matches_the_pairwise_definition():
    x = np.random.default_rng(2).normal(size=(7, 5))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [unit[i] @ unit[j] for i in range(7) for j in range(i)]
    assert miscs(x) == pytest.approx(np.mean(pairs))


def test_recall_at_k_by_hand():
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "d", "z"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, {"b", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert mean_recall_at_k([ranked, ["z"]], [{"a"}, {"a"}], 1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        recall_at_k(ranked, set(), 3)


def test_triplet_accuracy_by_hand():
    pred = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    pos = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    neg = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    # 1 ≥ 0 yes; 0 ≥ 1 no; 1 ≥ 1 yes (ties count)
    assert triplet_accuracy(pred, pos, neg) == pytest.approx(2 / 3)


def test_label_entropy_at_k_by_hand():
    assert label_entropy_at_k(["rock"] * 4, 4) == 0.0
    assert label_entropy_at_k(["rock", "jazz", "rock", "jazz", "pop"], 4) == pytest.approx(math.log(2))
    # p = (1/2, 1/4, 1/4): entropy 1.5 bits
    assert label_entropy_at_k(["a", "a", "b", "c"], 4, base=2) == pytest.approx(1.5)
