"""Unit tests of the plain-NumPy reference simulator (closed forms, brute force, exact cases)."""

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

from ata_jax import numpy_reference as ref


def mixed_model():
    """One worker of each family (two lognormals: truncated and not): (family, params)."""
    family = np.array([0, 1, 2, 3, 4, 4, 5])
    params = np.array([
        [3.0, 0.0, 0.0, 0.0],            # constant 3
        [1.0, 2.0, 0.0, 0.0],            # 1 + Exp(mean 2)
        [2.0, 5.0, 0.0, 0.0],            # Uniform(2, 5)
        [0.5, 1.5, 0.0, 0.0],            # 0.5 + 1.5|Z|
        [1.0, 0.2, 0.8, 2.0],            # 1 + LogNormal(0.2, 0.8) given ≤ 2
        [0.0, -0.3, 0.5, np.inf],        # LogNormal(−0.3, 0.5)
        [0.2, 2.5, 0.4, 0.0],            # 0.2 + Gamma(2.5, 0.4)
    ])
    return family, params


def constant_model(values):
    values = np.asarray(values, dtype=np.float64)
    params = np.zeros((values.size, 4))
    params[:, 0] = values
    return np.zeros(values.size, dtype=np.int64), params


def brute_force_loss(scores, budget):
    """min over all a ∈ ℕⁿ with Σa = B of max_i a_i·s_i, by enumeration."""
    best = math.inf
    for allocation in itertools.product(range(budget + 1), repeat=len(scores)):
        if sum(allocation) == budget:
            best = min(best, max(a * s for a, s in zip(allocation, scores)))
    return best


def test_worker_means_match_monte_carlo():
    family, params = mixed_model()
    draws = ref.draw_task_times(np.random.default_rng(1), family, params, 200_000)
    assert draws.shape == (200_000, family.size)
    means = ref.worker_means(family, params)
    standard_error = draws.std(axis=0) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - means) <= 5 * standard_error + 1e-12)
    assert means[0] == 3.0 and means[1] == 3.0 and means[2] == 3.5
    assert means[6] == pytest.approx(0.2 + 2.5 * 0.4)
    assert means[5] == pytest.approx(math.exp(-0.3 + 0.125))


def test_truncated_lognormal_draws_follow_the_exact_distribution():
    family = np.array([4])
    params = np.array([[0.0, 0.2, 0.8, 2.0]])
    draws = ref.draw_task_times(np.random.default_rng(2), family, params, 20_000)[:, 0]
    assert draws.max() <= 2.0
    bound = (math.log(2.0) - 0.2) / 0.8
    exact_cdf = lambda y: special.ndtr((np.log(y) - 0.2) / 0.8) / special.ndtr(bound)
    assert stats.kstest(draws, exact_cdf).pvalue > 1e-3


def test_draw_times_for_workers_follows_the_index():
    family, params = constant_model([1.0, 2.0, 7.0])
    index = np.array([[2, 0], [1, 1]])
    times = ref.draw_times_for_workers(np.random.default_rng(0), family, params, index)
    np.testing.assert_array_equal(times, [[7.0, 1.0], [2.0, 2.0]])


def test_cifar_oracle_allocation():
    family, params = ref.cifar_model(51)
    means = ref.worker_means(family, params)
    np.testing.assert_array_equal(means, 58.0 * np.arange(1, 52))
    allocation = ref.allocate(means, 23)
    assert allocation.shape == (1, 51)
    np.testing.assert_array_equal(allocation[0, :10], [9, 4, 3, 2, 1, 1, 1, 1, 1, 0])
    assert allocation.sum() == 23 and allocation[0, 10:].sum() == 0
    assert ref.proxy_loss(allocation, means)[0] == 522.0


@pytest.mark.parametrize("num_workers", [1, 2, 3, 4])
def test_allocation_is_optimal_against_brute_force(num_workers):
    rng = np.random.default_rng(num_workers)
    # Continuous scores, and small integers that force ties between multiples.
    scores = np.concatenate([rng.uniform(0.1, 3.0, (20, num_workers)),
                             rng.integers(1, 4, (20, num_workers)).astype(np.float64)])
    for budget in range(1, 7):
        allocation = ref.allocate(scores, budget)
        assert allocation.dtype == np.int64 and np.all(allocation >= 0)
        assert np.all(allocation.sum(axis=1) == budget)
        losses = ref.proxy_loss(allocation, scores)
        expected = [brute_force_loss(row, budget) for row in scores]
        np.testing.assert_allclose(losses, expected, rtol=1e-12)


