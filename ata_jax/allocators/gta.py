"""GTA (spec §5): greedy allocation; every worker races until B tasks are done in total.

It has no allocation to learn or score: each round is `rounds.greedy_round_time`, and since
unfinished work is discarded, the worker time is n × the round time (with failed workers: the
live workers' share; the failed ones' share is wasted time).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ata_jax.allocators.base import Policy, PolicySettings
from ata_jax.metrics import RoundOutcome
from ata_jax.rounds import has_failures
from ata_jax.schedules import is_down
from ata_jax.solvers import solver
from ata_jax.timemodels import TimeModel, present_workers, worker_count


def held_round_outcome(model: TimeModel, round_time: jax.Array,
                       round_number: jax.Array) -> RoundOutcome:
    """The outcome of a round that holds every live worker until it ends (GTA's race, msync):
    worker time = live workers × C_k, the down workers' share wasted, no allocation (NaN
    proxy loss), no idle time counted apart."""
    num_down = (jnp.sum(is_down(model.schedule, round_number, jnp.arange(model.size))
                        & present_workers(model)) if has_failures(model) else 0)
    racing = worker_count(model) - num_down  # the live workers, all of them held
    return RoundOutcome(
        round_time=round_time, worker_time=racing * round_time,
        proxy_loss=jnp.full_like(round_time, jnp.nan), wasted_time=num_down * round_time,
        workers_used=jnp.asarray(racing, jnp.int32), idle_time=jnp.zeros_like(round_time))


def policy(settings: PolicySettings) -> Policy:
    budget, greedy_round_time = settings.budget, solver(settings.solver).greedy_round_time

    def play_round(state, round_number, task_key, policy_key, model):
        round_time = greedy_round_time(model, task_key, budget, round_number)
        return state, held_round_outcome(model, round_time, round_number)

    return Policy(init=lambda model, hyperparameters: (), play_round=play_round)
