"""The allocation problem argmin_a max_i a_i·s_i subject to Σa = B (spec §4), and its loss.

Water-filling: the optimal allocation gives worker i one task per value j·s_i (j = 1..B) among
the B smallest values of the grid {j·s_i}. Only the m = min(B, n) smallest scores can own one
of them, so we select those candidates first (`lax.top_k`, O(n log m), no sort of n scores),
then the B smallest cells of the grid; the candidate of rank r can own at most ⌊B/(r+1)⌋
cells, so only ~B·ln B cells are searched. Each selected cell (j, c) *is* a task: candidate c
does its j-th task of the round, so the solver returns the round's task list directly.

Zero rule (spec §4 Decision): if any score is 0, every allocation on Z = {i : s_i = 0} has
loss 0; B is spread as evenly as possible over Z (⌊B/|Z|⌋ each) and the remainder goes one each
to distinct workers of Z drawn uniformly at random with the key (lowest indices when key is
None): Floyd's algorithm draws ranks within Z and bit-packed population counts map ranks to
workers, with no selection over the n workers.

Ties among positive grid values (two ℓ-optimal allocations) go to the lower level j first,
then to the candidate with the smaller score (then the lower index): the solver prefers
spreading tasks. The spec accepts any optimal allocation; this fixes OFTA's choice.
"""

from __future__ import annotations

import functools
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


