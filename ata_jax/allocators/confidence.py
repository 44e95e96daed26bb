"""Per-worker sample statistics and the confidence widths shared by ATA and ATA-Empirical.

Semi-bandit feedback: after a round, each loaded worker i reports its busy time T_i for its
a_i tasks. Counting per task (spec §2 Decision, the default) adds a_i samples of total T_i;
counting per round adds one sample T_i/a_i.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ata_jax.allocation import assign, assignment_counts
from ata_jax.allocators.base import Allocator
from ata_jax.summation import (CompensatedSum, compensated_add, compensated_value,
                               compensated_zeros)

COUNTINGS = ("task", "round")


class SampleStatistics(NamedTuple):
    """mean: float[n], empirical mean task time μ̂_i; count: float[n], samples K_i;
    count_compensation: float[n], what float32 rounding left out of the counts (a
    `summation.CompensatedSum` with `count`), or None: with it a count stays the correctly
    rounded total past 2²⁴, where a plain float32 count would stop growing."""

    mean: jax.Array
    count: jax.Array
    count_compensation: jax.Array | None = None


def empty_statistics(num_workers: int, dtype=jnp.float32) -> SampleStatistics:
    zeros = jnp.zeros(num_workers, dtype)
    return SampleStatistics(zeros, zeros, zeros)


def prior_statistics(num_workers: int, prior_mean: jax.Array,
                     prior_count: jax.Array | None) -> SampleStatistics:
    """Statistics that start from estimates μ̂_i = prior_mean_i worth prior_count_i samples
    each (float[n] or scalars; a count of 0 leaves that worker unexplored)."""
    count = jnp.broadcast_to(jnp.asarray(1.0 if prior_count is None else prior_count,
                                         jnp.float32), (num_workers,))
    mean = jnp.broadcast_to(jnp.asarray(prior_mean, jnp.float32), (num_workers,))
    return SampleStatistics(mean=jnp.where(count > 0, mean, 0.0), count=count,
                            count_compensation=jnp.zeros_like(count))


def observe_busy_times(statistics: SampleStatistics, tasks_per_worker: jax.Array,
                       busy_time: jax.Array, counting: str,
                       discount: jax.Array | None = None) -> SampleStatistics:
    """Fold in a round's busy times T_i [n] of workers that ran tasks_per_worker a_i [n].

    With a discount γ < 1 every worker's earlier samples weigh γ less each round (idle
    workers' counts decay too, so their bounds widen and they are tried again).
    """
    compensation = statistics.count_compensation
    if discount is not None:
        statistics = statistics._replace(count=statistics.count * discount)
        compensation = None if compensation is None else compensation * discount
    tasks = tasks_per_worker.astype(statistics.mean.dtype)
    loaded = tasks > 0
    if counting == "task":
        new_samples, sample_sum = tasks, busy_time
    else:
        new_samples = loaded.astype(tasks.dtype)
        sample_sum = jnp.where(loaded, busy_time / jnp.where(loaded, tasks, 1), 0)
    if compensation is None:
        count = statistics.count + new_samples
    else:
        count, compensation = compensated_add(CompensatedSum(statistics.count, compensation),
                                              new_samples)
    # running mean, updated in the numerically stable form μ̂ += (Σx − k·μ̂)/K
    step = (sample_sum - new_samples * statistics.mean) / jnp.where(loaded, count, 1)
    mean = jnp.where(loaded, statistics.mean + step, statistics.mean)
    return SampleStatistics(mean=mean, count=count, count_compensation=compensation)


def effective_rounds(round_number: jax.Array, discount: jax.Array | None) -> jax.Array:
    """k, or with a discount γ < 1 the discounted number of rounds Σ_{s<k} γ^s."""
    k = jnp.asarray(round_number, jnp.float32)
    if discount is None:
        return k
    below_one = discount < 1.0
    return jnp.where(below_one, (1.0 - discount**k) / jnp.where(below_one, 1.0 - discount, 1.0),
                     k)


def confidence_width(count: jax.Array, round_number: jax.Array) -> jax.Array:
    """w_i = √(ln(2k²)/K_i) + ln(2k²)/K_i for K_i ≥ 1, +inf for K_i = 0 (spec §2)."""
    k = jnp.asarray(round_number, count.dtype)
    log_term = jnp.log(2.0 * k * k)
    ratio = log_term / jnp.where(count > 0, count, 1)
    return jnp.where(count > 0, jnp.sqrt(ratio) + ratio, jnp.inf)


class WindowState(NamedTuple):
    """The last `capacity` rounds' samples, task by task, and their running sums.

    worker: int32[capacity, B]; weight, value: float[capacity, B] (each task carries weight
    samples of total `value`, so a worker's tasks of one round add up to its samples and busy
    time); total: compensated float[n] sums of the values over the window; count: float[n]
    sums of the weights; size: the traced window W ≤ capacity (rounds).
    """

    worker: jax.Array
    weight: jax.Array
    value: jax.Array
    total: CompensatedSum
    count: jax.Array
    size: jax.Array


def empty_window(num_workers: int, budget: int, capacity: int, size) -> WindowState:
    zeros = jnp.zeros((capacity, budget), jnp.float32)
    return WindowState(worker=jnp.zeros((capacity, budget), jnp.int32), weight=zeros,
                       value=zeros, total=compensated_zeros(num_workers),
                       count=jnp.zeros(num_workers), size=jnp.asarray(size, jnp.int32))


def window_statistics(window: WindowState) -> SampleStatistics:
    """Means and sample counts over the window's rounds."""
    total = compensated_value(window.total)
    present = window.count > 0.5e-6
    return SampleStatistics(mean=jnp.where(present, total / jnp.where(present, window.count, 1),
                                           0.0),
                            count=jnp.where(present, window.count, 0.0))


