"""The allocation problem argmin_a max_i a_i·s_i subject to Σa = B (spec §4), and its loss.

Water-filling: the optimal allocation gives worker i one task per value j·s_i (j = 1..B) among
the B smallest values of the grid {j·s_i}. Only the m = min(B, n) smallest scores can own one
of them (for large n we select those first with `lax.top_k`, O(n log m), no sort of n
scores). The B-th smallest grid value t* is found by bisection on float bit patterns with
exact counting, and each worker gets its cells up to t*: no sort, only elementwise work.
The solver returns the round's task list (worker, slot) directly.

Zero rule (spec §4 Decision): if any score is 0, every allocation on Z = {i : s_i = 0} has
loss 0; B is spread as evenly as possible over Z (⌊B/|Z|⌋ each) and the remainder goes one each
to distinct workers of Z drawn uniformly at random with the key (lowest indices when key is
None): Floyd's algorithm draws ranks within Z and bit-packed population counts map ranks to
workers, with no selection over the n workers.

Ties at t* (two ℓ-optimal allocations) go to the lowest positions first: the lowest worker
indices (for large n, the smallest scores). The spec accepts any optimal allocation; this
fixes OFTA's choice.
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
    positive = values[values > 0]
    if positive.size and (positive.min() < np.finfo(np.float32).tiny
                          or positive.max() > np.finfo(np.float32).max / 2**11):
        raise ValueError("allocate: positive scores must lie in [1.2e-38, 1.6e34] (float32 "
                         "normal numbers, with room for B·s); rescale them (the allocation "
                         "does not change when all scores are multiplied by one constant)")


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


SMALL_WORKER_COUNT = 128
"""Up to this many workers, water-filling searches all of them; above it, it first selects
the min(B, n) smallest scores with `lax.top_k` (one pass over n is then cheaper than
thirty)."""


def cells_at_most(threshold: jax.Array, scores: jax.Array, budget: int) -> jax.Array:
    """int32[k]: #{j ∈ 1..B : j·s_c ≤ threshold} per score, with j·s_c the float32 product
    (the same rounding as ℓ), so counting agrees exactly with comparing the grid values."""
    level = jnp.floor(threshold / scores)
    level = jnp.where((level + 1) * scores <= threshold, level + 1, level)
    level = jnp.where(level * scores > threshold, level - 1, level)
    return jnp.clip(level, 0, budget).astype(jnp.int32)


def water_level_counts(scores: jax.Array, budget: int) -> jax.Array:
    """int32[k]: the optimal task counts for positive scores float[k] (Σ = B).

    The B-th smallest grid value t* is found by bisection on the bit patterns of positive
    float32 numbers (monotone as integers) between 0 and B·min s, with exact counting: 31
    steps of O(k) elementwise work, no sort.
    Each worker gets its cells below t*; cells equal to t* go to the lowest positions first.
    """
    upper = jnp.float32(budget) * jnp.min(scores)  # the fastest worker's B-th cell
    as_bits = lambda value: lax.bitcast_convert_type(value.astype(jnp.float32), jnp.int32)
    as_float = lambda bits: lax.bitcast_convert_type(bits, jnp.float32)
    count = lambda bits: jnp.sum(cells_at_most(as_float(bits), scores, budget))

    def halve(_, bounds):
        low, high = bounds  # count(low) < B <= count(high)
        middle = low + (high - low) // 2
        enough = count(middle) >= budget
        return jnp.where(enough, low, middle), jnp.where(enough, middle, high)

    _, level_bits = lax.fori_loop(0, 31, halve, (jnp.int32(0), as_bits(upper)))
    below = cells_at_most(as_float(level_bits - 1), scores, budget)
    at_level = cells_at_most(as_float(level_bits), scores, budget) > below
    remaining = budget - jnp.sum(below)
    last = members_by_rank(at_level, jnp.maximum(remaining - 1, 0)[None])[0]
    extra = at_level & (jnp.arange(scores.shape[-1]) <= last) & (remaining > 0)
    return below + extra.astype(jnp.int32)


def tasks_from_counts(counts: jax.Array, budget: int) -> tuple[jax.Array, jax.Array]:
    """(position int32[B], slot int32[B]): the B tasks of counts int32[k] (Σ = B), listed
    loaded position by position."""
    loaded = counts > 0
    rank = jnp.minimum(jnp.arange(budget, dtype=jnp.int32),
                       jnp.sum(loaded.astype(jnp.int32)) - 1)
    positions = members_by_rank(loaded, rank)
    held = jnp.where(jnp.arange(budget) < jnp.sum(loaded), counts[positions], 0)
    ends = held @ jnp.triu(jnp.ones((budget, budget), jnp.int32))
    task = jnp.arange(budget, dtype=jnp.int32)
    owner = jnp.sum((ends[None, :] <= task[:, None]).astype(jnp.int32), axis=1)
    slot = task - (ends[owner] - held[owner])
    return positions[owner], slot


def water_filling(scores: jax.Array, budget: int) -> Assignment:
    """The optimal task list for positive scores float[n] (spec §4)."""
    if scores.shape[-1] <= SMALL_WORKER_COUNT:
        candidates, candidate_scores = None, scores
    else:
        negative, candidates = lax.top_k(-scores, min(budget, scores.shape[-1]))
        candidate_scores = -negative
    position, slot = tasks_from_counts(water_level_counts(candidate_scores, budget), budget)
    worker = position if candidates is None else candidates[position]
    return Assignment(worker=worker.astype(jnp.int32), slot=slot)


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
    return _allocate_compiled(jnp.asarray(scores), int(budget), key)


@functools.partial(jax.jit, static_argnames="budget")
def _allocate_compiled(scores, budget, key):
    return assignment_counts(assign(scores, budget, key), scores.shape[-1])
