"""ATA (spec §2): allocate on lower confidence bounds s_i = max(μ̂_i − 2α·w_i, 0)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ata_jax.allocators.base import Policy, PolicySettings, as_policy
from ata_jax.allocators.confidence import (SampleStatistics, confidence_width,
                                           lower_confidence_allocator)
from ata_jax.solvers import solver


def lcb(statistics: SampleStatistics, round_number: jax.Array, alpha: jax.Array) -> jax.Array:
    """float[n]: max(μ̂_i − 2α(√(ln(2k²)/K_i) + ln(2k²)/K_i), 0), and 0 where K_i = 0."""
    width = confidence_width(statistics.count, round_number)
    bound = jnp.maximum(statistics.mean - 2.0 * alpha * width, 0.0)
    return jnp.where(statistics.count > 0, bound, 0.0)


def policy(settings: PolicySettings, discounted: bool = False) -> Policy:
    """The policy; `discounted` discounts old samples by γ; a window capacity > 0 in the
    settings keeps only the last W rounds' samples (sliding window)."""
    return as_policy(lower_confidence_allocator(settings.budget, settings.counting, lcb,
                                                "alpha", discounted,
                                                settings.window_capacity,
                                                solver(settings.solver).assign), settings)
