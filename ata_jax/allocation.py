"""The `cpu` allocation solver: argmin_a max_i a_i·s_i subject to Σa = B (spec §4), tuned for
XLA's CPU backend, and the loss. The same algorithm written to be read (and for accelerators)
is the `portable` solver, `ata_jax.portable`: start there; both give identical task lists.

Water-filling: the optimal allocation gives worker i one task per value j·s_i (j = 1..B) among
the B smallest values of the grid {j·s_i}. Only the m = min(B, n) smallest scores can own one
of them (for large n we select those first with `lax.top_k`, O(n log m), no sort of n
scores). The B-th smallest grid value t* (the level) is found by bisection on float bit
patterns, first with a cheap count Σ⌊t/s_i⌋ through reciprocals, then exactly within a few
ulps; each worker gets its cells below t* (`water_level`). The solver returns the round's
task list (worker, slot) directly.

Zero rule (spec §4 Decision): if any score is 0, every allocation on Z = {i : s_i = 0} has
loss 0; B is spread as evenly as possible over Z (⌊B/|Z|⌋ each) and the remainder goes one each
to distinct workers of Z drawn uniformly at random with the key (lowest indices when key is
None): Floyd's algorithm draws ranks within Z. Up to 128 workers both rules are one pipeline
(the zero rule is a level whose ties are drawn at random).

Ties at t* (two ℓ-optimal allocations) go to the lowest worker indices first, and the task
list is ordered worker by worker in index order, for any n: the paths for n ≤ 128 and
n > 128 give identical task lists, so a configuration padded with absent workers (score +inf:
never loaded) across that boundary is solved exactly as alone. The spec accepts any optimal
allocation; this fixes OFTA's choice.

Tuned for XLA's CPU backend (never measured on an accelerator): no sort, cumsum, scatter or
reduction along the worker axis in the loops (sums are dot products, `total`; ranks and
rank-to-position maps are population counts of bit-packed masks), and a batch runs only the
rule(s) some member needs. `benchmarks/benchmark.py --sections profile` shows the costs.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ata_jax.bitsets import (bit_of, drawn_rank_set, floyd_draw, members_by_rank,
                             prefix_ranks)


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


def distinct_ranks(random_bits: jax.Array | None, count: jax.Array, population: jax.Array,
                   size: int) -> jax.Array:
    """int32[size]: `count` ≤ size distinct values drawn uniformly from [0, population), as a
    list (`bitsets.floyd_draw`; entries past `count` are −1), for the zero rule's direct task
    list over many workers. With random_bits None, the lowest values 0..count−1."""
    steps = jnp.arange(size, dtype=jnp.int32)
    if random_bits is None:
        return jnp.where(steps < count, steps, -1)
    insert = lambda chosen, step, pick, valid: jnp.where(steps == step,
                                                         jnp.where(valid, pick, -1), chosen)
    return floyd_draw(random_bits, count, population, size, jnp.full((size,), -1, jnp.int32),
                      lambda chosen, value: jnp.any(chosen == value), insert)


def zero_shares(is_zero: jax.Array, budget: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The zero rule (spec §4 Decision) for bool[n] is_zero: (|Z| (at least 1), ⌊B/|Z|⌋ tasks
    for every member of Z, B mod |Z| remaining tasks, one each to distinct members of Z)."""
    size = jnp.maximum(count_true(is_zero), 1)
    return size, budget // size, budget % size


def ascending(values: jax.Array, valid: jax.Array) -> jax.Array:
    """int32[k]: the distinct entries of values int32[k] where valid, in ascending order,
    then zeros. Each entry's place is the count of smaller valid entries, and the list is
    read off with one select per place: O(k²) elementwise work for a short list (k ≤ B), no
    sort or scatter."""
    place = jnp.sum(valid[None, :] & (values[None, :] < values[:, None]), axis=-1)
    steps = jnp.arange(values.shape[-1], dtype=jnp.int32)
    chosen = valid[None, :] & (place[None, :] == steps[:, None])
    return jnp.sum(jnp.where(chosen, values[None, :], 0), axis=-1).astype(jnp.int32)


