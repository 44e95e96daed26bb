"""The allocator interface: pure functions over an explicit state pytree.

An `Allocator` is three pure functions, like an optax transformation's init/update pair:

    init(model, hyperparameters) -> state     # learners read only model.size; oracles read μ
    choose(state, round_number, key) -> Assignment
    observe(state, assignment, busy_time, round_number) -> state

`as_policy` turns one into a `Policy`, the uniform thing the simulation scans: a function
playing one whole round. GTA is a `Policy` directly, since its round is a race rather than an
allocation. Adding an allocator is one module with a `policy(settings) -> Policy` function and
one entry in `ata_jax.allocators.registry`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax

from ata_jax.allocation import Assignment
from ata_jax.metrics import RoundOutcome
from ata_jax.solvers import solver
from ata_jax.timemodels import TimeModel

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
    spread: ν ≥ 0 of Thompson sampling's posterior, log μ̃_i ~ N(log μ̂_i, ν²/K_i)
      (dimensionless: the relative spread of one sample; `ata_jax.allocators.thompson`).
    explore_samples: m ≥ 1, the samples explore-then-commit takes of every worker before it
      commits (`ata_jax.allocators.explore_commit`).
    expected_optimum: int32[n], the allocation a*_E that minimises the expected round time
      (`ata_jax.expected`), or None: what `ofta-expected` plays and what the expected-time
      regret compares every round with.
    """

    alpha: jax.Array
    eta: jax.Array
    discount: jax.Array = 1.0
    window: jax.Array = 1
    prior_mean: jax.Array | None = None
    prior_count: jax.Array | None = None
    spread: jax.Array = 1.0
    explore_samples: jax.Array = 10.0
    expected_optimum: jax.Array | None = None


class PolicySettings(NamedTuple):
    """The static settings a policy is built with (they shape arrays or the program).

    budget: B, tasks per round. counting: "task" or "round", how the learners count samples
    (spec §2). window_capacity: the most rounds a windowed learner can remember (≥ the traced
    window W; 0 for a policy without a window). solver: "cpu" or "portable"
    (`ata_jax.solvers`), how rounds are allocated and played (the results are the same).
    confidence: "final" (the paper's conf, 2α·w) or "early" (the earlier poster's 4e·α·w,
    spec §9), for the policies whose registry entry offers it.
    """

    budget: int
    counting: str = "task"
    window_capacity: int = 0
    solver: str = "cpu"
    confidence: str = "final"


class Allocator(NamedTuple):
    init: Callable[[TimeModel, Hyperparameters], State]
    choose: Callable[[State, jax.Array, jax.Array], Assignment]
    observe: Callable[[State, Assignment, jax.Array, jax.Array], State]


class Policy(NamedTuple):
    """init(model, hyperparameters) -> state;
    play_round(state, round_number, task_key, policy_key, model) -> (state, RoundOutcome).

    round_number counts from 1. task_key draws the task times (shared by every policy within
    a seed: common random numbers); policy_key is the policy's own randomness.
    """

    init: Callable[[TimeModel, Hyperparameters], State]
    play_round: Callable[..., tuple[State, RoundOutcome]]


def as_policy(allocator: Allocator, settings: PolicySettings | int) -> Policy:
    """The policy that plays `allocator`'s choice each round (with the settings' solver; a
    plain budget B means the `cpu` solver) and feeds back the busy times."""
    if isinstance(settings, int):
        settings = PolicySettings(settings)
    budget, play_assignment = settings.budget, solver(settings.solver).play_assignment

    def play_round(state, round_number, task_key, policy_key, model):
        assignment = allocator.choose(state, round_number, policy_key)
        played = play_assignment(model, task_key, assignment, budget, round_number)
        state = allocator.observe(state, assignment, played.busy_time, round_number)
        return state, played.outcome

    return Policy(init=allocator.init, play_round=play_round)
