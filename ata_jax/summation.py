"""Compensated (Kahan–Babuška–Neumaier) float32 accumulation for long-run totals.

A plain float32 running sum of 10⁶+ per-round times drifts by ~1e-4 relative; carrying the
lost low-order bits in a second float keeps the total within a few ulps of the exact sum,
so long simulations stay in float32 (fast on every accelerator) without losing accuracy.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class CompensatedSum(NamedTuple):
    """A running sum: `total` plus the rounding error `compensation` not yet folded in."""

    total: jax.Array
    compensation: jax.Array


def compensated_zeros(shape=(), dtype=jnp.float32) -> CompensatedSum:
    return CompensatedSum(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))


def compensated_add(accumulator: CompensatedSum, value: jax.Array) -> CompensatedSum:
    """accumulator + value (elementwise): Neumaier's two-sum (robust when |value| > |total|),
    then the pair renormalised so that |compensation| stays within an ulp of |total|."""
    total, compensation = accumulator
    value = jnp.asarray(value, total.dtype)
    new_total = total + value
    lost = jnp.where(jnp.abs(total) >= jnp.abs(value),
                     (total - new_total) + value,
                     (value - new_total) + total)
    # fold the compensation back in at once (a fast two-sum): left to grow, it would itself
    # become a plain float32 sum and stall once it passes 2^24 of the terms' size
    carried = compensation + lost
    folded = new_total + carried
    return CompensatedSum(folded, carried - (folded - new_total))


def compensated_value(accumulator: CompensatedSum) -> jax.Array:
    """The accumulated sum, compensation folded in."""
    return accumulator.total + accumulator.compensation