def test_allocation_matches_sequential_water_filling_at_scale():
    rng = np.random.default_rng(5)
    scores = rng.uniform(1.0, 100.0, (50, 459))
    scores[:, :40] = np.round(scores[:, :40])           # many exact ties among the best
    budget = 23
    allocation = ref.allocate(scores, budget)
    for row, counts in zip(scores, allocation):
        sequential = np.zeros(row.size)
        for _ in range(budget):                        # give one task to argmin (a_i + 1)s_i
            sequential[np.argmin((sequential + 1) * row)] += 1
        assert counts.sum() == budget
        assert np.max(counts * row) == np.max(sequential * row)


def test_zero_scores_spread_evenly_lowest_indices_without_rng():
    scores = np.array([[0.0, 5.0, 0.0, 0.0, 1.0],
                       [2.0, 0.0, 3.0, 4.0, 5.0],
                       [1.0, 2.0, 3.0, 4.0, 5.0]])
    allocation = ref.allocate(scores, 8)
    np.testing.assert_array_equal(allocation[0], [3, 0, 3, 2, 0])   # 8 = 3·2 + 2 extras
    np.testing.assert_array_equal(allocation[1], [0, 8, 0, 0, 0])
    assert ref.proxy_loss(allocation[2], scores[2]) == brute_force_loss(scores[2], 8)


def test_zero_score_remainder_is_uniform_over_the_zero_set():
    num_seeds = 20_000
    scores = np.tile([0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0], (num_seeds, 1))   # |Z| = 5
    allocation = ref.allocate(scores, 7, np.random.default_rng(3))           # 1 each + 2
    zero_set = scores[0] == 0
    assert np.all(allocation[:, ~zero_set] == 0)
    assert np.all(allocation.sum(axis=1) == 7)
    assert set(np.unique(allocation[:, zero_set])) == {1, 2}
    extra_rate = (allocation[:, zero_set] == 2).mean(axis=0)
    standard_error = math.sqrt(0.4 * 0.6 / num_seeds)
    assert np.all(np.abs(extra_rate - 0.4) < 5 * standard_error)


def test_allocate_rejects_bad_input():
    with pytest.raises(ValueError):
        ref.allocate(np.array([[1.0, -1.0]]), 2)
    with pytest.raises(ValueError):
        ref.allocate(np.array([[1.0, np.nan]]), 2)
    with pytest.raises(ValueError):
        ref.allocate(np.array([[1.0, np.inf]]), 2)
    with pytest.raises(ValueError):
        ref.allocate(np.array([[1.0, 2.0]]), 0)


def test_uta_with_budget_one_averages_the_worker_means():
    family, params = ref.cifar_model(5)
    result = ref.simulate(family, params, "uta", 1, 4, 20_000, seed=4)
    round_time = result["runtime"] / 4
    mean_of_means = ref.worker_means(family, params).mean()
    assert abs(round_time.mean() - mean_of_means) < 5 * round_time.std() / math.sqrt(20_000)
    np.testing.assert_array_equal(result["worker_time"], result["runtime"])
    assert result["round_time_mean"].shape == (4,)


def test_uta_loads_distinct_workers():
    family, params = constant_model(2.0 ** np.arange(8))     # sums identify the worker sets
    result = ref.simulate(family, params, "uta", 3, 1, 5_000, seed=5)
    used = result["worker_time"].astype(np.int64)
    assert np.all(np.array([bin(value).count("1") for value in used]) == 3)


def test_ofta_on_constant_times_is_exact():
    values = [1.0, 2.0, 2.5, 4.0, 9.0]
    family, params = constant_model(values)
    oracle = ref.allocate(np.array(values), 6)
    result = ref.simulate(family, params, "ofta", 6, 10, 3)
    np.testing.assert_allclose(result["round_time_mean"], ref.proxy_loss(oracle, values)[0])
    np.testing.assert_allclose(result["worker_time"], 10 * (oracle[0] * values).sum())
    np.testing.assert_array_equal(result["regret"], 0.0)


def test_ofta_worker_time_on_mixed_families_is_the_allocated_mean_work():
    family, params = mixed_model()
    means = ref.worker_means(family, params)
    oracle = ref.allocate(means, 9)[0]
    result = ref.simulate(family, params, "ofta", 9, 5, 8_000, seed=12)
    per_round = result["worker_time"] / 5
    assert abs(per_round.mean() - oracle @ means) < 5 * per_round.std() / math.sqrt(8_000)
    assert np.all(result["runtime"] <= result["worker_time"])


