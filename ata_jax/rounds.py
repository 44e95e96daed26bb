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
                    budget: int, round_number: jax.Array | None = None) -> RoundResult:
    """Run the round's B tasks: O(B) draws and one scatter into n workers."""
    times = task_times(model, task_key, assignment.worker, assignment.slot, budget,
                       round_number)
    busy_time = jnp.zeros(model.size, times.dtype).at[assignment.worker].add(times)
    return RoundResult(busy_time=busy_time, round_time=jnp.max(busy_time),
                       worker_time=jnp.sum(times))


def greedy_round_time(model: TimeModel, task_key: jax.Array, budget: int,
                      round_number: jax.Array | None = None) -> jax.Array:
    """The B-th completion time when every worker works back to back from time 0.

    Only the m = min(B, n) workers whose first task ends earliest can finish one of the B
    earliest tasks (any other worker's first completion is at or after the m-th earliest
    first completion). We draw all n first tasks, keep those m, then replay the race as B
    completion events: each event pops the earliest pending completion and draws that
    worker's next task only. So a round costs n + B − 1 draws and no sort, and every task
    time is the same (worker, slot) draw that an allocation of that task would see.
    """
    n = model.size
    workers = jnp.arange(n, dtype=jnp.int32)
    first = task_times(model, task_key, workers, jnp.zeros(n, jnp.int32), budget, round_number)
    negative_first, candidates = lax.top_k(-first, min(budget, n))
    pending = -negative_first            # next completion time of each candidate
    completed = jnp.zeros_like(candidates)
    for event in range(budget):
        earliest = jnp.argmin(pending)
        completion = pending[earliest]
        if event == budget - 1:
            break
        completed = completed.at[earliest].add(1)  # < B here: its next slot exists
        pending = pending.at[earliest].add(task_times(model, task_key, candidates[earliest],
                                                      completed[earliest], budget, round_number))
    return completion
