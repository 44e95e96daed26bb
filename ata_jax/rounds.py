"""One round of work: task times drawn for an allocation (or for GTA's race), and what it cost.

A round with allocation a runs worker i's a_i tasks back to back; worker i is busy
T_i = Σ_u X_i^(u); the round lasts max_i T_i (over loaded workers) and costs Σ_i T_i of worker
time. GTA's round is a race: all n workers work back to back from time 0 and the round ends
at the B-th completion over all of them; unfinished work is discarded, so it costs n × round.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ata_jax.allocation import Assignment
from ata_jax.timemodels import TimeModel, task_times


class RoundResult(NamedTuple):
    """busy_time: float[n] (T_i, 0 for idle workers); round_time, worker_time: scalars."""

    busy_time: jax.Array
    round_time: jax.Array
    worker_time: jax.Array


def play_assignment(model: TimeModel, task_key: jax.Array, assignment: Assignment,
                    budget: int) -> RoundResult:
    """Run the round's B tasks: O(B) draws and one scatter into n workers."""
    times = task_times(model, task_key, assignment.worker, assignment.slot, budget)
    busy_time = jnp.zeros(model.size, times.dtype).at[assignment.worker].add(times)
    return RoundResult(busy_time=busy_time, round_time=jnp.max(busy_time),
                       worker_time=jnp.sum(times))


def greedy_round_time(model: TimeModel, task_key: jax.Array, budget: int) -> jax.Array:
    """The B-th completion time when every worker works back to back from time 0.

    Only the m = min(B, n) workers whose first task ends earliest can finish one of the B
    earliest tasks (any other worker's first completion is at or after the m-th earliest
    first completion), so we draw all n first tasks, then the further B−1 tasks of those m
    workers only: O(n + B²) draws.
    """
    n = model.size
    candidates_count = min(budget, n)
    workers = jnp.arange(n, dtype=jnp.int32)
    first = task_times(model, task_key, workers, jnp.zeros(n, jnp.int32), budget)
    negative_first, candidates = lax.top_k(-first, candidates_count)
    if budget > 1:
        slots = jnp.arange(1, budget, dtype=jnp.int32)
        later = task_times(model, task_key,
                           jnp.broadcast_to(candidates[:, None], (candidates_count, budget - 1)),
                           jnp.broadcast_to(slots[None, :], (candidates_count, budget - 1)),
                           budget)
        durations = jnp.concatenate([-negative_first[:, None], later], axis=1)
    else:
        durations = -negative_first[:, None]
    completions = jnp.cumsum(durations, axis=1)
    earliest, _ = lax.top_k(-completions.reshape(-1), budget)
    return -earliest[-1]
