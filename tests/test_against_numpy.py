"""Every allocator against the independent plain-NumPy Monte Carlo (ata_jax.numpy_reference).

The two implementations share no code and no random numbers, so their per-seed totals are
independent samples of the same distribution when both are right. Each comparison is a
two-sample z-test: |mean_jax − mean_numpy| ≤ Z·√(var_jax/S + var_numpy/S). With Z = 4.5 the
chance that any of the ~15 comparisons fails by accident is about 15 × 7e-6 ≈ 1e-4.
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


@pytest.mark.parametrize("policy,counting", [
    ("ata", "task"), ("ata-empirical", "task"), ("ata-empirical", "round"),
    ("gta", "task"), ("uta", "task"), ("ofta", "task")])
def test_policy_matches_numpy_reference(policy, counting):
    result = simulate(MODEL, (policy,), budget=BUDGET, num_rounds=ROUNDS, num_seeds=SEEDS,
                      seed=11, counting=counting)[policy]
    reference = numpy_reference.simulate(
        np.asarray(MODEL.family), np.asarray(MODEL.params), policy, BUDGET, ROUNDS, SEEDS,
        seed=12, alpha=MODEL.alpha, eta=MODEL.eta, counting=counting)
    np.testing.assert_allclose(numpy_reference.worker_means(MODEL.family, MODEL.params),
                               MODEL.mean, rtol=1e-10)
    for metric in ("runtime", "worker_time", "regret"):
        if policy == "gta" and metric == "regret":
            assert np.isnan(result.regret).all() and np.isnan(reference["regret"]).all()
            continue
        if policy == "ofta" and metric == "regret":
            np.testing.assert_allclose(result.regret, 0.0, atol=1e-3)
            np.testing.assert_allclose(reference["regret"], 0.0, atol=1e-9)
            continue
        assert_same_distribution(getattr(result, metric), reference[metric],
                                 f"{policy}/{counting}/{metric}")
