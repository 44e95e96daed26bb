"""m-Synchronous (spec §9, from "Do We Need Asynchronous SGD?", 2026): every round all n
workers start ⌈B/n⌉ tasks each, back to back, and the round ends when the first B results
have arrived; the rest are cancelled.

Round time C_k = the B-th smallest completion time over the n·⌈B/n⌉ tasks (for B ≤ n: the
B-th smallest of n single-task times); worker time = n × C_k, every worker being held for the
round (spec §9), as in GTA's race. It differs from GTA, where a worker that finishes starts
another task: here a worker that is done waits for the round to end. Task u of worker i is
the same (worker, slot) draw that an allocation would see (common random numbers).

Failed workers never return a result (their tasks count as +inf); absent workers of a padded
configuration run nothing. A padded batch does not know each configuration's n when it is
traced, so it draws up to B tasks per worker and cancels those beyond that configuration's
⌈B/n⌉ (more draws, the same results).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ata_jax.allocators.base import Policy, PolicySettings
from ata_jax.allocators.gta import held_round_outcome
from ata_jax.rounds import has_failures
from ata_jax.schedules import is_down
from ata_jax.timemodels import TimeModel, present_workers, task_times, worker_count


def tasks_per_worker(num_workers, budget: int):
    """⌈B/n⌉: the tasks each of n workers starts in an msync round (n an int, or a traced
    count for a padded model)."""
    return -(-budget // num_workers)


def round_time(model: TimeModel, task_key: jax.Array, budget: int,
               round_number: jax.Array | None = None) -> jax.Array:
    """C_k: the B-th smallest completion time of every worker's ⌈B/n⌉ back-to-back tasks."""
    n = model.size
    slots = budget if model.present is not None else tasks_per_worker(n, budget)
    worker = jnp.repeat(jnp.arange(n, dtype=jnp.int32), slots)
    slot = jnp.tile(jnp.arange(slots, dtype=jnp.int32), n)
    times = task_times(model, task_key, worker, slot, budget, round_number).reshape(n, slots)
    completion = jnp.cumsum(times, axis=1)
    # each configuration starts its own ⌈B/n⌉ tasks per worker, n its present workers
    started = jnp.arange(slots) < tasks_per_worker(worker_count(model), budget)
    finishes = started[None, :] & present_workers(model)[:, None]
    if has_failures(model):  # a down worker never returns a result
        finishes &= ~is_down(model.schedule, round_number, jnp.arange(n))[:, None]
    completion = jnp.where(finishes, completion, jnp.inf).reshape(-1)
    return -lax.top_k(-completion, budget)[0][budget - 1]


def check_budget(model: TimeModel, budget: int, num_rounds: int) -> None:
    """ValueError when some round of the K has too few live workers to return B results
    (live workers × ⌈B/n⌉ < B). Host only."""
    schedule = model.schedule
    if schedule is None or schedule.fail_start is None:
        return
    start = np.asarray(schedule.fail_start, np.int64)
    end = start + np.asarray(schedule.fail_rounds, np.int64)
    present = (np.ones(model.size, bool) if model.present is None
               else np.asarray(model.present))
    failing = (start > 0) & present & (start <= num_rounds)
    # the most workers down at once: the largest count over the failure start rounds
    starts = np.unique(start[failing])
    most_down = max((int(np.sum(failing & (start <= k) & (end > k))) for k in starts),
                    default=0)
    live = int(present.sum()) - most_down
    per_worker = tasks_per_worker(int(present.sum()), budget)
    if live * per_worker < budget:
        raise ValueError(f"msync cannot serve B = {budget}: with {most_down} of "
                         f"{int(present.sum())} workers down at once, {live} live workers x "
                         f"{per_worker} task(s) each return fewer than B results")


def policy(settings: PolicySettings) -> Policy:
    budget = settings.budget

    def play_round(state, round_number, task_key, policy_key, model):
        return state, held_round_outcome(model, round_time(model, task_key, budget,
                                                           round_number), round_number)

    return Policy(init=lambda model, hyperparameters: (), play_round=play_round)
