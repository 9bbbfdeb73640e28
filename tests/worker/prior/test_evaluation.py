import numpy as np
import pytest
import torch

from worker.prior.checkpoint import build_model
from worker.prior.evaluation import build_index, evaluate, evaluate_relevant, merged_ranking, triplet_negatives
from worker.prior.guidance import Guidance
from worker.prior.seeds import generate_seeds
from worker.prior.synthetic import one_to_many_task


def test_reciprocal_rank_fusion_by_hand():
    # seed 0 ranks 7, 3, 5; seed 1 ranks 3, 9, 7.  3: 1/61 + 1/60; 7: 1/60 + 1/62; 9: 1/61; 5: 1/62
    ids = np.array([[7, 3, 5], [3, 9, 7]])
    scores = np.array([[0.9, 0.8, 0.7], [0.95, 0.6, 0.5]])
    assert merged_ranking(scores, ids, 4) == [3, 7, 9, 5]
    assert merged_ranking(scores[:1], ids[:1], 2) == [7, 3]


@pytest.fixture(scope="module")
def small_task():
    return one_to_many_task(dim=128, concepts=24, distractor_concepts=200, items_per_concept=24, seed=1)


def test_task_shapes_and_one_to_many_structure(small_task):
    task = small_task
    assert task.library.shape[1] == 128
    assert np.allclose(np.linalg.norm(task.library, axis=1), 1.0, atol=1e-5)
    assert len(task.train_items) + len(task.test_items) == task.labelled
    assert np.all(task.item_concept[task.test_items] < 24)
    assert len(np.unique(task.item_mode[task.item_concept == 0])) > 1
    negatives = triplet_negatives(task)
    assert np.all(task.item_concept[negatives] != task.test_concepts())


def test_true_conditional_samples_beat_the_conditional_mean_on_recall_and_diversity(small_task):
    """The benchmark's premise: seeds spread over the modes find more of the ground truth in the top 100 than
    their mean does, and are more diverse and more realistic (the mean is off every mode)."""
    task = small_task
    index = build_index(task.library)
    rng = np.random.default_rng(0)
    spread = [task.sample_items(int(c), 16, rng) for c in task.test_concepts()]
    means = {c: task.library[: task.labelled][task.item_concept[: task.labelled] == c].mean(0)
             for c in np.unique(task.test_concepts())}
    mean_seeds = [(means[c] / np.linalg.norm(means[c]))[None] for c in task.test_concepts()]
    prior_like, regression_like = evaluate(task, spread, index), evaluate(task, mean_seeds, index)
    assert prior_like["recall@100"] > regression_like["recall@100"] + 0.03
    assert prior_like["miscs"] < 0.5 < regression_like["miscs"] == 1.0
    assert prior_like["fmd"] < 0.2 * regression_like["fmd"]


def test_batched_queries_equal_one_call_per_query(gaussian_prior):
    """Benchmarks batch many queries per call: rows with their own steering equal separate calls."""
    model = build_model(gaussian_prior)
    dim = gaussian_prior.config.dim
    texts = np.eye(dim, dtype=np.float32)[:2]
    separate = [generate_seeds(model, [10 + i], directions=texts[i][None], strengths=[0.05], steps=5)
                for i in range(2)]
    batched = generate_seeds(model, [10, 11], directions=texts[:, None, :], strengths=np.full((2, 1), 0.05),
                             steps=5)
    np.testing.assert_allclose(batched, np.concatenate(separate), atol=1e-5)


def test_per_row_steering_vector():
    directions = torch.eye(3).reshape(3, 1, 3)
    strengths = torch.tensor([[1.0], [-1.0], [2.0]])
    assert torch.equal(Guidance(directions=directions, strengths=strengths).steering_vector(),
                       torch.diag(torch.tensor([1.0, -1.0, 2.0])))


def test_one_to_many_metrics_by_hand():
    """Library on the axes of R^4; a query whose seeds point at rows 0 and 1 with relevant {0, 1, 2}."""
    library = np.eye(4, dtype=np.float32)
    seeds = [np.array([[1, 0.1, 0, 0], [0.1, 1, 0, 0]], np.float32), np.array([[0, 0, 0, 1]], np.float32)]
    seeds = [s / np.linalg.norm(s, axis=1, keepdims=True) for s in seeds]
    result = evaluate_relevant(library, seeds, relevant=[{0, 1, 2}, {3}], positives=np.array([0, 3]),
                               negatives=np.array([3, 0]), labels=["a", "a", "b", "c"])
    # query 0 ranks all 4 rows (k > library): recall@10 = 3/3; query 1 finds row 3 first
    assert result["recall@10"] == pytest.approx(1.0)
    cos = float(seeds[0][0] @ seeds[0][1])
    assert result["miscs"] == pytest.approx((cos + 1.0) / 2)  # a single seed counts as 1
    assert result["triplet_acc"] == pytest.approx(1.0)
    # query 1 (one seed) keeps only its top 10 → all 4 rows, labels a, a, b, c: the same entropy as query 0
    entropy = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
    assert result["entropy@10"] == pytest.approx(entropy)
    with pytest.raises(ValueError):
        evaluate_relevant(library, seeds, [{0}], np.array([0]), np.array([1]), ["a"] * 4)
