"""The `Problem` record: what the training loop needs from an optimisation problem.

A problem is a bundle of pure JAX functions over a parameter pytree (closing over their data),
so one jitted loop serves every problem:

    initial_parameters(key) -> params            # x_0 (may use the seed's key, e.g. a network)
    task_gradient(params, key) -> grads          # one task's stochastic gradient, same pytree
    metric(params) -> float scalar               # what the curves show (see `metric_name`)
    evaluations[name](params) -> float scalar    # extra measurements, e.g. test accuracy

A round averages B task gradients at x_k (B = the allocator's budget) and takes one optimiser
step; the key of each task depends only on (seed, round, task slot), never on the allocator.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import jax

Params = Any
"""A pytree of float arrays (a vector for the quadratic, a list of layers for a network)."""

SUBOPTIMALITY = "suboptimality"
"""`metric_name` of a problem whose optimum f* is known: metric = f(x) − f* (≥ 0)."""

TRAINING_LOSS = "training loss"
"""`metric_name` of a problem without a known optimum: metric = the full training loss."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """An optimisation problem with stochastic gradients (see the module docstring).

    name: the `PROBLEMS` name. metric_name: SUBOPTIMALITY or TRAINING_LOSS.
    default_learning_rates: optimiser name ('sgd', 'adam') -> learning rate used when none is
    given. preferred_optimizer: the optimiser this problem is meant to be trained with.
    settings: every option that defined it (JSON-friendly), for results files.
    optimal_value, optimal_point: f* and x* where known (None otherwise).
    """

    name: str
    initial_parameters: Callable[[jax.Array], Params]
    task_gradient: Callable[[Params, jax.Array], Params]
    metric: Callable[[Params], jax.Array]
    metric_name: str
    default_learning_rates: Mapping[str, float]
    preferred_optimizer: str = "sgd"
    evaluations: Mapping[str, Callable[[Params], jax.Array]] = dataclasses.field(
        default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    optimal_value: float | None = None
    optimal_point: Any = None
