"""OFTA (spec §5): the oracle that knows μ and plays a*_ℓ = argmin_a ℓ(a, μ) every round."""

from __future__ import annotations

from ata_jax.allocation import assign
from ata_jax.allocators.base import Allocator, Policy, as_policy


def allocator(budget: int) -> Allocator:
    return Allocator(
        init=lambda model, hyperparameters: assign(model.mean, budget),
        choose=lambda assignment, round_number, key: assignment,
        observe=lambda assignment, played, busy_time: assignment,
    )


def policy(budget: int) -> Policy:
    return as_policy(allocator(budget), budget)
