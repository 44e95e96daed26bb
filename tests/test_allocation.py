"""allocate and proxy_loss against brute-force enumeration and closed-form cases."""

import itertools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from ata_jax import allocate, proxy_loss
from ata_jax.allocation import (SMALL_WORKER_COUNT, assign, assignment_counts,
                                assignment_proxy_loss)
from ata_jax.timemodels import cifar


def compositions(total, parts):
    """Every a ∈ ℕ^parts with Σa = total."""
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1,) + bars + (total + parts - 1,)
        yield [edges[k + 1] - edges[k] - 1 for k in range(parts)]


def brute_force_minimum(scores, budget):
    return min(max(a_i * s_i for a_i, s_i in zip(a, scores))
               for a in compositions(budget, len(scores)))


def random_scores(rng, batch, n):
    """Mixes continuous scores, small integers (ties) and exact zeros."""
    kind = rng.integers(0, 4, size=(batch, 1))
    continuous = rng.uniform(0.1, 10.0, size=(batch, n))
    integers = rng.integers(1, 4, size=(batch, n)).astype(float)
    scores = np.where(kind % 2 == 0, continuous, integers)
    zero_mask = (rng.uniform(size=(batch, n)) < 0.3) & (kind >= 2)
    return np.where(zero_mask, 0.0, scores).astype(np.float32)


SHAPES = [(1, 1), (1, 5), (4, 1), (2, 7), (3, 3), (3, 6), (5, 2), (5, 4), (6, 5), (8, 3), (12, 2)]


@pytest.mark.parametrize("n,budget", SHAPES)
def test_allocate_matches_brute_force(n, budget):
    rng = np.random.default_rng(n * 100 + budget)
    batch = 300
    mixed = random_scores(rng, batch, n)
    keys = jax.random.split(jax.random.key(n + budget), batch)
    with_key = jax.jit(jax.vmap(lambda s, k: allocate(s, budget, k)))(mixed, keys)
    without_key = jax.jit(jax.vmap(lambda s: allocate(s, budget)))(mixed)
    # a batch without zero scores takes the solver's water-filling-only branch
    positive = mixed[(mixed > 0).all(axis=1)]
    assert len(positive) > 50
    only_positive = jax.jit(jax.vmap(lambda s: allocate(s, budget)))(positive)
    for scores, allocation in ((mixed, with_key), (mixed, without_key),
                               (positive, only_positive)):
        allocation = np.asarray(allocation)
        assert allocation.dtype == np.int32
        np.testing.assert_array_equal(allocation.sum(axis=1), budget)
        assert (allocation >= 0).all()
        for s, a in zip(scores.astype(np.float64), allocation):
            best = brute_force_minimum(s, budget)
            assert max(a * s) == pytest.approx(best, rel=1e-6, abs=0.0)
            zeros = s == 0
            if zeros.any():
                # zero rule: only zero-score workers, spread as evenly as possible
                assert (a[~zeros] == 0).all()
                share = budget // zeros.sum()
                assert set(a[zeros]) <= {share, share + 1}


