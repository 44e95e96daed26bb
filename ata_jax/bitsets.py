"""Bit sets: bool masks packed 32 entries per uint32 word, and rank/select on them.

The allocation needs "the j-th member of a set" (select), "how many members come before
this one" (rank) and "draw k distinct members at random"; over a mask of n workers the
obvious forms (cumsum, sort, scatter, gather) are slow on XLA's CPU backend. Packed into
⌈n/32⌉ words, all three are population counts and one select per word: elementwise work
that XLA fuses and vectorizes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def packed_words(mask: jax.Array) -> jax.Array:
    """uint32[⌈n/32⌉]: bool[n] mask packed 32 entries per word (entry i is bit i mod 32)."""
    n = mask.shape[-1]
    num_words = -(-n // 32)
    bits = jnp.pad(mask, (0, num_words * 32 - n)).reshape(num_words, 32).astype(jnp.uint32)
    return jnp.sum(bits << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32)


def select_word(words: jax.Array, word_index: jax.Array) -> jax.Array:
    """words[word_index] for uint32[W] words and int index arrays, as W selects (no gather)."""
    chosen = jnp.zeros(jnp.shape(word_index), jnp.uint32)
    for index in range(words.shape[-1]):
        chosen = jnp.where(word_index == index, words[..., index], chosen)
    return chosen


def bit_of(words: jax.Array, index: jax.Array) -> jax.Array:
    """bool[...]: bit `index` of the bit set uint32[W] (index < 32·W; −1 gives False)."""
    own_word = select_word(words, jnp.where(index >= 0, index >> 5, -1))
    return ((own_word >> (index & 31).astype(jnp.uint32)) & 1) == 1


def members_by_rank(mask: jax.Array, ranks: jax.Array) -> jax.Array:
    """int32[k]: the index of the ranks[j]-th True entry (0-based) of bool[n] mask.

    The mask is packed into 32-bit words; a rank finds its word by the words' running
    population counts (one select per word) and its bit by a five-step binary search on
    population counts: O(n) packing plus O(k·(n/32 + 5)) elementwise work, no cumsum,
    scatter, gather or sort. Ranks must be < mask.sum().
    """
    words = packed_words(mask)
    counts = lax.population_count(words).astype(jnp.int32)
    word = jnp.zeros_like(ranks)
    remaining = ranks
    packed = jnp.zeros(jnp.shape(ranks), jnp.uint32)
    before = 0
    for index in range(words.shape[-1]):
        here = (ranks >= before) & (ranks < before + counts[..., index])
        word = jnp.where(here, index, word)
        remaining = jnp.where(here, ranks - before, remaining)
        packed = jnp.where(here, words[..., index], packed)
        before = before + counts[..., index]
    position = jnp.zeros_like(ranks)
    for width in (16, 8, 4, 2, 1):
        low = (packed >> position.astype(jnp.uint32)) & jnp.uint32((1 << width) - 1)
        below = lax.population_count(low).astype(jnp.int32)
        skip = below <= remaining
        remaining = jnp.where(skip, remaining - below, remaining)
        position = jnp.where(skip, position + width, position)
    return (word * 32 + position).astype(jnp.int32)


def prefix_ranks(mask: jax.Array) -> jax.Array:
    """int32[n]: #{j < i : mask_j} for each position i of bool[n] mask (the rank of a True
    entry among the True entries, 0-based). The mask is packed into 32-bit words; a position's
    rank is the population count of the words before its own plus that of the bits below it
    in its own word: O(n) elementwise work, no cumsum, gather or scatter."""
    n = mask.shape[-1]
    words = packed_words(mask)
    word_counts = lax.population_count(words).astype(jnp.int32)
    pieces, before_pieces, running = [], [], 0
    for index in range(words.shape[-1]):  # position i reads word i // 32 (static layout)
        width = min(32, n - 32 * index)
        pieces.append(jnp.broadcast_to(words[..., index, None], words.shape[:-1] + (width,)))
        before_pieces.append(jnp.broadcast_to(jnp.asarray(running)[..., None],
                                              words.shape[:-1] + (width,)))
        running = running + word_counts[..., index]
    own_word = jnp.concatenate(pieces, axis=-1)
    words_before = jnp.concatenate(before_pieces, axis=-1)
    bits_below = jnp.asarray([(1 << (i % 32)) - 1 for i in range(n)], jnp.uint32)
    return words_before + lax.population_count(own_word & bits_below).astype(jnp.int32)


def floyd_draw(random_bits: jax.Array, count: jax.Array, population: jax.Array, steps: int,
               empty, contains, insert):
    """Floyd's algorithm: `count` ≤ steps distinct values drawn uniformly from
    [0, population), in one pass of `steps` steps with no rejection and no sort.

    Step t (t < count) draws v uniformly from [0, top], top = population − count + t, and
    takes v unless it was taken already, in which case it takes top (which cannot have been).
    The set's representation is the caller's: empty, contains(chosen, value) -> bool and
    insert(chosen, step, value, valid) -> chosen (valid is False for steps ≥ count). The
    modulo draw is uniform up to a bias below population/2³², negligible here.
    """

    def draw(step, chosen):
        top = population - count + step
        modulus = jnp.maximum(top + 1, 1).astype(jnp.uint32)
        value = (random_bits[step] % modulus).astype(jnp.int32)
        pick = jnp.where(contains(chosen, value), top, value)
        return insert(chosen, step, pick, step < count)

    # a rolled loop: unrolled, XLA fuses the chain of steps into their consumers and
    # recomputes it per element
    return lax.fori_loop(0, steps, draw, empty)


def drawn_rank_set(random_bits: jax.Array, count: jax.Array, population: jax.Array,
                   num_words: int) -> jax.Array:
    """uint32[num_words]: a bit set of `count` distinct ranks drawn uniformly from
    [0, population) ≤ 32·num_words (`floyd_draw`, the set itself answering "drawn already?";
    min(B, 32·num_words) steps)."""
    word_index = jnp.arange(num_words, dtype=jnp.int32)

    def insert(words, step, pick, valid):
        new_bit = jnp.where((word_index == (pick >> 5)) & valid,
                            jnp.uint32(1) << (pick & 31).astype(jnp.uint32), jnp.uint32(0))
        return words | new_bit

    return floyd_draw(random_bits, count, population,
                      min(random_bits.shape[-1], 32 * num_words),  # count ≤ both
                      jnp.zeros(num_words, jnp.uint32), bit_of, insert)