def observe_window(window: WindowState, round_number: jax.Array, assignment,
                   busy_time: jax.Array, counting: str) -> WindowState:
    """Add round k's samples and drop round k − W's (exact integer counts for task counting;
    compensated float sums for the times, so adding and removing does not drift)."""
    capacity = window.worker.shape[0]
    n = busy_time.shape[-1]
    tasks = assignment_counts(assignment, n).astype(jnp.float32)[assignment.worker]
    per_task_time = busy_time[assignment.worker] / tasks
    weight = jnp.ones_like(tasks) if counting == "task" else 1.0 / tasks
    value = per_task_time * weight
    leaving = round_number - window.size
    leaving_slot = jnp.mod(leaving - 1, capacity)
    keep = (leaving >= 1).astype(jnp.float32)
    delta_total = (jnp.zeros(n).at[assignment.worker].add(value)
                   .at[window.worker[leaving_slot]].add(-keep * window.value[leaving_slot]))
    delta_count = (jnp.zeros(n).at[assignment.worker].add(weight)
                   .at[window.worker[leaving_slot]].add(-keep * window.weight[leaving_slot]))
    slot = jnp.mod(round_number - 1, capacity)
    return window._replace(worker=window.worker.at[slot].set(assignment.worker),
                           weight=window.weight.at[slot].set(weight),
                           value=window.value.at[slot].set(value),
                           total=compensated_add(window.total, delta_total),
                           count=window.count + delta_count)


class LearnerState(NamedTuple):
    """State of a lower-confidence-bound allocator: its statistics, its traced parameter
    (α for ATA, η for ATA-Empirical), for the variants the discount γ or the window, and for a
    padded model its present workers (bool[n]; the absent ones score +inf)."""

    statistics: SampleStatistics | None
    parameter: jax.Array
    discount: jax.Array | None = None
    window: WindowState | None = None
    present: jax.Array | None = None


def lower_confidence_allocator(budget: int, counting: str, lower_bound, parameter_name: str,
                               discounted: bool = False, window_capacity: int = 0,
                               assign=assign, random_scores: bool = False):
    """An `Allocator` that assigns by argmin_a max_i a_i·s_i on s = lower_bound(...) (with
    `assign`, a solver's: `ata_jax.solvers`).

    lower_bound(statistics, round_number, parameter) -> float[n] scores (0 where K_i = 0);
    with random_scores, lower_bound(statistics, round_number, parameter, key) draws them
    (Thompson sampling) from its own key, apart from the zero rule's.
    parameter_name picks the traced parameter (α "alpha", η "eta", ν "spread") from the
    `Hyperparameters`. `discounted`
    discounts samples by the hyperparameter γ each round (and the round count in the
    confidence width becomes Σ_{s<k} γ^s). `window_capacity` > 0 keeps only the samples of
    the last W rounds (the hyperparameter `window`, at most the capacity; the round count in
    the width becomes min(k, W)).
    """
    if counting not in COUNTINGS:
        raise ValueError(f"counting must be one of {', '.join(COUNTINGS)}, got {counting!r}")

    def init(model, hyperparameters):
        parameter = jnp.asarray(getattr(hyperparameters, parameter_name), jnp.float32)
        discount = jnp.asarray(hyperparameters.discount, jnp.float32) if discounted else None
        window = (empty_window(model.size, budget, window_capacity,
                               jnp.minimum(hyperparameters.window, window_capacity))
                  if window_capacity else None)
        # a windowed learner derives its statistics from the window: it keeps none of its own
        statistics = empty_statistics(model.size) if window is None else None
        if hyperparameters.prior_mean is not None:
            if window is not None:
                raise ValueError("a windowed learner keeps only its window's samples: prior "
                                 "estimates are for the plain and discounted learners")
            statistics = prior_statistics(model.size, hyperparameters.prior_mean,
                                          hyperparameters.prior_count)
        return LearnerState(statistics, parameter, discount, window, model.present)

    def choose(state, round_number, key):
        if state.window is None:
            rounds = effective_rounds(round_number, state.discount)
            statistics = state.statistics
        else:
            rounds = jnp.minimum(round_number, state.window.size).astype(jnp.float32)
            statistics = window_statistics(state.window)
        if random_scores:
            score_key, key = jax.random.split(key)
            scores = lower_bound(statistics, rounds, state.parameter, score_key)
        else:
            scores = lower_bound(statistics, rounds, state.parameter)
        if state.present is not None:  # an absent worker is never loaded, nor in the zero rule
            scores = jnp.where(state.present, scores, jnp.inf)
        return assign(scores, budget, key)

    def observe(state, assignment, busy_time, round_number):
        if state.window is not None:
            return state._replace(window=observe_window(state.window, round_number, assignment,
                                                        busy_time, counting))
        tasks = assignment_counts(assignment, busy_time.shape[-1])
        statistics = observe_busy_times(state.statistics, tasks, busy_time, counting,
                                        state.discount)
        return state._replace(statistics=statistics)

    return Allocator(init=init, choose=choose, observe=observe)
