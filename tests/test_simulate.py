"""The simulation: the spec's per-round values, closed forms, determinism, common random numbers."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from scipy import integrate, stats

from ata_jax import allocate
from ata_jax.allocators import Hyperparameters
from ata_jax.simulate import seed_keys, simulate, simulate_seeds
from ata_jax.summation import compensated_add, compensated_value, compensated_zeros
from ata_jax.timemodels import cifar, from_workers

ROUNDS = 200
SEEDS = 16


@pytest.fixture(scope="module")
def cifar_baselines():
    """GTA, UTA and OFTA on the spec's CIFAR model (n = 51, B = 23): per-seed totals."""
    return simulate(cifar(51), ("gta", "uta", "ofta"), budget=23, num_rounds=ROUNDS,
                    num_seeds=SEEDS, seed=1)


@pytest.mark.parametrize("policy,round_time,worker_time", [
    ("gta", 494.0, 25.2e3), ("ofta", 784.0, 4.0e3), ("uta", 4.75e3, 34.7e3)])
def test_spec_per_round_values_within_three_percent(cifar_baselines, policy, round_time,
                                                     worker_time):
    result = cifar_baselines[policy]
    assert result.runtime.mean() / ROUNDS == pytest.approx(round_time, rel=0.03)
    assert result.worker_time.mean() / ROUNDS == pytest.approx(worker_time, rel=0.03)


def test_ofta_round_time_matches_numerical_integration(cifar_baselines):
    """E[max_i T_i] with T_i = a_i·29i + Gamma(a_i, 29i), by ∫(1 − Π_i F_i(t)) dt."""
    model = cifar(51)
    allocation = np.asarray(allocate(model.mean, 23))
    loaded = np.flatnonzero(allocation)
    scale = 29.0 * (loaded + 1)
    shift = allocation[loaded] * scale

    def survival(t):
        return 1.0 - np.prod(stats.gamma.cdf(t - shift, allocation[loaded], scale=scale))

    expected = shift.max() + integrate.quad(survival, shift.max(), np.inf, limit=200)[0]
    per_seed = cifar_baselines["ofta"].runtime / ROUNDS
    standard_error = per_seed.std(ddof=1) / math.sqrt(per_seed.size)
    assert abs(per_seed.mean() - expected) < 5 * standard_error
    # worker time is exactly Σ a_i μ_i in expectation
    expected_work = float((allocation * model.mean).sum())
    per_seed_work = cifar_baselines["ofta"].worker_time / ROUNDS
    assert abs(per_seed_work.mean() - expected_work) < (
        5 * per_seed_work.std(ddof=1) / math.sqrt(per_seed_work.size))


def test_ofta_has_zero_regret_and_gta_none(cifar_baselines):
    np.testing.assert_allclose(cifar_baselines["ofta"].regret, 0.0, atol=1e-3)
    assert np.isnan(cifar_baselines["gta"].regret).all()
    assert cifar_baselines["gta"].summary()["regret"] is None
    assert (cifar_baselines["uta"].regret > 0).all()


SMALL = from_workers([dict(family="exponential", shift=10.0 * i, mean=10.0 * i)
                      for i in range(1, 9)])


def per_round(policy, keys, model=SMALL, budget=5, rounds=40, alpha=1.0, eta=1.0):
    summary = simulate_seeds(keys, model, Hyperparameters(jnp.float32(alpha), jnp.float32(eta)),
                             policy_name=policy, budget=budget, num_rounds=rounds,
                             record_rounds=True)
    return jax.tree.map(np.asarray, summary)


def test_same_master_seed_same_numbers_and_seeds_independent_of_batch_size():
    first = per_round("ata-empirical", seed_keys(5, 6))
    again = per_round("ata-empirical", seed_keys(5, 6))
    fewer = per_round("ata-empirical", seed_keys(5, 3))
    np.testing.assert_array_equal(first.per_round.round_time, again.per_round.round_time)
    np.testing.assert_array_equal(first.totals.runtime, again.totals.runtime)
    np.testing.assert_array_equal(first.per_round.round_time[:3], fewer.per_round.round_time)
    np.testing.assert_array_equal(first.totals.regret[:3], fewer.totals.regret)
    other = per_round("ata-empirical", seed_keys(6, 3))
    assert not np.array_equal(other.per_round.round_time, fewer.per_round.round_time)


@pytest.mark.slow
def test_common_random_numbers_across_policies():
    keys = seed_keys(0, 8)
    # With α (or η) so large that every bound is 0, ATA and ATA-Empirical spread B by the
    # zero rule with the policy key: exactly UTA's choice, hence, on the same task draws,
    # exactly UTA's round times.
    uta = per_round("uta", keys)
    np.testing.assert_array_equal(per_round("ata", keys, alpha=1e30).per_round.round_time, uta.per_round.round_time)
    np.testing.assert_array_equal(per_round("ata-empirical", keys, eta=1e30).per_round.round_time,
                                  uta.per_round.round_time)
    # GTA's race finishes the tasks of any allocation no later than that allocation does,
    # since worker i's u-th task takes the same time in both: pathwise, GTA ≤ every policy.
    gta = per_round("gta", keys)
    for policy in ("uta", "ofta", "ata", "ata-empirical"):
        assert (gta.per_round.round_time <= per_round(policy, keys).per_round.round_time + 1e-4).all(), policy


