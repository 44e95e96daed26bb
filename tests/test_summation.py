"""The float32 compensated totals stay within 1e-6 of the exact sum over the longest run the
limits allow (K = limits.MAX_ROUNDS terms)."""

import functools

import jax
import jax.numpy as jnp
import pytest
from jax import lax

from ata_jax.limits import MAX_ROUNDS
from ata_jax.summation import compensated_add, compensated_value, compensated_zeros

FRACTION_BITS = 23


def term_bits(k):
    """uint32 in [0, 2²³): a scrambled 23-bit pattern of the term index k (Knuth's hash)."""
    return (k.astype(jnp.uint32) * jnp.uint32(2654435761)) >> jnp.uint32(32 - FRACTION_BITS)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def long_sum(length: int, offset: float, scale: float):
    """(the compensated float32 sum of `length` terms scale·(offset + bits_k·2⁻²³), the exact
    sum of the bits as two uint32 words (low, high) with carry). Each term is exact in float32
    for offset 0 or 1 and a power-of-two scale, so only the summation can err."""
    def add(k, carry):
        total, low, high = carry
        bits = term_bits(k)
        term = scale * (offset + bits.astype(jnp.float32) * jnp.float32(2.0**-FRACTION_BITS))
        new_low = low + bits
        return compensated_add(total, term), new_low, high + (new_low < low).astype(jnp.uint32)

    initial = (compensated_zeros(), jnp.uint32(0), jnp.uint32(0))
    total, low, high = lax.fori_loop(0, length, add, initial, unroll=16)
    return compensated_value(total), low, high


def relative_error(length: int, offset: float, scale: float = 1.0) -> float:
    total, low, high = (int(value) if index else float(value)
                        for index, value in enumerate(long_sum(length, offset, scale)))
    exact = scale * (length * offset + (high * 2**32 + low) * 2.0**-FRACTION_BITS)
    return abs(total - exact) / exact


@pytest.mark.parametrize("offset, scale", [(0.0, 1.0), (1.0, 1.0), (1.0, 2.0**20)])
def test_compensated_sum_of_16_million_terms_is_within_1e_6(offset, scale):
    assert relative_error(2**24, offset, scale) < 1e-6


def test_a_plain_float32_sum_would_fail_the_same_check():
    """The check has teeth: 2²⁵ ones summed naively in float32 stall at 2²⁴."""
    naive = lax.fori_loop(0, 2**25, lambda k, total: total + jnp.float32(1), jnp.float32(0))
    assert abs(float(naive) - 2**25) / 2**25 > 0.1


@pytest.mark.slow
def test_compensated_sum_at_the_round_limit_is_within_1e_6():
    """2²⁸ terms in [1, 2), the most rounds a run accepts (about 40 s on one core); without
    renormalising the compensation the error was 0.33 already at 2²⁶ terms."""
    assert relative_error(MAX_ROUNDS, 1.0) < 1e-6