def zero_rule(is_zero: jax.Array, budget: int, random_bits: jax.Array | None) -> Assignment:
    """Spread B tasks evenly over Z = {i : is_zero_i}: ⌊B/|Z|⌋ each, the remainder one each to
    distinct members of Z drawn uniformly (Floyd's algorithm on ranks within Z, mapped to
    workers by `members_by_rank`).

    The tasks are listed worker by worker in index order, as the level pipeline of the small
    case lists them (so both give the same task list, and sums over it round alike): the
    loaded ranks are 0..|Z|−1 when every member gets a share (|Z| ≤ B), else the B drawn
    ranks in ascending order. O(n) elementwise work plus O(B²): no selection over n workers.
    """
    safe_size, share, remainder = zero_shares(is_zero, budget)
    extra = distinct_ranks(random_bits, remainder, safe_size, budget)
    place = jnp.arange(budget, dtype=jnp.int32)
    drawn = jnp.any(extra[None, :] == place[:, None], axis=-1)  # rank `place` got one more
    spread = share > 0
    ranks = jnp.where(spread, place, ascending(extra, extra >= 0))
    counts = jnp.where(spread, jnp.where(place < safe_size, share + drawn, 0),
                       (place < remainder).astype(jnp.int32))
    position, slot = tasks_from_counts(counts.astype(jnp.int32), budget)
    worker = members_by_rank(is_zero, jnp.clip(ranks[position], 0, safe_size - 1))
    return Assignment(worker=jnp.minimum(worker, is_zero.shape[-1] - 1),
                      slot=slot.astype(jnp.int32))


class WaterLevel(NamedTuple):
    """Where the optimal allocation's cells end, per position of a score vector [k].

    below: int32[k], each position's cells strictly below the level t* (tasks it surely
    gets). at_level: bool[k], positions with a cell exactly at t*. remaining: int32, the tasks
    still to give, one each to `remaining` ≤ Σ at_level positions of at_level (any choice is
    optimal).
    """

    below: jax.Array
    at_level: jax.Array
    remaining: jax.Array


def total(values: jax.Array) -> jax.Array:
    """Σ of float values[k] as a dot product with ones: under `vmap` a matrix-vector product,
    which XLA's CPU backend runs faster than a reduction along the minor axis
    (docs/performance.md). Exact for integer-valued terms (counts) whose sum is below 2²⁴."""
    return jnp.dot(values, jnp.ones(values.shape[-1], values.dtype),
                   precision=lax.Precision.HIGHEST)


def count_true(mask: jax.Array) -> jax.Array:
    """int32: the number of True entries of bool[k] (a dot product, see `total`; a select,
    not astype, since XLA's CPU backend converts bool slowly outside a fusion)."""
    return total(jnp.where(mask, 1.0, 0.0).astype(jnp.float32)).astype(jnp.int32)


def zero_spread(is_zero: jax.Array, budget: int) -> WaterLevel:
    """The zero rule as a level for bool[n] is_zero (some True): every member of Z gets its
    share below the level and is tied at it for the remaining tasks."""
    _, share, remainder = zero_shares(is_zero, budget)
    return WaterLevel(below=jnp.where(is_zero, share, 0).astype(jnp.int32),
                      at_level=is_zero, remaining=remainder.astype(jnp.int32))


def _as_bits(value: jax.Array) -> jax.Array:
    return lax.bitcast_convert_type(jnp.asarray(value, jnp.float32), jnp.int32)


def _as_float(bits: jax.Array) -> jax.Array:
    return lax.bitcast_convert_type(bits, jnp.float32)


def _cells_upto(threshold: jax.Array, scores: jax.Array, reciprocal: jax.Array) -> jax.Array:
    """float32[k]: #{j ≥ 1 : j·s_c ≤ threshold} per score, with j·s_c the float32 product
    (the same rounding as ℓ), so counting agrees exactly with comparing the grid values.
    `reciprocal` is 1/scores: ⌊threshold·(1/s)⌋ is off by at most one, corrected both ways
    (as float selects: the counts are summed with `total`)."""
    level = jnp.floor(threshold * reciprocal)
    level = jnp.where((level + 1) * scores <= threshold, level + 1, level)
    return jnp.where(level * scores > threshold, level - 1, level)


def cells_at_most(threshold: jax.Array, scores: jax.Array, reciprocal: jax.Array,
                  budget: int) -> jax.Array:
    """int32[k]: #{j ∈ 1..B : j·s_c ≤ threshold} per score (`_cells_upto`, at most B)."""
    return jnp.clip(_cells_upto(threshold, scores, reciprocal), 0, budget).astype(jnp.int32)


