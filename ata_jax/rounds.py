"""One round of work: task times drawn for an allocation (or for GTA's race), and what it cost.

A round with allocation a runs worker i's a_i tasks back to back; worker i is busy
T_i = Σ_u X_i^(u); the round lasts max_i T_i (over loaded workers) and costs Σ_i T_i of worker
time. GTA's round is a race: all n workers work back to back from time 0 and the round ends
at the B-th completion over all of them; unfinished work is discarded, so it costs n × round.
With many workers the race is first run among the 4B that can start soonest (smallest lower
bounds on a task's time), which gives the same time whenever nobody else could have finished a
task by then (`greedy_round_time`).

Failed workers (a schedule's fail_start/fail_rounds; `schedules.is_down`) return nothing.
With an allocation, the server waits until the schedule's `timeout` τ (from the round's
start), then reassigns every task of the down workers one by one, each to the live worker
that is free first (free at max(τ, the end of its own tasks)), which runs it after its own.
The round ends when the last task, own or reassigned, is done. Worker time counts the live
workers' work (own and reassigned); the wasted time is τ for each down worker that held
tasks. The allocator observes a_i·τ as the busy time of a down worker that held a_i tasks:
each of its tasks is charged the timeout (a censored observation: its first task took longer
than τ, the others are unknown), so learners steer away from it as long as τ exceeds the
worker's normal task time, which any sensible timeout does. Reassigned tasks are fresh draws
for the live worker, with the round's straggling of that worker. In GTA's race the down
workers just never finish a task: the race runs among the live ones and the down workers'
round is wasted.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ata_jax.allocation import Assignment, assignment_proxy_loss
from ata_jax.metrics import RoundOutcome
from ata_jax.schedules import is_down
from ata_jax.timemodels import (TimeModel, current_means, present_workers, round_key_words,
                                task_times)


class PlayedRound(NamedTuple):
    """busy_time: float[n], what the allocator observes (T_i, 0 for idle workers, τ for a
    down worker that held tasks); outcome: what the round produced (`RoundOutcome`)."""

    busy_time: jax.Array
    outcome: RoundOutcome


def has_failures(model: TimeModel) -> bool:
    """Whether any worker of `model` ever fails (static: known at trace time)."""
    return model.schedule is not None and model.schedule.fail_start is not None


def unrolled_loop(lower: int, upper: int, body, carry):
    """`lax.fori_loop(lower, upper, body, carry)` written out (static bounds): the portable
    round's short loops, so that its program has no while loop (each iteration of one is a
    host round trip on a GPU)."""
    for index in range(lower, upper):
        carry = body(index, carry)
    return carry


def per_worker_sum(num_workers: int, worker: jax.Array, values: jax.Array,
                   portable: bool) -> jax.Array:
    """float[n]: Σ of values[t] over the tasks t of each worker (worker int32[B]).

    `cpu`: one scatter-add. `portable`: the B tasks added one after another, each to its
    worker by a select (no scatter: a float scatter-add under index contention is a slow
    compare-and-swap loop on GPUs); in task order, as the scatter adds them, so both give
    the same float32 sums (x + 0 is exact)."""
    if not portable:
        return jnp.zeros(num_workers, values.dtype).at[worker].add(values)
    workers = jnp.arange(num_workers, dtype=jnp.int32)
    total = jnp.zeros(num_workers, values.dtype)
    for task in range(worker.shape[-1]):
        total = total + jnp.where(workers == worker[task], values[task], 0.0)
    return total


def play_assignment(model: TimeModel, task_key: jax.Array, assignment: Assignment,
                    budget: int, round_number: jax.Array | None = None, *,
                    portable: bool = False) -> PlayedRound:
    """Run the round's B tasks: O(B) draws and one scatter into n workers (plus, for a
    model with failures, up to B reassignments, each O(n)). portable (static): the same
    round with no scatter-add (`per_worker_sum`). A model with failures keeps its
    reassignment loop rolled on both paths (B iterations per round, for the whole batch):
    written out, XLA:CPU fused its draws differently and moved a round's worker time by one
    ulp, so the two solvers would no longer agree exactly."""
    task_words = round_key_words(task_key)
    times = task_times(model, None, assignment.worker, assignment.slot, budget, round_number,
                       key_words=task_words)
    loss = assignment_proxy_loss(assignment, current_means(model, round_number))
    if has_failures(model):
        return _play_with_failures(model, task_key, task_words, assignment, budget,
                                   round_number, times, loss, portable)
    busy_time = per_worker_sum(model.size, assignment.worker, times, portable)
    # the loaded workers' longest busy time: read at the B tasks, not reduced over n
    return PlayedRound(busy_time, _outcome(
        round_time=jnp.max(busy_time[assignment.worker]), worker_time=jnp.sum(times),
        proxy_loss=loss, wasted_time=jnp.zeros_like(times[0]),
        workers_used=jnp.sum(assignment.slot == 0, dtype=jnp.int32)))  # one first task each


def _outcome(**fields) -> RoundOutcome:
    """An allocation's `RoundOutcome`: every worker used is held until the round ends, so
    the idle time is workers_used·C_k − Σ_i T_ik."""
    return RoundOutcome(**fields, idle_time=fields["workers_used"] * fields["round_time"]
                        - fields["worker_time"])


def _play_with_failures(model, task_key, task_words, assignment, budget, round_number, times,
                        loss, portable):
    n = model.size
    down = is_down(model.schedule, round_number, jnp.arange(n))
    timeout = jnp.asarray(model.schedule.timeout, times.dtype)
    task_lost = down[assignment.worker]
    own_time = per_worker_sum(n, assignment.worker, jnp.where(task_lost, 0.0, times), portable)
    held = per_worker_sum(n, assignment.worker, task_lost.astype(times.dtype), portable)
    holds_lost_task = held > 0
    num_lost = jnp.sum(task_lost)
    reassign_words = round_key_words(jax.random.fold_in(task_key, 2))  # apart from own draws

    def reassign(index, carry):
        free_at, extra_time, extra_count, extra_total = carry
        worker = jnp.argmin(free_at)
        duration = task_times(model, None, worker, extra_count[worker], budget,
                              round_number, straggle_words=task_words, key_words=reassign_words)
        duration = jnp.where(index < num_lost, duration, 0.0)
        return (free_at.at[worker].add(duration), extra_time.at[worker].add(duration),
                extra_count.at[worker].add((index < num_lost).astype(jnp.int32)),
                extra_total + duration)

    # down and absent workers are never free to take a reassigned task
    free_at = jnp.where(down | ~present_workers(model), jnp.inf, jnp.maximum(timeout, own_time))
    free_at, extra_time, extra_count, extra_total = lax.fori_loop(
        0, budget, reassign, (free_at, jnp.zeros(n, times.dtype), jnp.zeros(n, jnp.int32),
                              jnp.zeros((), times.dtype)))
    finish = jnp.where(extra_count > 0, free_at, own_time)
    holds_live_task = per_worker_sum(n, assignment.worker, (~task_lost).astype(times.dtype),
                                     portable) > 0
    return PlayedRound(jnp.where(holds_lost_task, timeout * held, own_time), _outcome(
        round_time=jnp.max(jnp.where(down, 0.0, finish)),
        # summed over the round's B tasks, not over the n workers: the same sum (and rounding)
        # whatever absent workers pad the model
        worker_time=jnp.sum(jnp.where(task_lost, 0.0, times)) + extra_total, proxy_loss=loss,
        wasted_time=timeout * jnp.sum(holds_lost_task),
        workers_used=jnp.sum(holds_live_task | (extra_count > 0), dtype=jnp.int32)))


def race_time(model: TimeModel, key_words: jax.Array, workers: jax.Array, budget: int,
              round_number: jax.Array | None, portable: bool = False) -> jax.Array:
    """The B-th completion time of a race among `workers` (int32[c]) only.

    Only the m = min(B, c) workers whose first task ends earliest can finish one of the B
    earliest tasks (any other worker's first completion is at or after the m-th earliest
    first completion). We draw the c first tasks, keep those m, then replay the race as B
    completion events: each event pops the earliest pending completion and draws that
    worker's next task only. So a race costs c + B − 1 draws and no sort, and every task
    time is the same (worker, slot) draw that an allocation of that task would see.
    portable (static): the B − 1 events written out (`unrolled_loop`).
    """
    count = workers.shape[-1]
    first = task_times(model, None, workers, jnp.zeros(count, jnp.int32), budget, round_number,
                       key_words=key_words)
    if has_failures(model):  # a down worker never completes
        first = jnp.where(is_down(model.schedule, round_number, workers), jnp.inf, first)
    if model.present is not None:  # nor does an absent one
        first = jnp.where(jnp.asarray(model.present)[workers], first, jnp.inf)
    negative_first, ranked = lax.top_k(-first, min(budget, count))
    candidates = workers[ranked] if count < model.size else ranked
    pending = -negative_first            # next completion time of each candidate

    def complete_one(state):
        """Pop the earliest pending completion; that worker starts its next task (it has done
        fewer than B here, so its next slot exists)."""
        pending, completed = state
        earliest = jnp.argmin(pending)
        completed = completed.at[earliest].add(1)
        return (pending.at[earliest].add(task_times(model, None, candidates[earliest],
                                                     completed[earliest], budget, round_number,
                                                     key_words=key_words)), completed)

    # cpu: a rolled loop, no slower than the events written out, and it compiles faster
    loop = unrolled_loop if portable else lax.fori_loop
    pending, _ = loop(0, budget - 1, lambda _, state: complete_one(state),
                      (pending, jnp.zeros_like(candidates)))
    return jnp.min(pending)           # the B-th completion


def race_capacity(budget: int) -> int:
    """How many workers a pruned race draws first tasks for (static): 4B."""
    return 4 * budget


def worker_lower_bounds(model: TimeModel) -> jax.Array:
    """float32[n]: a time no task of each worker can beat, from its family's parameters.

    Column 0 of every family's parameters is one: the constant's value, the exponential's,
    half-normal's, lognormal's and gamma's shift, the uniform's low end (timemodels' table).
    An absent worker's is +inf.
    """
    lower = jnp.asarray(model.params, jnp.float32)[..., 0]
    return lower if model.present is None else jnp.where(model.present, lower, jnp.inf)


def _prunable(model: TimeModel, budget: int) -> bool:
    """Whether GTA's race may be pruned by lower bounds (static): a parametric, stationary
    model with more than 4B workers (a replayed or scheduled model's task times have no
    lower bound of that simple kind)."""
    return (model.replay is None and model.schedule is None
            and model.size > race_capacity(budget))


@functools.cache
def _pruned_race_function(budget: int):
    """race(model, key_words) -> round time, with a batching rule that runs the full race
    only for a batch in which some member's pruned race could be wrong."""

    def batch(model, key_words):
        lower = worker_lower_bounds(model)
        order = jnp.argsort(lower).astype(jnp.int32)  # the model's, not the seeds': once
        capacity = race_capacity(budget)
        nearest, threshold = order[:capacity], lower[order[capacity]]
        race_among = lambda workers: jax.vmap(
            lambda words: race_time(model, words, workers, budget, None))(key_words)
        pruned = race_among(nearest)
        return lax.cond(jnp.all(pruned <= threshold), lambda: pruned,
                        lambda: race_among(jnp.arange(model.size, dtype=jnp.int32)))

    @jax.custom_batching.custom_vmap
    def race(model, key_words):
        return batch(model, key_words[None])[0]

    @race.def_vmap
    def race_batched(axis_size, in_batched, model, key_words):
        words = key_words if in_batched[1] else jnp.broadcast_to(key_words, (axis_size, 2))
        if not any(jax.tree.leaves(in_batched[0])):
            return batch(model, words), True
        # a model per member (a user's vmap over models): every member races in full
        workers = jnp.arange(model.size, dtype=jnp.int32)
        model_axes = jax.tree.map(lambda batched: 0 if batched else None, in_batched[0])
        return jax.vmap(lambda member, member_words: race_time(member, member_words, workers,
                                                               budget, None),
                        in_axes=(model_axes, 0))(model, words), True

    return race


def greedy_round_time(model: TimeModel, task_key: jax.Array, budget: int,
                      round_number: jax.Array | None = None, *,
                      portable: bool = False) -> jax.Array:
    """The B-th completion time when every worker works back to back from time 0.

    The race among all n workers (`race_time`: n first draws, then B completion events among
    the min(B, n) earliest). For a parametric, stationary model with n > 4B workers it is
    pruned first: the race among the 4B workers with the smallest lower bounds ℓ_i (column 0
    of the parameters) ends at T', and when every other worker's ℓ_i ≥ T' none of them can
    finish a task before T', so T' is exactly the full race's time (the B-th smallest of a
    union does not change when values ≥ it are added). A batch of seeds races in full only
    when some member fails that check. Results are identical either way. portable
    (static): always the race among all n, its events written out (no conditional, no
    while loop).
    """
    key_words = round_key_words(task_key)  # once: each event below draws one task
    if portable or not _prunable(model, budget):
        return race_time(model, key_words, jnp.arange(model.size, dtype=jnp.int32), budget,
                         round_number, portable)
    return _pruned_race_function(budget)(model, key_words)
