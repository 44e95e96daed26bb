"""The allocation that minimises the expected round time (spec §9), found by Monte Carlo.

OFTA plays a*_ℓ = argmin_a max_i a_i·μ_i, the optimum of the proxy loss. The round time
itself is C(a) = max_i Σ_{u<a_i} X_i^(u), whose expectation has no closed form. The proxy
sees only the means; the maximum also sees the spread: a sum of many tasks varies
relatively less than one task does, so the allocation that minimises E[C(a)] (a*_E) can use
fewer workers than a*_ℓ (on `cifar`, n = 51, B = 23: (10,5,3,2,1,1,1) against a*_ℓ's
(9,4,3,2,1,1,1,1,1), whose two slowest single tasks are often the last to finish).
It is estimated here once per model:

1. M rounds are drawn once (common random numbers: every candidate allocation is scored on the
   same draws) for the L = min(n, 4B) workers with the smallest means, B tasks each, and kept
   as running sums P[m, i, j] = Σ_{u<j} X_i^(u) (so C_m(a) = max_i P[m, i, a_i]).
2. From a*_ℓ, each step tries every move of one task from one worker to another, and takes
   the one that lowers the estimated E[C] most, as long as that lowering exceeds its own
   standard error (the per-round differences' standard deviation / √M); it stops otherwise.

A worker outside the L fastest is never worth a task here: any allocation that loads worker j
has E[C] ≥ μ_j (Jensen), and with 4B candidates their means already reach far past the
round times that a*_ℓ achieves on the models we ship. The draws use `timemodels.task_times`,
so any stationary model works, a trace included (sample m is drawn as round m + 1).
Memory: M·L·(B + 1) float32 (M is lowered, to no fewer than 1024, to keep that under
`TABLE_BYTES`; a model and budget whose table is larger even then are refused before any work,
`limits.check_expected_search`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ata_jax.allocation import assign, assignment_counts
from ata_jax.limits import MAX_SEARCH_TABLE_BYTES, check_expected_search
from ata_jax.timemodels import TimeModel, present_workers, task_times

SEARCH_SEED = 0x5EA7C4
"""The key of the search's draws: the same optimum for every simulation seed and run."""
SAMPLES = 8192
"""M, the Monte Carlo rounds of the search (fewer when the table would exceed TABLE_BYTES)."""
TABLE_BYTES = MAX_SEARCH_TABLE_BYTES
"""The table's size target: M is halved until the table fits it."""
MIN_SAMPLES = 1024


class ExpectedOptimum(NamedTuple):
    """allocation: int32[n], a*_E (Σ = B). round_time: its estimated E[C] (time units) and
    standard_error that estimate's; proxy_round_time: the estimated E[C(a*_ℓ)] on the same
    draws; moves: how many one-task moves the search made; samples: M."""

    allocation: jax.Array
    round_time: jax.Array
    standard_error: jax.Array
    proxy_round_time: jax.Array
    moves: jax.Array
    samples: int


def search_table_bytes(num_workers: int, budget: int, samples: int = MIN_SAMPLES) -> int:
    """Bytes of the running-sum table of M = samples rounds: M·min(n, 4B)·(B + 1) float32."""
    return samples * min(num_workers, 4 * budget) * (budget + 1) * 4


def search_samples(num_workers: int, budget: int) -> int:
    """M for a model of n workers and budget B: SAMPLES, halved while the table is too big
    (a LimitError where even MIN_SAMPLES rounds are, `limits.check_expected_search`)."""
    check_expected_search(num_workers, budget)
    samples = SAMPLES
    while samples > MIN_SAMPLES and search_table_bytes(num_workers, budget,
                                                       samples) > TABLE_BYTES:
        samples //= 2
    return samples


def running_sums(model: TimeModel, candidates: jax.Array, budget: int, samples: int,
                 key: jax.Array) -> jax.Array:
    """float32[M, L, B + 1]: P[m, i, j], the first j task times of candidate i in sample m."""
    count = candidates.shape[0]
    worker = jnp.repeat(candidates, budget)
    slot = jnp.tile(jnp.arange(budget, dtype=jnp.int32), count)

    def one_sample(index):
        times = task_times(model, jax.random.fold_in(key, index), worker, slot, budget,
                           index + 1).reshape(count, budget)
        return jnp.concatenate([jnp.zeros((count, 1), times.dtype),
                                jnp.cumsum(times, axis=1)], axis=1)

    return jax.vmap(one_sample)(jnp.arange(samples))


def _round_times(sums: jax.Array, counts: jax.Array) -> jax.Array:
    """float32[M]: C_m(a) = max_i P[m, i, a_i]."""
    return jnp.max(jnp.take_along_axis(sums, counts[None, :, None], axis=2)[..., 0], axis=1)


