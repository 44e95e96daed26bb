"""The allocator interface: pure functions over an explicit state pytree.

An `Allocator` is three pure functions, like an optax transformation's init/update pair:

    init(model, hyperparameters) -> state     # learners read only model.size; oracles read μ
    choose(state, round_number, key) -> Assignment
    observe(state, assignment, busy_time, round_number) -> state

`as_policy` turns one into a `Policy`, the uniform thing the simulation scans: a function
playing one whole round. GTA is a `Policy` directly, since its round is a race rather than an
allocation. Adding an allocator is one module that builds an `Allocator` and one registry line.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax

from ata_jax.allocation import Assignment, assignment_proxy_loss
from ata_jax.rounds import play_assignment
from ata_jax.timemodels import TimeModel, current_means

State = Any


class Hyperparameters(NamedTuple):
    """Traced hyperparameters (vary them without recompiling).

    alpha: ATA's α ≥ max_i ‖X_i − μ_i‖_ψ1 (time units).
    eta: ATA-Empirical's η ≥ max_i α_i/μ_i (dimensionless).
    discount: γ in (0, 1] of the discounted variants (1: no discounting).
    window: W, the rounds the windowed variants remember (at most their static capacity).
    prior_mean: float[n] estimates of μ from earlier runs that warm-start ATA and
      ATA-Empirical (time units), or None (start from nothing, as the paper's algorithm).
    prior_count: float[n] (or a scalar for all): how many samples each prior estimate is
      worth; the learners start with K_i = prior_count, μ̂_i = prior_mean.
    """

    alpha: jax.Array
    eta: jax.Array
    discount: jax.Array = 1.0
    window: jax.Array = 1
    prior_mean: jax.Array | None = None
    prior_count: jax.Array | None = None


class RoundOutcome(NamedTuple):
    """What one round cost (scalars, time units).

    proxy_loss is ℓ(a_k, μ) = max_i a_k,i·μ_i, NaN for a policy without an allocation (GTA).
    wasted_time is the time held by failed workers (see `ata_jax.rounds`), 0 without failures.
    """

    round_time: jax.Array
    worker_time: jax.Array
    proxy_loss: jax.Array
    wasted_time: jax.Array = 0.0


class Allocator(NamedTuple):
    init: Callable[[TimeModel, Hyperparameters], State]
    choose: Callable[[State, jax.Array, jax.Array], Assignment]
    observe: Callable[[State, Assignment, jax.Array, jax.Array], State]


class Policy(NamedTuple):
    """init(model, hyperparameters) -> state;
    play_round(state, round_number, task_key, policy_key, model) -> (state, RoundOutcome).

    round_number counts from 1. task_key draws the task times (shared by every policy within
    a seed: common random numbers); policy_key is the policy's own randomness.
    `allocates` is False for a policy without an allocation (no proxy regret).
    """

    init: Callable[[TimeModel, Hyperparameters], State]
    play_round: Callable[..., tuple[State, RoundOutcome]]
    allocates: bool = True


def as_policy(allocator: Allocator, budget: int) -> Policy:
    """The policy that plays `allocator`'s choice each round and feeds back the busy times."""

    def play_round(state, round_number, task_key, policy_key, model):
        assignment = allocator.choose(state, round_number, policy_key)
        result = play_assignment(model, task_key, assignment, budget, round_number)
        state = allocator.observe(state, assignment, result.busy_time, round_number)
        loss = assignment_proxy_loss(assignment, current_means(model, round_number))
        return state, RoundOutcome(result.round_time, result.worker_time, loss,
                                   result.wasted_time)

    return Policy(init=allocator.init, play_round=play_round, allocates=True)