def test_allocate_without_key_gives_the_remainder_to_the_lowest_indices():
    scores = jnp.array([0.0, 1.0, 0.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(allocate(scores, 6), [2, 0, 2, 0, 1, 1])
    np.testing.assert_array_equal(allocate(jnp.zeros(5), 3), [1, 1, 1, 0, 0])


def test_zero_rule_remainder_is_a_uniform_random_subset():
    n, budget, trials = 5, 7, 4000  # each worker gets 1, two random workers get a second
    keys = jax.random.split(jax.random.key(0), trials)
    allocations = np.asarray(jax.jit(jax.vmap(lambda k: allocate(jnp.zeros(n), budget, k)))(keys))
    np.testing.assert_array_equal(allocations.sum(1), budget)
    pairs = [tuple(np.flatnonzero(a == 2)) for a in allocations]
    assert all(len(p) == 2 for p in pairs)
    probability = 1 / math.comb(n, 2)
    tolerance = 5 * math.sqrt(probability * (1 - probability) / trials)
    for pair in itertools.combinations(range(n), 2):
        assert abs(pairs.count(pair) / trials - probability) < tolerance, pair


def test_ofta_allocation_for_the_cifar_model():
    model = cifar(51)
    allocation = allocate(model.mean, 23)
    expected = [9, 4, 3, 2, 1, 1, 1, 1, 1] + [0] * 42
    np.testing.assert_array_equal(allocation, expected)
    assert float(proxy_loss(allocation, model.mean)) == pytest.approx(522.0)


@pytest.mark.parametrize("n,budget", [(1, 4), (7, 4), (20, 6), (3, 9), (5, 40), (40, 33)])
def test_assignment_is_a_downward_closed_task_list(n, budget):
    rng = np.random.default_rng(n * budget)
    batch = 64
    scores = random_scores(rng, batch, n)
    means = rng.uniform(1, 5, size=(batch, n)).astype(np.float32)
    keys = jax.random.split(jax.random.key(n), batch)

    def tasks_and_losses(s, k, mu):
        tasks = assign(s, budget, k)
        counts = assignment_counts(tasks, n)
        return tasks, counts, assignment_proxy_loss(tasks, mu), proxy_loss(counts, mu)

    tasks, counts, task_loss, count_loss = jax.jit(jax.vmap(tasks_and_losses))(scores, keys, means)
    np.testing.assert_allclose(task_loss, count_loss, rtol=1e-6)
    for workers, slots, count in zip(np.asarray(tasks.worker), np.asarray(tasks.slot),
                                     np.asarray(counts)):
        assert count.sum() == budget
        held = set(zip(workers.tolist(), slots.tolist()))
        assert len(held) == budget  # no task twice
        assert held == {(w, u) for w in range(n) for u in range(count[w])}


def grid_optimum(scores, budget):
    """Closed form: the optimal allocation of positive float32 scores[n] whose grid values
    j·s_i (j = 1..B, float32 products, as ℓ rounds them) do not tie at the level: t* is the
    B-th smallest grid value and a_i = #{j : j·s_i ≤ t*}, the unique optimum."""
    grid = np.arange(1, budget + 1, dtype=np.float32)[None, :] * scores[:, None]
    level = np.sort(grid, axis=None)[budget - 1]
    allocation = (grid <= level).sum(axis=1)
    assert allocation.sum() == budget  # no tie at t*
    return allocation


def operation_names(text):
    """The StableHLO/CHLO operations of a lowered program's text."""
    return set(re.findall(r"\b(?:stablehlo|chlo)\.[a-z_]+", text))


def test_operation_names_see_sort_and_top_k():
    """The detector the next test relies on."""
    x = jnp.ones(300)
    assert "stablehlo.sort" in operation_names(jax.jit(jnp.argsort).lower(x).as_text())
    assert "chlo.top_k" in operation_names(
        jax.jit(lambda v: lax.top_k(v, 3)).lower(x).as_text())


@pytest.mark.parametrize("n,budget", [(129, 23), (459, 23), (2000, 5)])
def test_large_n_selects_candidates_with_top_k_and_never_sorts(n, budget):
    """Above SMALL_WORKER_COUNT only the min(B, n) smallest scores can be loaded: the program
    selects them with one top_k (no sort of the n scores) and is exact."""
    assert n > SMALL_WORKER_COUNT
    scores = np.random.default_rng(n).uniform(1, 100, size=(8, n)).astype(np.float32)
    keys = jax.random.split(jax.random.key(n), 8)
    programs = {"no key": (lambda s: allocate(s, budget), scores[0]),
                "key": (lambda s, k: allocate(s, budget, k), scores[0], keys[0]),
                "batch": (jax.vmap(lambda s, k: allocate(s, budget, k)), scores, keys)}
    for name, (function, *arguments) in programs.items():
        lowered = jax.jit(function).lower(*arguments)
        operations = operation_names(lowered.as_text())
        assert "chlo.top_k" in operations and "stablehlo.sort" not in operations, name
        assert re.search(rf"chlo\.top_k\(%\w+, k = {min(budget, n)}\)", lowered.as_text()), name
        compiled = lowered.compile()
        if jax.default_backend() == "cpu":  # what XLA compiles it to: its TopK, no sort
            text = compiled.as_text()
            assert 'custom_call_target="TopK"' in text and " sort(" not in text, name
        result = np.asarray(compiled(*arguments)).reshape(-1, n)
        for s, a in zip(scores, result):
            np.testing.assert_array_equal(a, grid_optimum(s, budget), err_msg=name)


def test_up_to_small_worker_count_no_top_k_or_sort():
    """Up to SMALL_WORKER_COUNT water-filling searches every worker: no selection at all."""
    for n in (9, SMALL_WORKER_COUNT):
        operations = operation_names(jax.jit(lambda s: allocate(s, 23)).lower(
            jnp.ones(n)).as_text())
        assert not {"chlo.top_k", "stablehlo.sort"} & operations, n


@pytest.mark.parametrize("bad,message", [
    (jnp.array([1.0, -1.0]), ">= 0"),
    (jnp.array([1.0, jnp.nan]), "NaN"),
])
def test_allocate_rejects_invalid_scores(bad, message):
    with pytest.raises(ValueError, match=message):
        allocate(bad, 3)


@pytest.mark.parametrize("budget", [0, -2, 2.5, True])
def test_allocate_rejects_invalid_budget(budget):
    with pytest.raises(ValueError, match="budget"):
        allocate(jnp.ones(3), budget)


@pytest.mark.parametrize("n,budget", [(129, 23), (300, 23), (459, 7), (200, 40)])
def test_large_n_allocation_is_optimal_against_the_numpy_reference(n, budget):
    """Above SMALL_WORKER_COUNT the solver selects candidates with top_k first."""
    from ata_jax import numpy_reference

    rng = np.random.default_rng(n + budget)
    continuous = rng.uniform(1.0, 50.0, size=(30, n))
    ties = rng.integers(1, 6, size=(30, n)).astype(float)  # many equal scores
    for scores in (continuous.astype(np.float32), ties.astype(np.float32)):
        ours = np.asarray(jax.jit(jax.vmap(lambda s: allocate(s, budget)))(scores))
        reference = numpy_reference.allocate(scores.astype(np.float64), budget)
        np.testing.assert_array_equal(ours.sum(1), budget)
        np.testing.assert_allclose((ours * scores).max(1), (reference * scores).max(1),
                                   rtol=1e-6)


def test_allocate_rejects_scores_outside_the_float32_normal_range():
    with pytest.raises(ValueError, match="rescale"):
        allocate(jnp.array([1e-40, 2e-40], jnp.float32), 3)
    with pytest.raises(ValueError, match="rescale"):
        allocate(jnp.array([3e38, 3e38], jnp.float32), 3)


def test_water_level_is_exact_on_near_ties():
    """The level's cheap bisection counts with 1/s (rounded twice) before an exact finish;
    near-multiples a few ulps apart must still give the exact B-th smallest grid value."""
    rng = np.random.default_rng(7)
    budget, batch = 23, 4000
    for n in (3, 17, 51):
        base = rng.uniform(0.5, 2.0, size=(batch, 1))
        multiple = rng.integers(1, 9, size=(batch, n))
        ulps = rng.integers(-6, 7, size=(batch, n))
        scores = (base / multiple * (1.0 + ulps * 2.0**-23)).astype(np.float32)
        allocation = np.asarray(jax.jit(jax.vmap(lambda s: allocate(s, budget)))(scores))
        np.testing.assert_array_equal(allocation.sum(1), budget)
        grid = (np.arange(1, budget + 1, dtype=np.float32)[None, None, :]
                * scores[:, :, None]).reshape(batch, -1)  # float32 products, as ℓ rounds
        best = np.sort(grid, axis=1)[:, budget - 1]
        ours = (allocation.astype(np.float32) * scores).max(1)
        np.testing.assert_array_equal(ours, best)


def zero_rule_rows(rng, n, budget, zero_counts):
    """float32[len(zero_counts), n]: positive scores with zero_counts[r] zeros at random
    positions in row r (a count of 0: a row without zeros)."""
    scores = rng.uniform(1.0, 50.0, size=(len(zero_counts), n)).astype(np.float32)
    for row, count in zip(scores, zero_counts):
        row[rng.choice(n, size=count, replace=False)] = 0.0
    return scores


def assert_even_spread(scores, allocation, budget, lowest_first):
    """The zero rule: Σa = B over Z only, ⌊B/|Z|⌋ each and one more for B mod |Z| of them
    (the lowest indices of Z when lowest_first)."""
    zeros = np.flatnonzero(scores == 0)
    share, remainder = divmod(budget, len(zeros))
    assert allocation.sum() == budget
    assert (np.delete(allocation, zeros) == 0).all()  # only zero-score workers
    assert set(allocation[zeros]) <= {share, share + 1}
    assert (allocation[zeros] == share + 1).sum() == remainder
    if lowest_first:
        np.testing.assert_array_equal(allocation[zeros[:remainder]], share + 1)


@pytest.mark.parametrize("n,budget", [(129, 40), (200, 7), (459, 23), (459, 1)])
def test_zero_rule_spreads_evenly_above_small_worker_count(n, budget):
    """Above SMALL_WORKER_COUNT the zero rule builds its task list on its own (not the level
    pipeline of the small case): |Z| below, at and above B, one zero and all zeros, in a
    batch with members without zeros (which must get the closed-form optimum) and alone."""
    assert n > SMALL_WORKER_COUNT
    rng = np.random.default_rng(n * budget)
    zero_counts = sorted({1, 3, max(budget - 1, 1), budget, budget + 1, 2 * budget + 3, 100, n})
    scores = zero_rule_rows(rng, n, budget, zero_counts + [0, 0, 0])
    has_zero = (scores == 0).any(axis=1)
    keys = jax.random.split(jax.random.key(n + budget), len(scores))
    batched = {
        "no key": np.asarray(jax.jit(jax.vmap(lambda s: allocate(s, budget)))(scores)),
        "key": np.asarray(jax.jit(jax.vmap(lambda s, k: allocate(s, budget, k)))(scores, keys)),
    }
    for name, allocations in batched.items():
        for s, a in zip(scores[~has_zero], allocations[~has_zero]):
            np.testing.assert_array_equal(a, grid_optimum(s, budget), err_msg=name)
        for s, a in zip(scores[has_zero], allocations[has_zero]):
            assert_even_spread(s, a, budget, lowest_first=name == "no key")
    # alone (unbatched), a member gets what it got in the batch
    for index in (0, len(zero_counts) - 1, len(zero_counts)):
        np.testing.assert_array_equal(allocate(scores[index], budget), batched["no key"][index])
        np.testing.assert_array_equal(allocate(scores[index], budget, keys[index]),
                                      batched["key"][index])


@pytest.mark.parametrize("n,zeros,budget", [(459, 50, 23), (459, 10, 23), (200, 150, 23),
                                            (100, 70, 23), (459, 3, 40)])
def test_zero_rule_remainder_is_uniform_over_the_zero_workers(n, zeros, budget):
    """Each zero worker gets the (⌊B/|Z|⌋ + 1)-th task with probability (B mod |Z|)/|Z|:
    |Z| > B (every task to a distinct random zero worker) and |Z| < B, above and below
    SMALL_WORKER_COUNT. Each worker's count over the keys is Binomial(trials, p) when the
    draw is uniform: 5 binomial standard deviations each (a false alarm about 2e-4 over all
    283 workers)."""
    trials = 3000
    rng = np.random.default_rng(zeros)
    scores = zero_rule_rows(rng, n, budget, [zeros])[0]
    is_zero = scores == 0
    share, remainder = divmod(budget, zeros)
    keys = jax.random.split(jax.random.key(zeros * n), trials)
    allocations = np.asarray(jax.jit(jax.vmap(lambda k: allocate(scores, budget, k)))(keys))
    np.testing.assert_array_equal(allocations.sum(axis=1), budget)
    assert (allocations[:, ~is_zero] == 0).all()
    extra = allocations[:, is_zero] == share + 1
    assert ((allocations[:, is_zero] == share) | extra).all()
    np.testing.assert_array_equal(extra.sum(axis=1), remainder)
    probability = remainder / zeros
    tolerance = 5 * math.sqrt(probability * (1 - probability) / trials)
    frequency = extra.mean(axis=0)
    assert np.abs(frequency - probability).max() < tolerance, (frequency, probability)


@pytest.mark.parametrize("n, budget", [(1, 3), (5, 7), (40, 23), (128, 9), (100, 300)])
@pytest.mark.parametrize("randomized", [False, True])
def test_both_solver_paths_give_the_same_task_list(n, budget, randomized):
    """A padded batch crosses the n = 128 switch: the top_k path must list the same tasks,
    in the same order, as the small path (zeros, ties, +inf scores of absent workers)."""
    from ata_jax.allocation import _assign_large_batch, _assign_small_batch
    rng = np.random.default_rng(n * 1000 + budget)
    scores = random_scores(rng, 64, n)
    absent = rng.uniform(size=scores.shape) < 0.2
    absent[:, 0] = False  # at least one present worker per row
    scores = np.where(absent & (np.arange(64) % 3 == 0)[:, None], np.inf, scores)
    bits = jax.random.bits(jax.random.key(n), (64, budget), jnp.uint32)
    small = _assign_small_batch(jnp.asarray(scores), lambda: bits, budget, randomized)
    large = _assign_large_batch(jnp.asarray(scores), lambda: bits, budget, randomized)
    np.testing.assert_array_equal(small.worker, large.worker)
    np.testing.assert_array_equal(small.slot, large.slot)