def _bisect(reaches_budget: Callable, low: jax.Array, high: jax.Array, steps: int) -> jax.Array:
    """The smallest bit pattern in (low, high] where the monotone `reaches_budget` holds,
    given that it fails at low and holds at high and the bracket is below 2**steps wide."""

    def halve(_, bounds):
        low, high = bounds
        middle = low + (high - low) // 2
        enough = reaches_budget(middle)
        return jnp.where(enough, low, middle), jnp.where(enough, middle, high)

    return lax.fori_loop(0, steps, halve, (low, high))[1]


APPROXIMATION_MARGIN = 8
"""Bit patterns (float32 ulps) within which the cheap count's steps lie of the exact ones."""


def water_level(scores: jax.Array, budget: int) -> WaterLevel:
    """The level of the optimal allocation for positive scores float[k] (spec §4).

    t*, the B-th smallest grid value j·s_c, is found by bisection on the bit patterns of
    positive float32 numbers (monotone as integers), in two phases. First the cheap count
    Σ⌊t·(1/s_c)⌋ (one multiply and a floor per score), whose steps lie within a few ulps of
    the exact count's (products rounded twice, relative error under 2⁻²²), bisected between
    the continuous-relaxation bounds B/H < t* ≤ min((B + k)/H, B·min s), H = Σ 1/s_c (since
    t·H − k < Σ⌊t/s_c⌋ ≤ t·H), widened by 2⁻¹⁰ for rounding: a bracket less than a
    factor (B + k)/B wide, so ⌈log₂(2²³·(log₂((B + k)/B) + 1))⌉ steps (25 for k = 51,
    B = 23) instead of 31. Then 5 steps with the exact count (`cells_at_most`) inside
    ±APPROXIMATION_MARGIN ulps of the cheap result. No sort, only elementwise work and sums
    taken as dot products (`total`).
    """
    reciprocal = 1.0 / scores
    upper = _as_bits(budget * jnp.min(scores))  # the fastest worker's B-th cell
    harmonic = total(reciprocal)
    low = jnp.maximum(_as_bits(budget / (harmonic * (1.0 + 2.0**-10))) - 1, 0)
    high = jnp.minimum(_as_bits((budget + scores.shape[-1]) / (harmonic * (1.0 - 2.0**-10))),
                       upper)
    ratio = (budget + scores.shape[-1]) / budget * (1.0 + 2.0**-8)
    steps = math.ceil(math.log2(2.0**23 * (math.log2(ratio) + 1.0) + 2.0))
    cheap = _bisect(lambda bits: total(jnp.floor(_as_float(bits) * reciprocal)) >= budget,
                    jnp.minimum(low, high - 1), high, min(steps, 31))
    cells = lambda bits: cells_at_most(_as_float(bits), scores, reciprocal, budget)
    level_bits = _bisect(lambda bits: total(_cells_upto(_as_float(bits), scores,
                                                        reciprocal)) >= budget,
                         jnp.maximum(cheap - APPROXIMATION_MARGIN - 1, 0),
                         jnp.minimum(cheap + APPROXIMATION_MARGIN, upper),
                         (2 * APPROXIMATION_MARGIN).bit_length())
    below = cells(level_bits - 1)
    at_level = cells(level_bits) > below
    return WaterLevel(below, at_level,
                      budget - total(below.astype(jnp.float32)).astype(jnp.int32))


def lowest_extras(level: WaterLevel) -> jax.Array:
    """bool[k]: the `remaining` lowest positions of at_level (ties to the lowest first)."""
    return level.at_level & (prefix_ranks(level.at_level) < level.remaining)


