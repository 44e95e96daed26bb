"""GTA's race: the pruned race (4B workers with the smallest lower bounds) against a brute
force over every worker's completions, its fallback, and the lower bounds themselves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax.rounds import (greedy_round_time, race_capacity, race_time, round_key_words,
                            worker_lower_bounds)
from ata_jax.simulate import seed_keys
from ata_jax.timemodels import cifar, from_workers, sqrt, task_times


def brute_force_round_times(model, keys, budget):
    """The B-th smallest of all n·B completion times (every worker's first B cumulative task
    times), per key: float64[S]."""
    n = model.size
    workers = jnp.repeat(jnp.arange(n), budget)
    slots = jnp.tile(jnp.arange(budget), n)
    draws = jax.jit(jax.vmap(lambda key: task_times(model, key, workers, slots, budget)))(keys)
    completions = np.cumsum(np.asarray(draws, np.float64).reshape(len(keys), n, budget), axis=2)
    return np.sort(completions.reshape(len(keys), -1), axis=1)[:, budget - 1]


def pruned_only(model, keys, budget):
    """The race among the 4B workers with the smallest lower bounds, never checked."""
    nearest = jnp.argsort(worker_lower_bounds(model))[:race_capacity(budget)].astype(jnp.int32)
    return jax.jit(jax.vmap(lambda key: race_time(model, round_key_words(key), nearest, budget,
                                                  None)))(keys)


MIXED = from_workers([dict(family="uniform", low=10.0, high=30.0, count=10),
                      dict(family="half-normal", shift=12.0, scale=5.0, count=10),
                      dict(family="constant", value=16.0, count=10)])  # ties among these


@pytest.mark.parametrize("model, budget", [(cifar(120), 5), (sqrt(120), 5), (MIXED, 4)])
def test_pruned_race_is_the_full_race(model, budget):
    assert model.size > race_capacity(budget)  # the pruned path is the one tested
    keys = seed_keys(3, 48)
    batched = np.asarray(jax.jit(jax.vmap(lambda key: greedy_round_time(model, key, budget)))(
        keys))
    np.testing.assert_allclose(batched, brute_force_round_times(model, keys, budget),
                               rtol=2e-6)
    one_key = jax.jit(lambda key: greedy_round_time(model, key, budget))  # unbatched rule
    single = [float(one_key(key)) for key in keys[:3]]
    np.testing.assert_array_equal(single, batched[:3])


def test_a_batch_races_in_full_when_a_member_could_be_wrong():
    # 12 = 4B slow-starting workers, then 18 that cannot start before 1.5 but then finish
    # almost at once: whenever the 12 need longer than 1.5 for B tasks, the others count
    budget = 3
    model = from_workers([dict(family="exponential", shift=1.0, mean=1.0, count=12),
                          dict(family="exponential", shift=1.5, mean=0.01, count=18)])
    keys = seed_keys(5, 64)
    expected = brute_force_round_times(model, keys, budget)
    wrong = np.abs(np.asarray(pruned_only(model, keys, budget)) - expected) > 1e-3 * expected
    assert 0 < wrong.sum() < len(keys)  # the check is needed in some members, not all
    got = jax.jit(jax.vmap(lambda key: greedy_round_time(model, key, budget)))(keys)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=2e-6)


def test_races_under_a_vmap_over_models():
    budget = 4
    models = [cifar(40), sqrt(40)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack([jnp.asarray(leaf) for leaf in leaves]),
                           *models)
    keys = seed_keys(1, 2)
    got = jax.jit(jax.vmap(lambda model, key: greedy_round_time(model, key, budget)))(stacked,
                                                                                      keys)
    for index, model in enumerate(models):
        np.testing.assert_allclose(float(got[index]),
                                   brute_force_round_times(model, keys[index:index + 1],
                                                           budget)[0], rtol=2e-6)


def test_lower_bounds_bound_every_family():
    model = from_workers([dict(family="constant", value=3.0),
                          dict(family="exponential", shift=2.0, mean=4.0),
                          dict(family="uniform", low=1.0, high=5.0),
                          dict(family="half-normal", shift=1.0, scale=2.0),
                          dict(family="lognormal", shift=1.0, log_mean=0.5, log_std=0.6,
                               upper=12.0),
                          dict(family="gamma", shift=0.5, shape=0.5, scale=3.0)])
    np.testing.assert_array_equal(np.asarray(worker_lower_bounds(model)),
                                  [3.0, 2.0, 1.0, 1.0, 1.0, 0.5])
    slots = 64
    workers = jnp.repeat(jnp.arange(model.size), slots)
    draws = jax.jit(jax.vmap(lambda key: task_times(model, key, workers,
                                                    jnp.tile(jnp.arange(slots), model.size),
                                                    slots)))(seed_keys(2, 2000))
    smallest = np.asarray(draws).reshape(-1, model.size, slots).min(axis=(0, 2))
    assert (smallest >= np.asarray(worker_lower_bounds(model))).all()
    tight = [1, 2, 3, 5]  # the exponential, uniform, half-normal and gamma reach theirs
    assert (smallest[tight] < np.asarray(worker_lower_bounds(model))[tight] + 0.01).all()
