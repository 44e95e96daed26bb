"""The expected-time oracle (spec §9, `ofta-expected`): it knows the task-time distributions
and plays, every round, the fixed allocation a*_E that minimises the expected round time
E[C(a)] (not the proxy loss ℓ, which OFTA minimises). a*_E is found once per model before
the simulation (`ata_jax.expected.expected_optimum`) and reaches the policy as the
`expected_optimum` hyperparameter.
"""

from __future__ import annotations

from ata_jax.allocation import Assignment, tasks_from_counts
from ata_jax.allocators.base import Allocator, Policy, PolicySettings, as_policy


def counts_assignment(counts, budget: int) -> Assignment:
    """The task list (`Assignment`) of an allocation int32[n] with Σ = B."""
    worker, slot = tasks_from_counts(counts, budget)
    return Assignment(worker, slot)


def allocator(budget: int) -> Allocator:
    def init(model, hyperparameters):
        if hyperparameters.expected_optimum is None:
            raise ValueError("ofta-expected plays the expected-time optimum: pass "
                             "Hyperparameters(expected_optimum=...) (ata_jax.expected)")
        return counts_assignment(hyperparameters.expected_optimum, budget)

    return Allocator(init=init,
                     choose=lambda assignment, round_number, key: assignment,
                     observe=lambda assignment, played, busy_time, round_number: assignment)


def policy(settings: PolicySettings) -> Policy:
    return as_policy(allocator(settings.budget), settings)