def test_gta_on_constant_times_is_water_filling():
    values = np.array([3.0, 5.0, 7.0, 11.0, 13.0, 40.0])
    family, params = constant_model(values)
    for budget in (1, 4, 9):
        result = ref.simulate(family, params, "gta", budget, 3, 2)
        best = ref.proxy_loss(ref.allocate(values, budget), values)[0]
        np.testing.assert_allclose(result["round_time_mean"], best)
        np.testing.assert_allclose(result["worker_time"], values.size * 3 * best)
        assert np.all(np.isnan(result["regret"]))


def test_gta_on_exponential_times_is_a_poisson_arrival():
    # Pure exponential workers: completions form a Poisson process of rate Σ 1/m_i, so the
    # round ends at a Gamma(B, Σ 1/m_i) time with mean B / Σ 1/m_i.
    task_means = np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0])
    family = np.ones(task_means.size, dtype=np.int64)
    params = np.zeros((task_means.size, 4))
    params[:, 1] = task_means
    budget, num_seeds = 6, 40_000
    round_time = ref.greedy_round_time(np.random.default_rng(6), family, params, num_seeds,
                                       budget)
    rate = (1.0 / task_means).sum()
    assert abs(round_time.mean() - budget / rate) < 5 * math.sqrt(budget) / rate / math.sqrt(
        num_seeds)
    assert abs(round_time.var() - budget / rate**2) < 0.05 * budget / rate**2


def test_gta_agrees_with_a_brute_force_round_on_mixed_families():
    # Brute force: every worker draws B tasks, the B-th smallest cumulative time ends it.
    family, params = mixed_model()
    budget, num_seeds = 5, 20_000
    tasks = ref.draw_task_times(np.random.default_rng(10), family, params, (num_seeds, budget))
    completions = np.cumsum(tasks, axis=1).reshape(num_seeds, -1)
    brute = np.partition(completions, budget - 1, axis=1)[:, budget - 1]
    fast = ref.greedy_round_time(np.random.default_rng(11), family, params, num_seeds, budget)
    assert stats.ks_2samp(brute, fast).pvalue > 1e-3


@pytest.mark.parametrize("policy, knob", [("ata", {"alpha": 0.0}),
                                          ("ata-empirical", {"eta": 0.0})])
@pytest.mark.parametrize("counting", ["task", "round"])
def test_ata_without_confidence_width_learns_constant_times_after_exploring(policy, knob,
                                                                             counting):
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    family, params = constant_model(values)
    best = ref.proxy_loss(ref.allocate(values, 4), values)[0]
    result = ref.simulate(family, params, policy, 4, 12, 50, seed=7, counting=counting, **knob)
    # Round 1: 4 untried workers get one task each (time ≥ 4); round 2: the 2 untried get 2
    # each (time ≥ 4); from round 3 on every score is the exact mean: optimal, ℓ* = 3.
    assert best == 3.0
    assert np.all(result["round_time_mean"][:2] >= 4.0)
    np.testing.assert_allclose(result["round_time_mean"][2:], best)
    assert np.all(result["regret"] > 0)


def test_ata_runs_between_the_oracle_and_uniform_on_cifar():
    family, params = ref.cifar_model(17)
    alpha, eta = 1.5313 * 29 * 17, 0.766
    runtime = {policy: ref.simulate(family, params, policy, 23, 300, 32, seed=8, alpha=alpha,
                                    eta=eta)["runtime"].mean()
               for policy in ("ofta", "uta", "ata", "ata-empirical")}
    for policy in ("ata", "ata-empirical"):
        assert runtime["ofta"] < runtime[policy] < runtime["uta"]


def test_simulate_is_reproducible_and_validates_its_arguments():
    family, params = ref.cifar_model(7)
    first = ref.simulate(family, params, "ata-empirical", 5, 20, 4, seed=9, eta=0.766)
    second = ref.simulate(family, params, "ata-empirical", 5, 20, 4, seed=9, eta=0.766)
    for key in ("runtime", "worker_time", "regret", "round_time_mean"):
        np.testing.assert_array_equal(first[key], second[key])
    with pytest.raises(ValueError, match="alpha"):
        ref.simulate(family, params, "ata", 5, 20, 4)
    with pytest.raises(ValueError, match="eta"):
        ref.simulate(family, params, "ata-empirical", 5, 20, 4)
    with pytest.raises(ValueError, match="policy"):
        ref.simulate(family, params, "random", 5, 20, 4)
    with pytest.raises(ValueError, match="counting"):
        ref.simulate(family, params, "uta", 5, 20, 4, counting="tasks")
    with pytest.raises(ValueError):
        ref.simulate(family[:3], params, "uta", 5, 20, 4)