def test_totals_equal_the_recorded_rounds():
    result = per_round("ata", seed_keys(2, 4), rounds=300)
    np.testing.assert_allclose(result.totals.runtime, result.per_round.round_time.astype(np.float64).sum(1),
                               rtol=1e-6)


def test_compensated_totals_do_not_drift_over_1e8_tasks():
    # 10⁸ tasks at B = 23 is 4.35M rounds; per-round times of the CIFAR model's magnitude.
    rounds = 100_000_000 // 23
    values = jax.random.uniform(jax.random.key(0), (rounds,), minval=400.0, maxval=5000.0)

    @jax.jit
    def totals(v):
        compensated, _ = lax.scan(lambda c, x: (compensated_add(c, x), None),
                                  compensated_zeros(), v)
        naive, _ = lax.scan(lambda c, x: (c + x, None), jnp.float32(0), v)
        return compensated_value(compensated), naive

    compensated, naive = totals(values)
    exact = np.asarray(values, np.float64).sum()
    assert abs(float(compensated) - exact) / exact < 1e-6
    assert abs(float(naive) - exact) / exact > 1e-5  # what the compensation is for


def test_record_rounds_gives_k_means_and_learners_improve():
    results = simulate(SMALL, ("ata-empirical", "uta", "ofta"), budget=5, num_rounds=400,
                       num_seeds=8, record_rounds=True)
    curve = results["ata-empirical"].round_time_mean
    assert curve.shape == (400,)
    # explores first, then moves from UTA's level towards the oracle's
    late = curve[-100:].mean()
    assert curve[:20].mean() > late
    assert results["ofta"].round_time_mean.mean() < late < results["uta"].round_time_mean.mean()


def test_per_round_record_sums_to_the_totals():
    results = simulate(SMALL, ("ata", "gta"), budget=5, num_rounds=60, num_seeds=3,
                       record_rounds=True)
    ata, gta = results["ata"].per_round, results["gta"].per_round
    assert ata.round_time.shape == ata.worker_time.shape == ata.regret.shape == (3, 60)
    np.testing.assert_allclose(ata.round_time.sum(axis=1), results["ata"].runtime, rtol=1e-5)
    np.testing.assert_allclose(ata.worker_time.sum(axis=1), results["ata"].worker_time,
                               rtol=1e-5)
    np.testing.assert_allclose(ata.regret.sum(axis=1), results["ata"].regret, rtol=1e-4,
                               atol=1e-3)
    assert (ata.regret >= -1e-3).all() and (ata.worker_time >= ata.round_time).all()
    assert np.isnan(gta.regret).all()
    np.testing.assert_allclose(gta.round_time.sum(axis=1), results["gta"].runtime, rtol=1e-5)


@pytest.mark.slow
def test_a_right_prior_starts_near_the_oracle_and_a_wrong_one_is_corrected():
    model = cifar(9)
    right = simulate(model, ("ata-empirical", "ofta", "uta"), budget=4, num_rounds=300,
                     num_seeds=8, record_rounds=True, prior_mean=np.asarray(model.mean),
                     prior_count=200.0)
    cold = simulate(model, ("ata-empirical",), budget=4, num_rounds=300, num_seeds=8,
                    record_rounds=True)["ata-empirical"]
    wrong = simulate(model, ("ata-empirical",), budget=4, num_rounds=300, num_seeds=8,
                     record_rounds=True, prior_mean=np.asarray(model.mean)[::-1],
                     prior_count=5.0)["ata-empirical"]
    oracle = right["ofta"].round_time_mean[:50].mean()
    # confident, right estimates: OFTA's rounds from the start; no prior: exploration first
    assert right["ata-empirical"].round_time_mean[:50].mean() < 1.2 * oracle
    assert cold.round_time_mean[:50].mean() > 1.5 * oracle
    # reversed estimates (fast workers look slow) cost at the start, then exploration fixes it
    assert wrong.round_time_mean[:20].mean() > cold.round_time_mean[-50:].mean()
    assert wrong.round_time_mean[-50:].mean() < 1.1 * cold.round_time_mean[-50:].mean()


def test_prior_must_be_one_estimate_per_worker():
    with pytest.raises(ValueError, match="prior_mean must be one number or 9 numbers"):
        simulate(cifar(9), ("ata",), budget=4, num_rounds=3, num_seeds=1, prior_mean=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        simulate(cifar(9), ("ata",), budget=4, num_rounds=3, num_seeds=1, prior_mean=-1.0)
