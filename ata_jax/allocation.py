"""The allocation problem argmin_a max_i a_i·s_i subject to Σa = B (spec §4), and its loss.

Water-filling: the optimal allocation gives worker i one task per value j·s_i (j = 1..B) among
the B smallest values of the grid {j·s_i}. Only the m = min(B, n) smallest scores can own one
of them, so we select those candidates first (`lax.top_k`, O(n log m), no sort of n scores),
then the B smallest cells of the B×m grid. Each selected cell (j, c) *is* a task: candidate c
does its j-th task of the round, so the solver returns the round's task list directly.

Zero rule (spec §4 Decision): if any score is 0, every allocation on Z = {i : s_i = 0} has
loss 0; B is spread as evenly as possible over Z (⌊B/|Z|⌋ each) and the remainder goes one each
to workers of Z chosen uniformly at random with the key (lowest indices when key is None).
Both cases run through the same two selections: in the zero case the candidates are the
members of Z in random-priority order, all with the same unit score, and `top_k` breaks the
resulting ties by position (documented: the lower index comes first).

Ties among positive grid values (two ℓ-optimal allocations) go to the lower level j first,
then to the candidate with the smaller score (then the lower index): the solver prefers
spreading tasks. The spec accepts any optimal allocation; this fixes OFTA's choice.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


class Assignment(NamedTuple):
    """A round's B tasks: task t runs on `worker[t]` as that worker's `slot[t]`-th task.

    worker: int32[B], in [0, n). slot: int32[B], 0-based; a worker with a_i tasks holds
    slots 0..a_i−1.
    """

    worker: jax.Array
    slot: jax.Array


def proxy_loss(allocation: jax.Array, means: jax.Array) -> jax.Array:
    """ℓ(a, μ) = max_i a_i·μ_i for allocation int[..., n] and means float[..., n] (time units)."""
    return jnp.max(allocation * jnp.asarray(means), axis=-1)


def assignment_counts(assignment: Assignment, num_workers: int) -> jax.Array:
    """The allocation int32[n]: how many of the round's tasks each worker runs."""
    return jnp.zeros(num_workers, jnp.int32).at[assignment.worker].add(1)


def assignment_proxy_loss(assignment: Assignment, means: jax.Array) -> jax.Array:
    """ℓ(a, μ) from a task list in O(B): max over tasks of (slot + 1)·μ_worker."""
    return jnp.max((assignment.slot + 1) * jnp.asarray(means)[assignment.worker])


def _check_concrete_scores(scores) -> None:
    """Reject negative or NaN scores when they are concrete (not traced)."""
    if isinstance(scores, jax.core.Tracer):
        return
    values = np.asarray(scores)
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"allocate: scores must be a non-empty array [n], got shape "
                         f"{values.shape}")
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("allocate: scores must be >= 0 and not NaN")


def assign(scores: jax.Array, budget: int, key: jax.Array | None = None) -> Assignment:
    """The optimal round as a task list: argmin_a max_i a_i·s_i with Σa = budget.

    Args:
      scores: float[n], s_i ≥ 0 (time units per task).
      budget: static int B ≥ 1.
      key: PRNG key for the zero rule's remainder; None picks the lowest indices.
    Returns:
      `Assignment` of B tasks (downward closed per worker: slots 0..a_i−1).
    """
    scores = jnp.asarray(scores)
    if not jnp.issubdtype(scores.dtype, jnp.floating):
        scores = scores.astype(jnp.float32)
    num_workers = scores.shape[-1]
    num_candidates = min(budget, num_workers)
    is_zero = scores == 0
    any_zero = jnp.any(is_zero)
    if key is None:
        priority = jnp.arange(num_workers, dtype=scores.dtype)
    else:
        priority = jax.random.uniform(key, (num_workers,), dtype=scores.dtype)
    order = jnp.where(any_zero, jnp.where(is_zero, priority, jnp.inf), scores)
    _, candidates = lax.top_k(-order, num_candidates)
    candidate_scores = jnp.where(any_zero, jnp.where(is_zero[candidates], 1.0, jnp.inf),
                                 scores[candidates])
    levels = jnp.arange(1, budget + 1, dtype=scores.dtype)[:, None] * candidate_scores[None, :]
    _, cells = lax.top_k(-levels.reshape(-1), budget)
    return Assignment(worker=candidates[cells % num_candidates].astype(jnp.int32),
                      slot=(cells // num_candidates).astype(jnp.int32))


def allocate(scores: jax.Array, budget: int, key: jax.Array | None = None) -> jax.Array:
    """argmin_a max_i a_i·s_i subject to Σa = budget, as int32[n] (spec §4).

    Zero scores: the budget is spread evenly over the zero-score workers, the remainder one
    each to zero-score workers chosen uniformly at random with `key` (deterministically, the
    lowest indices, when `key` is None). Works under `jit` and `vmap` with `budget` static;
    concrete inputs are checked (scores must be ≥ 0 and not NaN, budget ≥ 1).
    """
    if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 1:
        raise ValueError(f"allocate: budget must be an integer >= 1, got {budget!r}")
    _check_concrete_scores(scores)
    scores = jnp.asarray(scores)
    return assignment_counts(assign(scores, int(budget), key), scores.shape[-1])