def _best_move(sums: jax.Array, counts: jax.Array, usable: jax.Array):
    """(improvement, standard error, from, to) of the move of one task that lowers the mean
    round time most, over every loaded `from` and usable `to` ≠ from."""
    samples, count, _ = sums.shape
    loads = jnp.take_along_axis(sums, counts[None, :, None], axis=2)[..., 0]    # [M, L]
    current = jnp.max(loads, axis=1)
    top_values, top_index = lax.top_k(loads, min(3, count))                     # [M, ≤3]
    fewer = jnp.take_along_axis(sums, jnp.maximum(counts - 1, 0)[None, :, None], axis=2)[..., 0]
    more = jnp.take_along_axis(sums, jnp.minimum(counts + 1, sums.shape[2] - 1)[None, :, None],
                               axis=2)[..., 0]
    workers = jnp.arange(count)

    def from_worker(source):
        # the largest load among the workers other than source and each destination
        def rest(destination):
            keep = (top_index != source) & (top_index != destination)
            return jnp.max(jnp.where(keep, top_values, -jnp.inf), axis=1)

        rest_max = jax.vmap(rest, out_axes=1)(workers)                          # [M, L]
        moved = jnp.maximum(jnp.maximum(rest_max, fewer[:, source, None]), more)
        difference = current[:, None] - moved
        mean = jnp.mean(difference, axis=0)
        error = jnp.std(difference, axis=0) / jnp.sqrt(samples)
        valid = usable & (workers != source) & (counts[source] > 0)
        return jnp.where(valid, mean, -jnp.inf), error

    means, errors = lax.map(from_worker, workers)                               # [L, L]
    best = jnp.argmax(means.reshape(-1))
    return means.reshape(-1)[best], errors.reshape(-1)[best], best // count, best % count


@functools.partial(jax.jit, static_argnames=("budget", "samples"))
def _search(model: TimeModel, budget: int, samples: int, key: jax.Array) -> tuple:
    """The fields of `ExpectedOptimum` but M (arrays)."""
    n = model.size
    count = min(n, 4 * budget)
    mean = jnp.where(present_workers(model), jnp.asarray(model.mean, jnp.float32), jnp.inf)
    candidates = jnp.argsort(mean)[:count].astype(jnp.int32)
    usable = jnp.isfinite(mean[candidates])
    sums = running_sums(model, candidates, budget, samples, key)
    start = assignment_counts(assign(mean[candidates], budget), count)

    def improving(state):
        counts, moves, gain, error, source, destination = state
        return (gain > error) & (moves < 4 * budget)

    def step(state):  # make the move found last, then look for the next
        counts, moves, gain, error, source, destination = state
        counts = counts.at[source].add(-1).at[destination].add(1)
        return (counts, moves + 1, *_best_move(sums, counts, usable))

    counts, moves, *_ = lax.while_loop(improving, step,
                                       (start, jnp.int32(0), *_best_move(sums, start, usable)))
    times = _round_times(sums, counts)
    allocation = jnp.zeros(n, jnp.int32).at[candidates].set(counts)
    return (allocation, jnp.mean(times), jnp.std(times) / jnp.sqrt(samples),
            jnp.mean(_round_times(sums, start)), moves)


def check_stationary(model: TimeModel, where: str = "the model") -> None:
    """ValueError unless `model` has no schedule (the optimum is that of fixed distributions)."""
    if model.schedule is not None:
        raise ValueError(f"ofta-expected and the expected-time regret need a stationary model: "
                         f"{where} has a schedule (its task times change or workers fail)")


def expected_optimum(model: TimeModel, budget: int, *, samples: int | None = None,
                     seed: int = SEARCH_SEED) -> ExpectedOptimum:
    """a*_E for `model` (stationary: no schedule) and budget B, by the local search above.

    samples: M (default `search_samples`). Deterministic for a model, budget, M and seed.
    """
    check_stationary(model)
    samples = search_samples(model.size, budget) if samples is None else samples
    return ExpectedOptimum(*_search(model, budget, samples, jax.random.key(seed)), samples)


@functools.partial(jax.jit, static_argnames=("budget", "samples"))
def _search_each(models: TimeModel, budget: int, samples: int, key: jax.Array):
    return lax.map(lambda model: _search(model, budget, samples, key), models)


def expected_optima(models, budget: int) -> list[ExpectedOptimum]:
    """`expected_optimum` of each model (host NumPy fields), a batch of them at a time: the
    models of one `configurations.batches` group are stacked (padded to its largest n) and
    searched one after another inside one compiled program (`lax.map`, so one model's table
    is in memory at a time). A padded model's optimum is its own, over its present workers;
    M is that of the batch's n (`search_samples`)."""
    from ata_jax.configurations import batches, stack_models

    models = list(models)
    for index, model in enumerate(models):
        check_stationary(model, f"configuration {index}")
    found: list[ExpectedOptimum | None] = [None] * len(models)
    for members in batches(models):
        if len(members) == 1:
            index = members[0]
            result = expected_optimum(models[index], budget)
            found[index] = ExpectedOptimum(*(np.asarray(field) for field in result[:5]),
                                           result.samples)
            continue
        stacked = stack_models([models[index] for index in members])
        samples = search_samples(stacked.size, budget)
        fields = [np.asarray(field)
                  for field in _search_each(stacked, budget, samples,
                                            jax.random.key(SEARCH_SEED))]
        for position, index in enumerate(members):
            size = models[index].size
            found[index] = ExpectedOptimum(fields[0][position, :size],
                                           *(field[position] for field in fields[1:]), samples)
    return found
