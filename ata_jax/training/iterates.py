"""Synchronous minibatch SGD iterates: one optax step per round on B averaged task gradients.

Vmapped over seeds, scanned over rounds (a `lax.scan` over checkpoints, each running its
segment's rounds in a `lax.fori_loop`), jitted; the metric and evaluations are computed only at
the checkpoints. The iterates do not depend on the allocator (spec §6): the allocator decides
which worker runs a task, not what the task computes.

Keys: seed j's key is `ata_jax.simulate.seed_keys(seed, S)[j]`, the simulation's. Training
uses root = fold_in(seed key, 0) (the simulation's rounds fold in k ≥ 1, so the streams are
separate): x_0 from fold_in(root, 0), round k's task in slot u from
fold_in(fold_in(root, k), u).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from ata_jax.training.decimation import CheckpointSchedule
from ata_jax.training.problem import Problem

OPTIMIZERS = {"sgd": optax.sgd, "adam": optax.adam}
"""Optimiser name -> optax constructor taking the learning rate."""


class TrainingDivergedError(RuntimeError):
    """The iterates or the metric stopped being finite (a learning rate too large)."""


class IterateRecord(NamedTuple):
    """Measurements at the checkpoints, NumPy float64.

    metric: [S, P]. evaluations: name -> [S, P]. first_nonfinite_round: int64[S], the first
    round after which some parameter was NaN or ±inf (0: never). compile_s, run_s: seconds.
    """

    metric: np.ndarray
    evaluations: dict
    first_nonfinite_round: np.ndarray
    compile_s: float
    run_s: float


def make_optimizer(name: str, learning_rate: float) -> optax.GradientTransformation:
    """optax.sgd or optax.adam with `learning_rate`; other names are a ValueError."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning rate must be a finite number > 0, got {learning_rate}")
    return OPTIMIZERS[name](learning_rate)


def all_finite(tree) -> jax.Array:
    """True when every entry of every leaf is finite."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def seed_iterates(problem: Problem, optimizer: optax.GradientTransformation, seed_key: jax.Array,
                  *, budget: int, schedule: CheckpointSchedule):
    """One seed: (metric float32[P], evaluations {name: float32[P]}, first non-finite round)."""
    root = jax.random.fold_in(seed_key, 0)
    slots = jnp.arange(budget)
    gradients_of_tasks = jax.vmap(problem.task_gradient, in_axes=(None, 0))

    def one_round(carry, round_number):
        parameters, optimizer_state, first_nonfinite = carry
        round_key = jax.random.fold_in(root, round_number)
        task_keys = jax.vmap(lambda slot: jax.random.fold_in(round_key, slot))(slots)
        gradient = jax.tree.map(lambda tasks: tasks.mean(axis=0),
                                gradients_of_tasks(parameters, task_keys))
        updates, optimizer_state = optimizer.update(gradient, optimizer_state, parameters)
        parameters = optax.apply_updates(parameters, updates)
        first_nonfinite = jnp.where((first_nonfinite == 0) & ~all_finite(parameters),
                                    round_number, first_nonfinite)
        return (parameters, optimizer_state, first_nonfinite), None

    def measure(parameters):
        return (problem.metric(parameters),
                {name: evaluate(parameters) for name, evaluate in problem.evaluations.items()})

    def checkpoint(carry, segment):
        """Run the segment's rounds (first_round, first_round + 1, …; length may be 0), then
        measure: the metric and evaluations are traced once, whatever the schedule."""
        first_round, length = segment
        carry = lax.fori_loop(0, length,
                              lambda offset, state: one_round(state, first_round + offset)[0],
                              carry)
        return carry, measure(carry[0])

    lengths = np.diff(schedule.rounds, prepend=0).astype(np.int32)  # 0, L, …, L[, remainder]
    first_rounds = (schedule.rounds - lengths + 1).astype(np.int32)
    parameters = problem.initial_parameters(jax.random.fold_in(root, 0))
    carry = (parameters, optimizer.init(parameters), jnp.int32(0))
    carry, (metric, evaluations) = lax.scan(checkpoint, carry,
                                            (jnp.asarray(first_rounds), jnp.asarray(lengths)))
    return metric, evaluations, carry[2]


def compute_iterates(problem: Problem, optimizer: optax.GradientTransformation,
                     keys: jax.Array, *, budget: int,
                     schedule: CheckpointSchedule) -> IterateRecord:
    """`seed_iterates` vmapped over keys [S] and jitted; compile and run timed apart."""
    run = jax.jit(jax.vmap(lambda key: seed_iterates(problem, optimizer, key, budget=budget,
                                                     schedule=schedule)))
    start = time.perf_counter()
    compiled = run.lower(keys).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    metric, evaluations, first_nonfinite = jax.block_until_ready(compiled(keys))
    run_s = time.perf_counter() - start
    return IterateRecord(np.asarray(metric, np.float64),
                         {name: np.asarray(values, np.float64)
                          for name, values in evaluations.items()},
                         np.asarray(first_nonfinite, np.int64), compile_s, run_s)
