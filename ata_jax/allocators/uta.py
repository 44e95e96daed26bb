"""UTA (spec §5): B tasks spread uniformly at random, one per distinct worker when B ≤ n.

This is exactly the zero rule of `assign` with every score 0: ⌊B/n⌋ each and the remainder to
uniformly random distinct workers.
"""

from __future__ import annotations

import jax.numpy as jnp

from ata_jax.allocation import assign as cpu_assign
from ata_jax.allocators.base import Allocator, Policy, PolicySettings, as_policy
from ata_jax.solvers import solver
from ata_jax.timemodels import present_workers


def allocator(budget: int, assign=cpu_assign) -> Allocator:
    return Allocator(
        # absent workers score +inf: the zero rule spreads over the present ones only
        init=lambda model, hyperparameters: jnp.where(present_workers(model), 0.0,
                                                      jnp.inf).astype(jnp.float32),
        choose=lambda zero_scores, round_number, key: assign(zero_scores, budget, key),
        observe=lambda zero_scores, played, busy_time, round_number: zero_scores,
    )


def policy(settings: PolicySettings) -> Policy:
    return as_policy(allocator(settings.budget, solver(settings.solver).assign), settings)
