"""Combinatorial Thompson sampling (spec §9): each round, draw μ̃_i from a posterior over μ_i
given the samples so far and play argmin_a max_i a_i·μ̃_i with the same solver as ATA.

The posterior is Gaussian on the log mean, log μ̃_i ~ N(log μ̂_i, ν²/K_i): the sample mean of
K_i task times with coefficient of variation ν has relative standard error ν/√K_i, and a
log-normal draw stays positive, so a tried worker never falls into the zero rule (where one
worker with a zero score would take the whole budget). ν (`spread`, a traced hyperparameter,
default 1: an exponential task's coefficient of variation) sets how boldly it explores; ν = 0
is the greedy allocation on the empirical means. An untried worker (K_i = 0) draws 0, the
smallest score there is, so the zero rule gives it a task: every worker is tried within
⌈n/B⌉ rounds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ata_jax.allocators.base import Policy, PolicySettings, as_policy
from ata_jax.allocators.confidence import SampleStatistics, lower_confidence_allocator
from ata_jax.solvers import solver


def posterior_draw(statistics: SampleStatistics, round_number: jax.Array, spread: jax.Array,
                   key: jax.Array) -> jax.Array:
    """float[n]: μ̂_i·exp(ν·Z_i/√K_i) for Z_i i.i.d. standard normal (from `key`), 0 where
    K_i = 0 (time units). round_number is unused: the posterior needs no horizon."""
    del round_number
    tried = statistics.count > 0
    normal = jax.random.normal(key, statistics.mean.shape, statistics.mean.dtype)
    relative = spread * normal / jnp.sqrt(jnp.where(tried, statistics.count, 1.0))
    return jnp.where(tried, statistics.mean * jnp.exp(relative), 0.0)


def policy(settings: PolicySettings) -> Policy:
    return as_policy(lower_confidence_allocator(settings.budget, settings.counting,
                                                posterior_draw, "spread",
                                                assign=solver(settings.solver).assign,
                                                random_scores=True), settings)
