"""Bit sets (ata_jax.bitsets) and the zero rule's draws against NumPy and exact counts:
packing, rank/select, and Floyd's draw of distinct ranks (as a bit set and as a list)."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ata_jax.allocation import distinct_ranks
from ata_jax.bitsets import bit_of, drawn_rank_set, members_by_rank, packed_words, prefix_ranks


@pytest.mark.parametrize("n", [1, 5, 31, 32, 33, 64, 100, 459])
def test_members_by_rank_finds_the_rank_th_set_entry(n):
    rng = np.random.default_rng(n)
    masks = rng.uniform(size=(40, n)) < rng.uniform(0.05, 1.0, size=(40, 1))
    masks[:, rng.integers(0, n)] = True  # at least one member
    ranks = np.stack([rng.integers(0, m.sum(), size=7) for m in masks])
    found = np.asarray(jax.jit(jax.vmap(members_by_rank))(masks, ranks))
    for mask, rank, worker in zip(masks, ranks, found):
        np.testing.assert_array_equal(worker, np.flatnonzero(mask)[rank])


@pytest.mark.parametrize("n", [1, 5, 31, 32, 33, 64, 100, 459])
def test_prefix_ranks_count_the_set_entries_before_each_position(n):
    masks = np.random.default_rng(n).uniform(size=(40, n)) < 0.4
    ranks = np.asarray(jax.jit(jax.vmap(prefix_ranks))(masks))
    np.testing.assert_array_equal(ranks, np.cumsum(masks, axis=1) - masks)


def unpacked(words):
    """bool[..., 32·W]: the bit sets uint32[..., W] as masks (entry i is bit i mod 32 of word
    i // 32), in NumPy."""
    words = np.asarray(words, np.uint32)
    bits = (words[..., None] >> np.arange(32, dtype=np.uint32)) & 1
    return bits.reshape(words.shape[:-1] + (-1,)).astype(bool)


@pytest.mark.parametrize("n", [1, 31, 32, 33, 100, 459])
def test_packed_words_and_bit_of_against_numpy(n):
    rng = np.random.default_rng(n)
    masks = rng.uniform(size=(20, n)) < 0.5
    words = np.asarray(jax.jit(jax.vmap(packed_words))(masks))
    assert words.shape == (20, -(-n // 32)) and words.dtype == np.uint32
    np.testing.assert_array_equal(unpacked(words)[:, :n], masks)
    assert not unpacked(words)[:, n:].any()  # the padding is empty
    index = np.concatenate([np.arange(n), [-1]])  # −1: no entry, False
    np.testing.assert_array_equal(
        np.asarray(jax.jit(jax.vmap(lambda w: bit_of(w, jnp.asarray(index))))(words)),
        np.concatenate([masks, np.zeros((20, 1), bool)], axis=1))


def draw_pairs(num_words):
    """(count, population) pairs up to population 32·num_words: count 0, 1, half, all."""
    populations = sorted({1, 2, 31, 32, 33, 32 * num_words - 1, 32 * num_words} & set(
        range(1, 32 * num_words + 1)))
    pairs = {(count, population) for population in populations
             for count in (0, 1, population // 2, population - 1, population)}
    return np.array(sorted(pairs), np.int32).T


def draw_both(num_words, random_bits, counts, populations):
    """(bool[D, 32·W] masks of drawn_rank_set, int32[D, 32·W] lists of distinct_ranks):
    one draw per row of random_bits uint32[D, 32·W] with its count and population."""
    size = 32 * num_words
    as_set = jax.vmap(lambda b, c, p: drawn_rank_set(b, c, p, num_words))
    as_list = jax.vmap(lambda b, c, p: distinct_ranks(b, c, p, size))
    sets = jax.jit(as_set)(random_bits, counts, populations)
    return unpacked(sets), np.asarray(jax.jit(as_list)(random_bits, counts, populations))


def list_to_masks(lists, size):
    """bool[D, size]: the members of int32[D, k] lists of ranks (−1 entries are no member)."""
    masks = np.zeros((len(lists), size + 1), bool)
    np.put_along_axis(masks, np.where(lists < 0, size, lists), True, axis=1)
    return masks[:, :size]


@pytest.mark.parametrize("num_words", [1, 2, 4, 15])
def test_draws_are_count_distinct_ranks_below_the_population(num_words):
    size = 32 * num_words
    counts, populations = draw_pairs(num_words)
    counts, populations = np.tile(counts, 3), np.tile(populations, 3)  # 3 draws of each
    bits = jax.random.bits(jax.random.key(num_words), (len(counts), size), jnp.uint32)
    sets, lists = draw_both(num_words, bits, counts, populations)
    below = np.arange(size)[None, :] < populations[:, None]
    np.testing.assert_array_equal(sets.sum(axis=1), counts)
    assert not (sets & ~below).any()
    # the list form: `count` distinct ranks below the population first, then −1s
    listed = np.arange(size)[None, :] < counts[:, None]
    assert ((lists >= 0) == listed).all() and (lists < populations[:, None]).all()
    assert all(len(set(row[:count])) == count for row, count in zip(lists, counts))
    # the same random bits draw the same set in both forms (both are Floyd's algorithm)
    np.testing.assert_array_equal(list_to_masks(lists, size), sets)
    lowest = np.asarray(jax.jit(jax.vmap(lambda c: distinct_ranks(None, c, size, size)))(
        counts))
    np.testing.assert_array_equal(lowest, np.where(listed, np.arange(size), -1))


@pytest.mark.parametrize("count,population,num_words", [(3, 7, 1), (2, 33, 2)])
def test_every_subset_is_drawn_equally_often(count, population, num_words):
    """Floyd's algorithm draws each of the C(P, k) subsets with probability 1/C(P, k): a
    chi-square test on the subsets' counts, at a false-alarm level of 1e-6."""
    trials = 30_000
    bits = jax.random.bits(jax.random.key(count * population), (trials, 32 * num_words),
                           jnp.uint32)
    subsets = {subset: index for index, subset in
               enumerate(itertools.combinations(range(population), count))}
    for name, masks in zip(("set", "list"), draw_both(num_words, bits, np.full(trials, count),
                                                      np.full(trials, population))):
        if name == "list":
            masks = list_to_masks(masks, 32 * num_words)
        drawn = np.bincount([subsets[tuple(np.flatnonzero(m))] for m in masks],
                            minlength=len(subsets))
        statistic = stats.chisquare(drawn).statistic
        assert statistic < stats.chi2.isf(1e-6, len(subsets) - 1), (name, statistic)


@pytest.mark.parametrize("count,population,num_words", [
    (23, 50, 2), (40, 64, 2), (5, 128, 4), (23, 459, 15), (400, 459, 15)])
def test_each_rank_is_drawn_with_probability_count_over_population(count, population,
                                                                   num_words):
    """Per rank, the number of draws containing it is Binomial(trials, k/P): within 5
    binomial standard deviations (a false alarm below 1e-3 over every rank of every case)."""
    trials = 4000
    bits = jax.random.bits(jax.random.key(count + population), (trials, 32 * num_words),
                           jnp.uint32)
    probability = count / population
    tolerance = 5 * math.sqrt(probability * (1 - probability) / trials)
    for name, masks in zip(("set", "list"), draw_both(num_words, bits, np.full(trials, count),
                                                      np.full(trials, population))):
        if name == "list":
            masks = list_to_masks(masks, 32 * num_words)
        frequency = masks[:, :population].mean(axis=0)
        assert np.abs(frequency - probability).max() < tolerance, (name, frequency)
