"""Every allocator against the independent plain-NumPy Monte Carlo (ata_jax.numpy_reference).

The two implementations share no code and no random numbers, so their per-seed totals are
independent samples of the same distribution when both are right. Each comparison is a
two-sample z-test: |mean_jax − mean_numpy| ≤ Z·√(var_jax/S + var_numpy/S). With Z = 4.5 the
chance that any of the ~30 comparisons fails by accident is about 30 × 7e-6 ≈ 2e-4.
"""

import math

import numpy as np
import pytest

from ata_jax import numpy_reference
from ata_jax.simulate import simulate
from ata_jax.timemodels import from_workers

Z = 4.5
SEEDS = 160
ROUNDS = 60
BUDGET = 4


def mixed_model(num_workers):
    """All five random families, with irregular scales so that no two ℓ-optimal allocations
    tie (the oracle's tie-break is an implementation choice, not part of the spec)."""
    workers = []
    for i in range(1, num_workers + 1):
        scale = 29.0 * (i + 0.37 * math.sqrt(i))
        workers.append([
            dict(family="exponential", shift=scale, mean=scale),
            dict(family="uniform", low=scale, high=3.0 * scale),
            dict(family="half-normal", shift=scale, scale=scale),
            dict(family="lognormal", shift=scale, log_mean=math.log(scale), log_std=0.5,
                 upper=4.0 * scale),
            dict(family="gamma", shift=scale, shape=2.0, scale=scale / 2.0),
        ][(i - 1) % 5])
    return from_workers(workers)


MODEL = mixed_model(10)  # ψ1 finite


def assert_same_distribution(jax_values, numpy_values, label):
    bound = Z * math.sqrt(jax_values.var(ddof=1) / jax_values.size
                          + numpy_values.var(ddof=1) / numpy_values.size)
    difference = abs(jax_values.mean() - numpy_values.mean())
    assert difference <= bound + 1e-6 * abs(numpy_values.mean()), (
        f"{label}: jax {jax_values.mean():.6g} vs numpy {numpy_values.mean():.6g} "
        f"(allowed {bound:.3g})")


# an allocation for ofta-expected to play (not the proxy optimum, so its regret is not 0);
# that a*_E is the expected-time optimum is tested in test_allocators_beyond
EXPECTED_OPTIMUM = np.array([2, 1, 0, 1, 0, 0, 0, 0, 0, 0])
# the §9 allocators' settings: ν and m away from their defaults, so both are really passed
SETTINGS = dict(spread=0.5, explore_samples=3)


@pytest.mark.parametrize("policy,counting", [
    ("ata", "task"), ("ata-empirical", "task"), ("ata-empirical", "round"),
    ("gta", "task"), ("uta", "task"), ("ofta", "task"), ("thompson", "task"),
    ("thompson", "round"), ("explore-commit", "task"), ("explore-commit", "round"),
    ("msync", "task"), ("ofta-expected", "task")])
def test_policy_matches_numpy_reference(policy, counting):
    budget = 13 if policy == "msync" else BUDGET  # B > n: each worker starts 2 tasks
    result = simulate(MODEL, (policy,), budget=budget, num_rounds=ROUNDS, num_seeds=SEEDS,
                      seed=11, counting=counting, expected_optimum=EXPECTED_OPTIMUM,
                      **SETTINGS)[policy]
    reference = numpy_reference.simulate(
        np.asarray(MODEL.family), np.asarray(MODEL.params), policy, budget, ROUNDS, SEEDS,
        seed=12, alpha=MODEL.alpha, eta=MODEL.eta, counting=counting,
        expected_optimum=EXPECTED_OPTIMUM, **SETTINGS)
    np.testing.assert_allclose(numpy_reference.worker_means(MODEL.family, MODEL.params),
                               MODEL.mean, rtol=1e-10)
    for metric in ("runtime", "worker_time", "regret"):
        if policy in ("gta", "msync") and metric == "regret":
            assert np.isnan(result.regret).all() and np.isnan(reference["regret"]).all()
            continue
        if policy == "ofta" and metric == "regret":
            np.testing.assert_allclose(result.regret, 0.0, atol=1e-3)
            np.testing.assert_allclose(reference["regret"], 0.0, atol=1e-9)
            continue
        assert_same_distribution(getattr(result, metric), reference[metric],
                                 f"{policy}/{counting}/{metric}")


def test_the_reference_explores_then_commits_and_refuses_a_missing_optimum():
    """The reference's own explore-commit: round-robin while any worker has fewer than m
    samples, then the allocation on the frozen means (constant times: nothing random)."""
    family = np.zeros(3, np.int64)
    params = np.zeros((3, 4))
    params[:, 0] = [1.0, 2.0, 4.0]
    result = numpy_reference.simulate(family, params, "explore-commit", 2, 5, 1,
                                      explore_samples=2)
    # rounds 1-3 round-robin (tasks 0,1 | 2,0 | 1,2: every worker 2 samples), then the
    # proxy optimum of the exact means, (2, 0, 0) with round time 2, twice
    assert result["round_time_mean"].tolist() == [2.0, 4.0, 4.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="expected_optimum"):
        numpy_reference.simulate(family, params, "ofta-expected", 2, 5, 1)
