"""Explore-then-commit (spec §9): spread tasks evenly until every worker has m samples, then
play argmin_a max_i a_i·μ̂_i on the means estimated by then, forever.

"Evenly" is round-robin: the round's B tasks go to the workers that follow, in index order
(cyclically, present workers only), the last task given out, so after r rounds of exploring
every worker holds ⌊rB/n⌋ or ⌈rB/n⌉ tasks and all have m samples after ⌈mn/B⌉ rounds
(counting per task; per round, when B > n, after m rounds). The estimates freeze when it
commits: the committed allocation never changes. m (`explore_samples`) is traced.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ata_jax.allocation import Assignment, assignment_counts
from ata_jax.allocators.base import Allocator, Policy, PolicySettings, as_policy
from ata_jax.allocators.confidence import (COUNTINGS, SampleStatistics, empty_statistics,
                                           observe_busy_times)
from ata_jax.bitsets import members_by_rank
from ata_jax.solvers import solver
from ata_jax.timemodels import present_workers


class ExploreState(NamedTuple):
    """statistics: the samples of the exploration; samples: m (float32); present: bool[n]."""

    statistics: SampleStatistics
    samples: jax.Array
    present: jax.Array


def round_robin(present: jax.Array, round_number: jax.Array, budget: int) -> Assignment:
    """Round k's B tasks continuing the cycle over the present workers (bool[n]): task t
    goes to the present worker of rank ((k−1)·B + t) mod n_present."""
    num_present = jnp.sum(present, dtype=jnp.int32)
    task = jnp.arange(budget, dtype=jnp.int32)
    # (k−1)·B mod n without forming (k−1)·B, which leaves int32 for long runs
    offset = (jnp.mod(round_number - 1, num_present) * (budget % num_present)) % num_present
    rank = (offset + task) % num_present
    first_task = (rank - offset) % num_present  # the first of this round's tasks on that worker
    return Assignment(worker=members_by_rank(present, rank),
                      slot=(task - first_task) // num_present)


def exploring(state: ExploreState) -> jax.Array:
    """Whether some present worker still has fewer than m samples."""
    return jnp.any(state.present & (state.statistics.count < state.samples))


def allocator(budget: int, counting: str, assign) -> Allocator:
    if counting not in COUNTINGS:
        raise ValueError(f"counting must be one of {', '.join(COUNTINGS)}, got {counting!r}")

    def init(model, hyperparameters):
        return ExploreState(empty_statistics(model.size),
                            jnp.asarray(hyperparameters.explore_samples, jnp.float32),
                            present_workers(model))

    def choose(state, round_number, key):
        explore = round_robin(state.present, round_number, budget)
        commit = assign(jnp.where(state.present, state.statistics.mean, jnp.inf), budget, key)
        now_exploring = exploring(state)
        return jax.tree.map(lambda a, b: jnp.where(now_exploring, a, b), explore, commit)

    def observe(state, assignment, busy_time, round_number):
        updated = observe_busy_times(state.statistics,
                                     assignment_counts(assignment, busy_time.shape[-1]),
                                     busy_time, counting)
        was_exploring = exploring(state)
        statistics = jax.tree.map(lambda new, old: jnp.where(was_exploring, new, old),
                                  updated, state.statistics)
        return state._replace(statistics=statistics)

    return Allocator(init=init, choose=choose, observe=observe)


def policy(settings: PolicySettings) -> Policy:
    return as_policy(allocator(settings.budget, settings.counting,
                               solver(settings.solver).assign), settings)
