import threading

import numpy as np
import pytest
import torch

from worker.jobs import Cancelled, Job
from worker.prior.checkpoint import KIND_DIFFUSION, KIND_REGRESSION, build_model
from worker.prior.precond import measure_sigma_data
from worker.prior.samplers import sample_heun
from worker.prior.schedules import sampling_sigmas
from worker.prior.seeds import generate_seeds, regress
from worker.prior.training import edm_weight, lr_factor, train_prior, train_regression

from .conftest import TRAIN_STEPS


def test_trained_denoiser_approaches_the_analytic_optimum(gaussian, gaussian_prior):
    """Excess error over the Bayes-optimal denoiser stays a few percent of the optimum's own error."""
    model = build_model(gaussian_prior)
    optimum = gaussian.optimal_denoiser()
    generator = torch.Generator().manual_seed(11)
    clean = torch.as_tensor(gaussian.samples[:2000], dtype=torch.float64)
    untrained_excess = []
    for sigma in (0.005, 0.02, 0.05, 0.2, 1.0):
        noisy = clean + sigma * torch.randn(clean.shape, generator=generator, dtype=torch.float64)
        best = optimum(noisy, sigma)
        bayes_error = ((best - clean) ** 2).sum(1).mean()
        excess = ((model(noisy.float(), torch.tensor(sigma)).double() - best) ** 2).sum(1).mean()
        assert excess < 0.05 * bayes_error, f"σ={sigma}: {float(excess / bayes_error):.3f}"
        c_skip = gaussian_prior.sigma_data**2 / (sigma**2 + gaussian_prior.sigma_data**2)
        untrained_excess.append(float(((c_skip * noisy - best) ** 2).sum(1).mean() / bayes_error))
    assert max(untrained_excess) > 0.5  # the untrained network (F = 0) is far from it: the check has teeth


def test_samples_of_the_trained_prior_match_mean_and_covariance(gaussian, gaussian_prior):
    model = build_model(gaussian_prior)
    noise = torch.randn(3000, gaussian_prior.config.dim, generator=torch.Generator().manual_seed(5))
    x = sample_heun(model, noise, sampling_sigmas(gaussian_prior.sigma_data, 24)).double().numpy()
    spread = np.sqrt(np.trace(gaussian.cov))
    assert np.linalg.norm(x.mean(0) - gaussian.mean) < 0.1 * spread
    assert np.linalg.norm(np.cov(x.T) - gaussian.cov) / np.linalg.norm(gaussian.cov) < 0.2


def test_checkpoint_records_what_it_was_trained_on(gaussian, gaussian_prior):
    assert gaussian_prior.kind == KIND_DIFFUSION
    assert gaussian_prior.sigma_data == pytest.approx(measure_sigma_data(gaussian.samples))
    assert gaussian_prior.trained_steps == TRAIN_STEPS
    assert (gaussian_prior.encoder_id, gaussian_prior.library_generation) == ("test", 3)
    assert len(gaussian_prior.data_fingerprint) == 64
    assert np.isfinite(gaussian_prior.final_loss)


def test_training_is_reproducible_from_its_seed(gaussian):
    data = gaussian.samples[:512]
    first = train_prior(data, steps=20, batch=32, seed=4, width=16, depth=1)
    again = train_prior(data, steps=20, batch=32, seed=4, width=16, depth=1)
    other = train_prior(data, steps=20, batch=32, seed=5, width=16, depth=1)
    for key, value in first.state_dict.items():
        assert torch.equal(value, again.state_dict[key])
    assert any(not torch.equal(v, other.state_dict[k]) for k, v in first.state_dict.items())


def test_progress_is_reported_and_cancel_stops_training(gaussian):
    reports = []
    cancel = threading.Event()

    def progress(stage, fraction, message):
        reports.append((stage, fraction, message))
        if len(reports) == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        train_prior(gaussian.samples[:256], steps=500, batch=16, seed=0, width=8, depth=1,
                    job=Job(progress_fn=progress, cancel_event=cancel))
    assert len(reports) == 2 and reports[0][0] == "train prior"
    assert 0.0 < reports[0][1] < reports[1][1] < 0.2


def test_lr_schedule_warms_up_then_anneals_and_weight_is_edm():
    assert lr_factor(0, 100, 10) == pytest.approx(0.1)
    assert lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert lr_factor(10, 100, 10) == pytest.approx(1.0)
    assert lr_factor(55, 100, 10) == pytest.approx(0.5)
    assert lr_factor(100, 100, 10) == pytest.approx(0.0)
    sigma = torch.tensor([0.5])
    assert float(edm_weight(sigma, 0.5)) == pytest.approx((0.25 + 0.25) / 0.0625)


def _two_mode_task(rng: np.random.Generator, per_mode: int = 400):
    """Two conditions (one-hot), each a 50/50 mixture of two tight modes: a one-to-many mapping."""
    dim = 6
    centers = np.eye(dim)[:4] * 0.8
    vectors, conditions, modes = [], [], []
    for mode, center in enumerate(centers):
        vectors.append(center + rng.normal(scale=0.05, size=(per_mode, dim)))
        conditions.append(np.tile(np.eye(2)[mode // 2], (per_mode, 1)))
        modes += [mode] * per_mode
    return np.concatenate(vectors).astype(np.float32), np.concatenate(conditions).astype(np.float32), centers


def test_conditional_prior_covers_both_modes_where_regression_averages_them():
    vectors, conditions, centers = _two_mode_task(np.random.default_rng(0))
    checkpoint = train_prior(vectors, conditions, steps=TRAIN_STEPS, batch=128, seed=0, width=64, depth=2)
    prior = build_model(checkpoint)
    samples = generate_seeds(prior, range(64), condition=np.array([1.0, 0.0]), omega=1.0, steps=12)
    nearest = np.argmax(samples @ (centers / np.linalg.norm(centers, axis=1, keepdims=True)).T, axis=1)
    share = np.bincount(nearest, minlength=4) / len(nearest)
    assert share[0] + share[1] > 0.9  # the condition's own modes
    assert min(share[0], share[1]) > 0.2  # both of them: one query, several answers
    assert np.mean(np.max(samples @ (centers / 0.8).T, axis=1)) > 0.9  # on a mode, not between

    regression_ckpt = train_regression(vectors, conditions, steps=300, batch=128, seed=0, width=32, depth=2)
    assert regression_ckpt.kind == KIND_REGRESSION
    single = regress(build_model(regression_ckpt), np.array([[1.0, 0.0]]))[0]
    between = (centers[0] + centers[1]) / np.linalg.norm(centers[0] + centers[1])
    assert single @ between > 0.95  # the regression lands between the modes, on neither
    assert max(single @ centers[0], single @ centers[1]) / 0.8 < 0.8