def members_by_rank(mask: jax.Array, ranks: jax.Array) -> jax.Array:
    """int32[k]: the index of the ranks[j]-th True entry (0-based) of bool[n] mask.

    The mask is packed into 32-bit words; a rank finds its word by the words' running
    population counts and its bit by a five-step binary search on population counts: O(n)
    packing plus O(k·n/32) work, no cumsum, scatter or sort. Ranks must be < mask.sum().
    """
    n = mask.shape[-1]
    num_words = -(-n // 32)
    bits = jnp.pad(mask, (0, num_words * 32 - n)).reshape(num_words, 32).astype(jnp.uint32)
    words = jnp.sum(bits << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32)
    counts = lax.population_count(words).astype(jnp.int32)
    inclusive = counts @ jnp.triu(jnp.ones((num_words, num_words), jnp.int32))
    word = jnp.minimum(jnp.sum(inclusive[None, :] <= ranks[:, None], axis=1), num_words - 1)
    remaining = ranks - (inclusive[word] - counts[word])
    packed = words[word]
    position = jnp.zeros_like(ranks)
    for width in (16, 8, 4, 2, 1):
        low = (packed >> position.astype(jnp.uint32)) & jnp.uint32((1 << width) - 1)
        below = lax.population_count(low).astype(jnp.int32)
        skip = below <= remaining
        remaining = jnp.where(skip, remaining - below, remaining)
        position = jnp.where(skip, position + width, position)
    return (word * 32 + position).astype(jnp.int32)


def distinct_ranks(random_bits: jax.Array | None, count: jax.Array, population: jax.Array,
                   size: int) -> jax.Array:
    """int32[size]: `count` ≤ size distinct values drawn uniformly from [0, population).

    Floyd's algorithm (one pass of `size` steps, no rejection, no sort); entries past `count`
    are −1. With random_bits None, the lowest values 0..count−1 (deterministic). The modulo
    draw is uniform up to a bias below population/2³², negligible here.
    """
    steps = jnp.arange(size, dtype=jnp.int32)
    if random_bits is None:
        return jnp.where(steps < count, steps, -1)
    chosen = jnp.full((size,), -1, jnp.int32)
    for step in range(size):
        top = population - count + step
        draw = (random_bits[step] % jnp.maximum(top + 1, 1).astype(jnp.uint32)).astype(jnp.int32)
        pick = jnp.where(jnp.any(chosen == draw), top, draw)
        chosen = chosen.at[step].set(jnp.where(step < count, pick, -1))
    return chosen


def zero_rule(is_zero: jax.Array, budget: int, random_bits: jax.Array | None) -> Assignment:
    """Spread B tasks evenly over Z = {i : is_zero_i}: ⌊B/|Z|⌋ each, the remainder one each to
    distinct members of Z drawn uniformly (Floyd's algorithm on ranks within Z, mapped to
    workers by `members_by_rank`).

    O(n) elementwise work plus O(B²): no selection over n workers.
    """
    size = jnp.sum(is_zero.astype(jnp.int32))
    safe_size = jnp.maximum(size, 1)
    share = jnp.where(size > budget, 0, budget // safe_size)
    remainder = jnp.where(size > budget, budget, budget % safe_size)
    extra = distinct_ranks(random_bits, remainder, safe_size, budget)
    task = jnp.arange(budget, dtype=jnp.int32)
    even = share * safe_size
    rank = jnp.where(task < even, task % safe_size, extra[jnp.maximum(task - even, 0)])
    slot = jnp.where(task < even, task // safe_size, share)
    worker = members_by_rank(is_zero, jnp.clip(rank, 0, safe_size - 1))
    return Assignment(worker=jnp.minimum(worker, is_zero.shape[-1] - 1), slot=slot.astype(jnp.int32))


@functools.cache
def _grid_cells(budget: int, num_candidates: int) -> tuple[np.ndarray, np.ndarray]:
    """Static (level, rank) cells that can hold a task: level·(rank + 1) ≤ B, level-major.

    The candidate of rank r (r earlier candidates with scores ≤ its own) holds at most
    ⌊B/(r+1)⌋ tasks, since each earlier candidate holds at least as many; so ~B·ln B cells
    replace the full B×m grid.
    """
    cells = [(level, rank) for level in range(1, budget + 1) for rank in range(num_candidates)
             if level * (rank + 1) <= budget]
    levels, ranks = np.array(cells, dtype=np.int32).T
    return levels, ranks


def water_filling(scores: jax.Array, budget: int) -> Assignment:
    """The optimal task list for positive scores float[n] (spec §4)."""
    num_candidates = min(budget, scores.shape[-1])
    negative, candidates = lax.top_k(-scores, num_candidates)
    levels, ranks = _grid_cells(budget, num_candidates)
    values = levels.astype(scores.dtype) * (-negative)[ranks]
    _, cells = lax.top_k(-values, budget)
    return Assignment(worker=candidates[jnp.asarray(ranks)[cells]].astype(jnp.int32),
                      slot=(jnp.asarray(levels)[cells] - 1).astype(jnp.int32))


def _select_assignment(use_zero_rule, zero: Assignment, positive: Assignment) -> Assignment:
    return jax.tree.map(lambda a, b: jnp.where(use_zero_rule[..., None], a, b), zero, positive)


@functools.cache
def _assign_function(budget: int, randomized: bool):
    """assign(scores, bits) for one budget, with a batching rule that runs, per batch of
    scores, only the branch(es) some member needs (zero rule, water-filling, or both)."""

    def both(scores, bits):
        is_zero = scores == 0
        zero = zero_rule(is_zero, budget, bits if randomized else None)
        positive = water_filling(jnp.where(is_zero, 1.0, scores), budget)
        return _select_assignment(jnp.any(is_zero), zero, positive)

    @jax.custom_batching.custom_vmap
    def assign_one(scores, bits):
        return both(scores, bits)

    @assign_one.def_vmap
    def assign_batch(axis_size, in_batched, scores, bits):
        scores = scores if in_batched[0] else jnp.broadcast_to(scores, (axis_size,) + scores.shape)
        bits = bits if in_batched[1] else jnp.broadcast_to(bits, (axis_size,) + bits.shape)
        has_zero = jnp.any(scores == 0, axis=-1)
        zero_only = lambda: jax.vmap(lambda s, b: zero_rule(s == 0, budget,
                                                            b if randomized else None))(scores,
                                                                                        bits)
        positive_only = lambda: jax.vmap(lambda s: water_filling(s, budget))(scores)
        mixed = lambda: jax.vmap(both)(scores, bits)
        result = lax.cond(jnp.all(has_zero), zero_only,
                          lambda: lax.cond(jnp.any(has_zero), mixed, positive_only))
        return result, Assignment(True, True)

    return assign_one


def assign(scores: jax.Array, budget: int, key: jax.Array | None = None) -> Assignment:
    """The optimal round as a task list: argmin_a max_i a_i·s_i with Σa = budget.

    Args:
      scores: float[n], s_i ≥ 0 (time units per task).
      budget: static int B ≥ 1.
      key: PRNG key for the zero rule's remainder; None picks the lowest indices.
    Returns:
      `Assignment` of B tasks (downward closed per worker: slots 0..a_i−1).

    Under `vmap`, a batch in which every member has a zero score runs only the zero rule,
    and one in which none has runs only water-filling (`lax.cond` on the whole batch).
    """
    scores = jnp.asarray(scores)
    if not jnp.issubdtype(scores.dtype, jnp.floating):
        scores = scores.astype(jnp.float32)
    if key is None:
        bits = jnp.zeros((budget,), jnp.uint32)
    else:
        bits = jax.random.bits(key, (budget,), jnp.uint32)
    return _assign_function(budget, key is not None)(scores, bits)


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
