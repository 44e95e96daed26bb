"""ATA (spec §2): allocate on lower confidence bounds s_i = max(μ̂_i − c·α·w_i, 0).

c = 2 in the paper's final constants; the earlier poster (spec §9) states c = 4e with α a
bound on the uncentred ‖X_i‖_ψ1 (`--confidence early`; `timemodels.uncentred_alpha`).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ata_jax.allocators.base import Policy, PolicySettings, as_policy
from ata_jax.allocators.confidence import (SampleStatistics, confidence_width,
                                           lower_confidence_allocator)
from ata_jax.solvers import solver

CONFIDENCE_FACTORS = {"final": 2.0, "early": 4.0 * math.e}
"""c of each confidence: the width of the bound is c·α·w_i."""


def lcb(statistics: SampleStatistics, round_number: jax.Array, alpha: jax.Array,
        factor: float = CONFIDENCE_FACTORS["final"]) -> jax.Array:
    """float[n]: max(μ̂_i − c·α(√(ln(2k²)/K_i) + ln(2k²)/K_i), 0), and 0 where K_i = 0
    (c = `factor`: 2 for the final confidence, 4e for the early one)."""
    width = confidence_width(statistics.count, round_number)
    bound = jnp.maximum(statistics.mean - factor * alpha * width, 0.0)
    return jnp.where(statistics.count > 0, bound, 0.0)


def policy(settings: PolicySettings, discounted: bool = False) -> Policy:
    """The policy; `discounted` discounts old samples by γ; a window capacity > 0 in the
    settings keeps only the last W rounds' samples (sliding window); settings.confidence
    picks the constant c."""
    bound = functools.partial(lcb, factor=CONFIDENCE_FACTORS[settings.confidence])
    return as_policy(lower_confidence_allocator(settings.budget, settings.counting, bound,
                                                "alpha", discounted,
                                                settings.window_capacity,
                                                solver(settings.solver).assign), settings)
