"""ψ1 (sub-exponential Orlicz) norms of centred random variables, in float64 on the host.

‖Y‖_ψ1 = inf{c > 0 : E exp(|Y|/c) ≤ 2}. For a worker-time X with mean μ the allocators need
α = ‖X − μ‖_ψ1 (spec §1). The norm scales linearly (‖θY‖ = θ‖Y‖), so every family reduces
to a *standardised* variable whose norm is computed once, by quadrature of E exp(|Y|/c)
(scipy.integrate.quad, split at the mean) and a bracketed root of E exp(|Y|/c) = 2
(scipy.optimize.brentq). None of this runs inside `jit`: it is computed when a model is built.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Callable

from scipy import integrate, optimize, special


MAX_BRACKET_STEPS = 60
"""Halvings or doublings a bracket search may take (2⁶⁰ spans any float32 ratio)."""


def orlicz_expectation(log_density: Callable[[float], float], lower: float, upper: float,
                       mean: float, c: float) -> float:
    """E exp(|X − mean|/c) for X with log-density `log_density` on [lower, upper].

    Bounds may be infinite; the exponent is summed in log space so that neither factor
    overflows on its own.
    """
    def integrand(x):
        return math.exp(min(abs(x - mean) / c + log_density(x), 700.0))

    total = 0.0
    for a, b in ((lower, mean), (mean, upper)):
        if a < b:
            with warnings.catch_warnings():
                # the tolerances are far below float32's; at large gamma shapes quad warns
                # about its last digits (the norms stay smooth in the shape to 1e-4)
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                value, _ = integrate.quad(integrand, a, b, limit=400, epsabs=1e-13,
                                          epsrel=1e-11)
            total += value
    return total


def psi1_norm(log_density: Callable[[float], float], lower: float, upper: float, mean: float,
              tail_scale: float = 0.0) -> float:
    """‖X − mean‖_ψ1 for X with the given log-density on [lower, upper].

    `tail_scale` is the rate-limit of an exponential right tail (density ~ exp(−x/θ) gives
    θ): E exp(|X − μ|/c) is infinite for c ≤ θ, so the root is searched above it.
    """
    def excess(c):
        return math.log(orlicz_expectation(log_density, lower, upper, mean, c)) - math.log(2.0)

    return root_above(excess, tail_scale)


def root_above(excess: Callable[[float], float], limit: float) -> float:
    """The c > limit with excess(c) = 0, for excess decreasing from above 0 near `limit` (0
    or an exponential tail's rate limit) to below 0: a bracket found by doubling and
    halving towards the limit, each capped at MAX_BRACKET_STEPS so that no parameter can
    make it run forever (ArithmeticError then), and Brent's method inside it."""
    low = limit * 1.05 if limit > 0 else 1e-3
    high = max(low * 2.0, 1.0)
    for _ in range(MAX_BRACKET_STEPS):
        if not excess(high) > 0:
            break
        high *= 2.0
    else:
        raise ArithmeticError(f"no upper bracket below {high:g}")
    for _ in range(MAX_BRACKET_STEPS):  # approach the limit until the bracket holds
        if not excess(low) < 0:
            break
        low = limit + 0.5 * (low - limit)
    else:
        raise ArithmeticError(f"no lower bracket above {low:g}")
    return optimize.brentq(excess, low, high, xtol=1e-14, rtol=1e-12)


@functools.cache
def exponential_unit() -> float:
    """‖E − 1‖_ψ1 for E ~ Exp(mean 1) (≈ 1.5313; scale by the exponential's mean)."""
    return psi1_norm(lambda x: -x, 0.0, math.inf, 1.0, tail_scale=1.0)


@functools.cache
def uniform_unit() -> float:
    """‖U − ½‖_ψ1 for U ~ Uniform(0, 1) (scale by the width): the root of c(e^{1/(2c)} − 1) = 1."""
    return optimize.brentq(lambda c: c * math.expm1(0.5 / c) - 1.0, 0.05, 10.0, xtol=1e-15)


@functools.cache
def half_normal_unit() -> float:
    """‖|Z| − √(2/π)‖_ψ1 for Z standard normal (scale by the half-normal's scale)."""
    log_density = lambda x: 0.5 * math.log(2.0 / math.pi) - 0.5 * x * x
    return psi1_norm(log_density, 0.0, math.inf, math.sqrt(2.0 / math.pi))


@functools.cache
def gamma_unit(shape: float) -> float:
    """‖G − shape‖_ψ1 for G ~ Gamma(shape, scale 1) (scale by the gamma's scale)."""
    log_normaliser = math.lgamma(shape)
    log_density = lambda x: (shape - 1.0) * math.log(x) - x - log_normaliser if x > 0 else -math.inf
    return psi1_norm(log_density, 0.0, math.inf, shape, tail_scale=1.0)


def truncated_lognormal_mean(log_mean: float, log_std: float, upper: float) -> float:
    """E[Y | Y ≤ upper] for Y = exp(log_mean + log_std·Z); `upper` = inf for no truncation."""
    if math.isinf(upper):
        return math.exp(log_mean + 0.5 * log_std**2)
    bound = (math.log(upper) - log_mean) / log_std
    return (math.exp(log_mean + 0.5 * log_std**2) * special.ndtr(bound - log_std)
            / special.ndtr(bound))


@functools.cache
def lognormal_unit(log_std: float, bound: float) -> float:
    """‖Y − E Y‖_ψ1 for Y = exp(log_std·Z) conditioned on Z ≤ bound (scale by e^log_mean).

    An untruncated lognormal (bound = inf) is not sub-exponential: the norm is infinite.
    """
    if math.isinf(bound):
        return math.inf
    upper = math.exp(log_std * bound)
    log_mass = math.log(special.ndtr(bound))
    log_normaliser = math.log(log_std * math.sqrt(2.0 * math.pi)) + log_mass

    def log_density(y):
        if y <= 0:
            return -math.inf
        return -math.log(y) - 0.5 * (math.log(y) / log_std) ** 2 - log_normaliser

    mean = truncated_lognormal_mean(0.0, log_std, upper)
    return psi1_norm(log_density, 0.0, upper, mean)



def empirical_norm(values, centred: bool = True) -> float:
    """‖X − mean‖_ψ1 for X uniform on the given sample (float64, host): the t > 0 with
    mean(exp(|x − x̄|/t)) = 2 (0 if all values are equal). centred=False: ‖X‖_ψ1, with
    |x| for |x − x̄| (the earlier poster's α, spec §9).

    With d = |x − x̄| and D = max d over m values, the root lies in [D/ln(2m), D/ln 2]:
    mean exp(d/t) ≥ exp(D/t)/m and ≤ exp(D/t). The mean is summed in log space.
    """
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    distance = np.abs(values - values.mean() if centred else values)
    largest = float(distance.max())
    if largest == 0.0:
        return 0.0
    log_size = math.log(values.size)

    def excess(t):
        return float(special.logsumexp(distance / t)) - log_size - math.log(2.0)

    low, high = largest / math.log(2.0 * values.size), largest / math.log(2.0)
    if excess(high) >= 0.0:  # only when one value differs from the rest (then t = high)
        return high
    return optimize.brentq(excess, low, high, xtol=1e-14 * largest, rtol=1e-12)


# ----------------------------------------------------------------------------- uncentred

@functools.cache
def _uncentred_unit(family: str, shape: tuple[float, ...]) -> float:
    """‖Y‖_ψ1 (not centred) of a family standardised to scale 1 (`uncentred_norm`), from
    log E exp(Y/t) in closed form (quadrature for the truncated lognormal)."""
    log2 = math.log(2.0)
    if family == "exponential":        # shift + Exp(mean 1)
        (shift,) = shape
        return root_above(lambda t: shift / t - math.log1p(-1.0 / t) - log2, 1.0)
    if family == "gamma":              # shift + Gamma(shape, scale 1)
        shift, gamma_shape = shape
        return root_above(
            lambda t: shift / t - gamma_shape * math.log1p(-1.0 / t) - log2, 1.0)
    if family == "uniform":            # Uniform(low, 1)
        (low,) = shape
        width = 1.0 - low
        return root_above(
            lambda t: 1.0 / t + math.log(t * -math.expm1(-width / t) / width) - log2, 0.0)
    if family == "half-normal":        # shift + |Z|
        (shift,) = shape
        return root_above(
            lambda t: shift / t + log2 + 0.5 / t**2 + math.log(special.ndtr(1.0 / t)) - log2,
            0.0)
    if family == "lognormal":          # shift + exp(log_std·Z) given Z ≤ bound
        shift, log_std, bound = shape
        if math.isinf(bound):
            return math.inf
        log_mass = math.log(special.ndtr(bound))

        def log_expectation(t):        # over z: E exp((shift + e^{σz})/t | z ≤ bound)
            top = (shift + math.exp(log_std * bound)) / t

            def integrand(z):
                return math.exp((shift + math.exp(log_std * z)) / t - top - 0.5 * z * z)

            with warnings.catch_warnings():  # as in orlicz_expectation: its last digits
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                value, _ = integrate.quad(integrand, -math.inf, bound, limit=400, epsabs=0.0,
                                          epsrel=1e-11)
            return top + math.log(value) - 0.5 * math.log(2.0 * math.pi) - log_mass

        return root_above(lambda t: log_expectation(t) - log2, 0.0)
    raise ValueError(f"no uncentred ψ1 norm for family {family!r}")


def uncentred_norm(family: str, row) -> float:
    """‖X‖_ψ1 of the worker time X itself (not X − μ), the earlier poster's α (spec §9), for a
    worker of `family` with the parameter row of `ata_jax.timemodels` (float64, host).

    Every family is scaled to unit scale first (‖θY‖ = θ‖Y‖), so the presets' workers, which
    differ only in scale, share one quadrature: ‖1 + Exp(1)‖_ψ1 ≈ 3.1754 for `cifar`.
    A constant c has ‖c‖_ψ1 = c/ln 2.
    """
    if family == "constant":
        return row[0] / math.log(2.0)
    if family == "exponential":
        shift, mean = row[0], row[1]
        return mean * _uncentred_unit(family, (shift / mean,))
    if family == "uniform":
        low, high = row[0], row[1]
        return high * _uncentred_unit(family, (low / high,))
    if family == "half-normal":
        shift, scale = row[0], row[1]
        return scale * _uncentred_unit(family, (shift / scale,))
    if family == "gamma":
        shift, shape, scale = row[0], row[1], row[2]
        return scale * _uncentred_unit(family, (shift / scale, shape))
    if family == "lognormal":
        shift, log_mean, log_std, upper = row
        scale = math.exp(log_mean)
        bound = math.inf if math.isinf(upper) else (math.log(upper) - log_mean) / log_std
        return scale * _uncentred_unit(family, (shift / scale, log_std, bound))
    raise ValueError(f"no uncentred ψ1 norm for family {family!r}")


def empirical_uncentred_norm(values) -> float:
    """‖X‖_ψ1 for X uniform on the given sample (`empirical_norm`, not centred)."""
    return empirical_norm(values, centred=False)
