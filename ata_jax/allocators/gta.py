"""GTA (spec §5): greedy allocation; every worker races until B tasks are done in total.

It has no allocation to learn or score: each round is `rounds.greedy_round_time`, and since
unfinished work is discarded, the worker time is n × the round time.
"""

from __future__ import annotations

import jax.numpy as jnp

from ata_jax.allocators.base import Policy, RoundOutcome
from ata_jax.rounds import greedy_round_time


def policy(budget: int) -> Policy:
    def play_round(state, round_number, task_key, policy_key, model):
        round_time = greedy_round_time(model, task_key, budget, round_number)
        return state, RoundOutcome(round_time, model.size * round_time,
                                   jnp.full_like(round_time, jnp.nan))

    return Policy(init=lambda model, hyperparameters: (), play_round=play_round,
                  allocates=False)
