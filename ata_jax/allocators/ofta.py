"""OFTA (spec §5): the oracle that knows μ and plays a*_ℓ = argmin_a ℓ(a, μ) every round;
and `ofta-moving`, the oracle that knows the current means of a non-stationary model."""

from __future__ import annotations

from ata_jax.allocation import assign as cpu_assign
from ata_jax.allocators.base import Allocator, Policy, PolicySettings, as_policy
from ata_jax.solvers import solver
from ata_jax.timemodels import current_means


def allocator(budget: int, assign=cpu_assign) -> Allocator:
    return Allocator(
        init=lambda model, hyperparameters: assign(model.mean, budget),
        choose=lambda assignment, round_number, key: assignment,
        observe=lambda assignment, played, busy_time, round_number: assignment,
    )


def policy(settings: PolicySettings) -> Policy:
    return as_policy(allocator(settings.budget, solver(settings.solver).assign), settings)


def moving_allocator(budget: int, assign=cpu_assign) -> Allocator:
    """The oracle that knows the current means μ_k each round (non-stationary models)."""
    return Allocator(
        init=lambda model, hyperparameters: model,
        choose=lambda model, round_number, key: assign(current_means(model, round_number),
                                                       budget),
        observe=lambda model, played, busy_time, round_number: model,
    )


def moving_policy(settings: PolicySettings) -> Policy:
    return as_policy(moving_allocator(settings.budget, solver(settings.solver).assign),
                     settings)