def random_extras(level: WaterLevel, random_bits: jax.Array) -> jax.Array:
    """bool[k]: `remaining` distinct positions of at_level drawn uniformly: Floyd's algorithm
    draws a set of ranks within at_level (`drawn_rank_set`); a position is drawn when its rank
    (`prefix_ranks`) is in it (no gather or scatter)."""
    size = jnp.maximum(count_true(level.at_level), 1)
    drawn = drawn_rank_set(random_bits, level.remaining, size,
                           -(-level.at_level.shape[-1] // 32))
    return level.at_level & bit_of(drawn, prefix_ranks(level.at_level))


def tasks_from_counts(counts: jax.Array, budget: int) -> tuple[jax.Array, jax.Array]:
    """(position int32[B], slot int32[B]): the B tasks of counts int32[k] (Σ = B), listed
    loaded position by position.

    The loaded positions in order come from `members_by_rank`; their running task counts
    (ends) from one matrix product. For B ≤ 32 the ends are one bit set: task t belongs to
    the loaded position numbered popcount(ends below t) and starts after the highest end
    below t (a count of leading zeros), all elementwise; larger budgets compare every task
    with every end.
    """
    loaded = counts > 0
    num_loaded = count_true(loaded)
    rank = jnp.arange(budget, dtype=jnp.int32)
    positions = members_by_rank(loaded, jnp.minimum(rank, num_loaded - 1))
    held = jnp.where(rank < num_loaded, counts[positions], 0)
    ends = jnp.dot(held.astype(jnp.float32), jnp.triu(jnp.ones((budget, budget), jnp.float32)),
                   precision=lax.Precision.HIGHEST).astype(jnp.int32)  # exact: ≤ B
    if budget <= 32:
        end_bits = jnp.where(rank < num_loaded, jnp.uint32(1) << (ends - 1).astype(jnp.uint32),
                             jnp.uint32(0))
        boundaries = jnp.sum(end_bits, dtype=jnp.uint32)  # distinct bits: the sum is the OR
        before = boundaries & ((jnp.uint32(1) << rank.astype(jnp.uint32)) - 1)
        owner = lax.population_count(before).astype(jnp.int32)
        slot = rank - (32 - lax.clz(before).astype(jnp.int32))
    else:
        owner = jnp.sum((ends[None, :] <= rank[:, None]).astype(jnp.int32), axis=1)
        slot = rank - (ends[owner] - held[owner])
    return positions[owner].astype(jnp.int32), slot


SMALL_WORKER_COUNT = 128
"""Up to this many workers, water-filling searches all of them; above it, it first selects
the min(B, n) smallest scores with `lax.top_k` (one pass over n is then cheaper than
thirty)."""


def _when_any(needed: jax.Array, compute: Callable, skipped: Callable):
    """compute() if any entry of `needed` is True, else skipped() (the same shapes): under
    `vmap` a batch none of whose members needs a part does not pay for it."""
    return lax.cond(jnp.any(needed), compute, skipped)


def _zeros_like_shapes(function: Callable) -> Callable:
    """A function returning zeros shaped like function()'s result (the skipped branch)."""
    return lambda: jax.tree.map(jnp.zeros_like, jax.eval_shape(function))


def _random_bits(key_data: jax.Array, budget: int, implementation) -> jax.Array:
    """uint32[S, B]: the zero rule's random bits from a batch of raw key data [S, ...]."""
    return jax.vmap(lambda data: jax.random.bits(
        jax.random.wrap_key_data(data, impl=implementation), (budget,), jnp.uint32))(key_data)


def _counts_batch(level: WaterLevel, choose_randomly: jax.Array | None,
                  random_bits: Callable[[], jax.Array]) -> jax.Array:
    """int32[S, k]: below + the extras of a batch of levels, drawn at random for the
    members with choose_randomly (the zero rule with a key), lowest first for the others;
    the random bits are drawn only when some member needs them."""
    lowest = jax.vmap(lowest_extras)(level)
    if choose_randomly is None:
        return level.below + lowest
    drawn = lambda: jax.vmap(random_extras)(level, random_bits())
    extra = _when_any(choose_randomly,
                      lambda: jnp.where(choose_randomly[:, None], drawn(), lowest),
                      lambda: lowest)
    return level.below + extra


def _assign_small_batch(scores, random_bits, budget, randomized) -> Assignment:
    """A batch of rounds, scores float[S, n] with n ≤ SMALL_WORKER_COUNT: one pipeline for
    both rules (the zero rule is a level whose ties are drawn at random), or water-filling
    alone when no member of the batch has a zero score, the common case once every worker
    has samples (its own branch, so that only the task list leaves it, which beat merely
    skipping the zero rule's part inside the shared pipeline: docs/performance.md)."""
    is_zero = scores == 0
    uses_zero_rule = jnp.any(is_zero, axis=-1)
    levels = lambda positive: jax.vmap(lambda s: water_level(s, budget))(
        positive.astype(jnp.float32))
    tasks = lambda counts: Assignment(*jax.vmap(lambda c: tasks_from_counts(c, budget))(counts))

    def water_filling_only():
        return tasks(_counts_batch(levels(scores), None, random_bits))

    def both_rules():
        filled = lambda: levels(jnp.where(is_zero, 1.0, scores))
        positive = _when_any(~uses_zero_rule, filled, _zeros_like_shapes(filled))
        zero = jax.vmap(lambda z: zero_spread(z, budget))(is_zero)
        choose_zero = lambda a, b: jnp.where(
            uses_zero_rule.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)
        level = jax.tree.map(choose_zero, zero, positive)
        return tasks(_counts_batch(level, uses_zero_rule if randomized else None, random_bits))

    return _when_any(uses_zero_rule, both_rules, water_filling_only)


def _assign_large_batch(scores, random_bits, budget, randomized) -> Assignment:
    """A batch of rounds, scores float[S, n] with n > SMALL_WORKER_COUNT: water-filling over
    the min(B, n) smallest scores (`lax.top_k`), the zero rule over all n workers; a batch
    runs only the rule(s) some member needs."""
    is_zero = scores == 0
    uses_zero_rule = jnp.any(is_zero, axis=-1)

    def zero_only():  # the task list directly: one rank-to-worker map over n, cheaper here
        # than the level pipeline of the small case (docs/performance.md)
        bits = random_bits() if randomized else jnp.zeros(is_zero.shape[:1] + (budget,),
                                                          jnp.uint32)
        return jax.vmap(lambda z, b: zero_rule(z, budget, b if randomized else None))(
            is_zero, bits)

    def positive_only():
        positive = jnp.where(is_zero, 1.0, scores)
        _, candidates = lax.top_k(-positive, min(budget, scores.shape[-1]))
        # in index order: ties at the level then go to the lowest indices and the tasks are
        # listed as the small case lists them (identical results on either side of 128)
        candidates = jax.vmap(lambda c: ascending(c, jnp.ones(c.shape, bool)))(candidates)
        level = jax.vmap(lambda s: water_level(s, budget))(
            jnp.take_along_axis(positive, candidates, axis=-1).astype(jnp.float32))
        counts = _counts_batch(level, None, random_bits)
        position, slot = jax.vmap(lambda c: tasks_from_counts(c, budget))(counts)
        return Assignment(worker=jnp.take_along_axis(candidates, position, axis=-1)
                          .astype(jnp.int32), slot=slot)

    # each rule once, skipped by a batch none of whose members needs it
    zero = _when_any(uses_zero_rule, zero_only, _zeros_like_shapes(zero_only))
    positive = _when_any(~uses_zero_rule, positive_only, _zeros_like_shapes(positive_only))
    return jax.tree.map(lambda a, b: jnp.where(uses_zero_rule[:, None], a, b), zero, positive)


@functools.cache
def _assign_function(budget: int, implementation):
    """assign(scores, key_data) for one budget and PRNG implementation (None: no key, ties
    to the lowest indices), with a batching rule that hands the whole batch to the batched
    solver (which skips the parts no member of the batch needs)."""
    randomized = implementation is not None

    def assign_batch(scores, key_data):
        solver = (_assign_small_batch if scores.shape[-1] <= SMALL_WORKER_COUNT
                  else _assign_large_batch)
        bits = lambda: _random_bits(key_data, budget, implementation)
        return solver(scores, bits, budget, randomized)

    @jax.custom_batching.custom_vmap
    def assign_one(scores, key_data):
        return jax.tree.map(lambda x: x[0], assign_batch(scores[None], key_data[None]))

    @assign_one.def_vmap
    def assign_batched(axis_size, in_batched, scores, key_data):
        scores = scores if in_batched[0] else jnp.broadcast_to(scores, (axis_size,) + scores.shape)
        key_data = (key_data if in_batched[1]
                    else jnp.broadcast_to(key_data, (axis_size,) + key_data.shape))
        return assign_batch(scores, key_data), Assignment(True, True)

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
        return _assign_function(budget, None)(scores, jnp.zeros((2,), jnp.uint32))
    if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)  # a raw uint32[2] key (jax.random.PRNGKey)
    return _assign_function(budget, jax.random.key_impl(key))(scores, jax.random.key_data(key))


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
