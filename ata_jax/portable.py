"""The `portable` allocation solver: spec §4 as it reads, for any backend. Read this one first.

argmin_a max_i a_i·s_i subject to Σa = B. Worker i's j-th task ends at j·s_i (the grid of
cells), so the optimal allocation takes the B smallest cells: worker i gets every cell below
the water level t* (the B-th smallest cell) and, among the workers with a cell exactly at t*,
the lowest indices get the tasks still missing. Only the m = min(B, n) smallest scores can
own a cell at or below t*, so the grid is [m, B]. Zero scores (spec §4 Decision): B is
spread evenly over the zero-score workers Z, ⌊B/|Z|⌋ each, the remainder one each to distinct
members of Z drawn uniformly (Floyd's algorithm on the random bits, lowest first without
them). The task list is ordered worker by worker in index order.

Every step is a sort, `top_k`, comparison or sum of a few hundred values, with loops of a
static trip count written out: no while loop and no conditional, so the compiled program is
one straight line per round on any device. It gives exactly the task lists of the `cpu`
solver (`ata_jax.allocation`, tuned for XLA's CPU backend): the cells are the same float32
products and the ties go the same way (tests/test_portable.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ata_jax.allocation import Assignment


def smallest_scores(scores: jax.Array, count: int) -> jax.Array:
    """int32[count]: the indices of the `count` smallest scores, in index order (among equal
    scores the lowest indices)."""
    return jnp.sort(lax.top_k(-scores, count)[1]).astype(jnp.int32)


def water_filling(scores: jax.Array, budget: int) -> jax.Array:
    """int32[k]: the optimal allocation of B tasks over positive scores float32[k].

    t* is the B-th smallest of the cells j·s_c (j = 1..B, float32 products: the rounding of
    the proxy loss ℓ); each score gets its cells below t*, then the `remaining` lowest
    positions with a cell at t* one more each.
    """
    cells = scores[:, None] * jnp.arange(1, budget + 1, dtype=scores.dtype)  # [k, B]
    level = jnp.sort(cells.reshape(-1))[budget - 1]
    below = jnp.sum(cells < level, axis=1, dtype=jnp.int32)
    at_level = jnp.any(cells == level, axis=1)
    remaining = budget - jnp.sum(below)
    return below + (at_level & (jnp.cumsum(at_level) <= remaining))


def floyd_ranks(random_bits: jax.Array, count: jax.Array, population: jax.Array) -> jax.Array:
    """int32[B]: `count` ≤ B distinct ranks drawn uniformly from [0, population) by Floyd's
    algorithm (`bitsets.floyd_draw`: step t draws v in [0, top], top = population − count + t,
    and takes top if v was taken), written out over the B steps; −1 past `count`."""
    steps = random_bits.shape[-1]
    place = jnp.arange(steps)
    chosen = jnp.full(steps, -1, jnp.int32)
    for step in range(steps):
        top = population - count + step
        value = (random_bits[step] % jnp.maximum(top + 1, 1).astype(jnp.uint32)).astype(
            jnp.int32)
        pick = jnp.where(jnp.any(chosen == value), top, value)
        chosen = jnp.where((place == step) & (step < count), pick, chosen)
    return chosen


def zero_rule(is_zero: jax.Array, budget: int, random_bits: jax.Array | None) -> jax.Array:
    """int32[n]: B spread over Z = {i : is_zero_i} (some True), ⌊B/|Z|⌋ each, and the
    remainder one each to the members of Z whose rank within Z was drawn (the lowest ranks
    with random_bits None)."""
    size = jnp.maximum(jnp.sum(is_zero, dtype=jnp.int32), 1)
    share, remainder = budget // size, budget % size
    rank = jnp.cumsum(is_zero, dtype=jnp.int32) - 1  # of each member within Z
    if random_bits is None:
        extra = rank < remainder
    else:
        drawn = floyd_ranks(random_bits, remainder, size)
        extra = jnp.any(rank[:, None] == drawn[None, :], axis=1)
    return jnp.where(is_zero, share + extra, 0).astype(jnp.int32)


def task_list(counts: jax.Array, budget: int) -> tuple[jax.Array, jax.Array]:
    """(position int32[B], slot int32[B]): the tasks of counts int32[k] (Σ = B), listed
    position by position: task t belongs to the position whose running count first exceeds t."""
    ends = jnp.cumsum(counts)
    task = jnp.arange(budget, dtype=jnp.int32)
    position = jnp.sum(ends[None, :] <= task[:, None], axis=1, dtype=jnp.int32)
    return position, task - (ends[position] - counts[position])


def assign(scores: jax.Array, budget: int, key: jax.Array | None = None) -> Assignment:
    """The optimal round's task list for scores float[n] ≥ 0 (spec §4), as
    `ata_jax.allocation.assign` gives it.

    key: PRNG key for the zero rule's remainder (its B random words are the `cpu` solver's);
    None gives the remainder to the lowest indices. Both rules are computed and one is
    selected: no conditional.
    """
    scores = jnp.asarray(scores, jnp.float32)
    random_bits = None
    if key is not None:
        if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.wrap_key_data(key)  # a raw uint32[2] key (jax.random.PRNGKey)
        random_bits = jax.random.bits(key, (budget,), jnp.uint32)
    is_zero = scores == 0
    positive = jnp.where(is_zero, 1.0, scores)
    candidates = smallest_scores(positive, min(budget, scores.shape[-1]))
    position, slot = task_list(water_filling(positive[candidates], budget), budget)
    zero_position, zero_slot = task_list(zero_rule(is_zero, budget, random_bits), budget)
    uses_zero_rule = jnp.any(is_zero)
    return Assignment(worker=jnp.where(uses_zero_rule, zero_position, candidates[position]),
                      slot=jnp.where(uses_zero_rule, zero_slot, slot).astype(jnp.int32))
