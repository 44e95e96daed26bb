"""The paper's synthetic problem: f(x) = ½xᵀAx − bᵀx, A tridiagonal, noisy gradients.

The authors' rebuttal gives d = 100, gradient noise σ = 0.01 and stepsize γ = 10⁻⁴, but not A.
**Choice of A**: A = λ_min·I + s·L with L = tridiag(−1, 2, −1) (the 1-D discrete Laplacian,
eigenvalues 2 − 2cos(πj/(d+1)), j = 1..d, all in (0, 4)) and s = (λ_max − λ_min)/4, so the
spectrum of A lies in (λ_min, λ_max) = (10, 1010) by default. Why these values: plain gradient
descent at γ = 10⁻⁴ shrinks f − f* along eigenvector j by (1 − γλ_j)² per round, so the slowest
direction loses a factor e^(−2γλ_min) = e^(−0.002) per round (e^(−20) over 10⁴ rounds): the
curve converges visibly within a 10⁴-round horizon, and γλ_max ≈ 0.1 keeps every direction
stable (γλ_max < 2). b = (1, …, 1), x_0 = 0, so f(x_0) − f* = ½bᵀA⁻¹b ≈ 5.

With additive noise σ·ξ per task (ξ ~ N(0, I_d)) averaged over B tasks, SGD levels off at
E[f − f*] ≈ d·γ·σ²/(4B) (≈ 1.1·10⁻⁸ for B = 23): linear convergence, then a noise floor.

x* = A⁻¹b and f* = −½bᵀx* are solved in float64 (`numpy.linalg.solve`); the metric is
f(x) − f* computed as ½(x − x*)ᵀA(x − x*), which equals it exactly for a quadratic and keeps
float32 accuracy near the optimum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ata_jax.training.problem import SUBOPTIMALITY, Problem


def tridiagonal_matrix(dimension: int, smallest: float, largest: float) -> np.ndarray:
    """A = smallest·I + (largest − smallest)/4 · tridiag(−1, 2, −1), float64[d, d]."""
    scale = (largest - smallest) / 4.0
    matrix = np.diag(np.full(dimension, smallest + 2.0 * scale))
    off_diagonal = np.full(dimension - 1, -scale)
    return matrix + np.diag(off_diagonal, 1) + np.diag(off_diagonal, -1)


def tridiagonal_product(diagonal: jax.Array, off_diagonal: jax.Array, x: jax.Array) -> jax.Array:
    """A·x for a symmetric tridiagonal A given by its diagonal [d] and off-diagonal [d−1]."""
    product = diagonal * x
    product = product.at[:-1].add(off_diagonal * x[1:])
    return product.at[1:].add(off_diagonal * x[:-1])


def make_quadratic(dimension: int = 100, noise: float = 0.01, smallest_eigenvalue: float = 10.0,
                   largest_eigenvalue: float = 1010.0, learning_rate: float = 1e-4) -> Problem:
    """The quadratic problem (module docstring); noise is σ, the per-task gradient noise."""
    if dimension < 2:
        raise ValueError(f"quadratic: dimension must be >= 2, got {dimension}")
    if not 0 < smallest_eigenvalue < largest_eigenvalue:
        raise ValueError("quadratic: need 0 < smallest_eigenvalue < largest_eigenvalue, got "
                         f"{smallest_eigenvalue} and {largest_eigenvalue}")
    if not noise >= 0:
        raise ValueError(f"quadratic: noise must be >= 0, got {noise}")
    matrix = tridiagonal_matrix(dimension, smallest_eigenvalue, largest_eigenvalue)
    linear = np.ones(dimension)
    optimal_point = np.linalg.solve(matrix, linear)
    optimal_value = float(-0.5 * linear @ optimal_point)
    diagonal = jnp.asarray(np.diag(matrix), jnp.float32)
    off_diagonal = jnp.asarray(np.diag(matrix, 1), jnp.float32)
    b = jnp.asarray(linear, jnp.float32)
    x_star = jnp.asarray(optimal_point, jnp.float32)

    def initial_parameters(key):
        """x_0 = 0, float32[d] (the same for every seed)."""
        del key
        return jnp.zeros(dimension, jnp.float32)

    def gradient(x):
        """∇f(x) = Ax − b, float32[d]."""
        return tridiagonal_product(diagonal, off_diagonal, x) - b

    def task_gradient(x, key):
        """One task: ∇f(x) + σ·ξ, ξ ~ N(0, I_d) drawn from the task's key."""
        return gradient(x) + noise * jax.random.normal(key, x.shape, x.dtype)

    def suboptimality(x):
        """f(x) − f* = ½(x − x*)ᵀA(x − x*), a float32 scalar."""
        error = x - x_star
        return 0.5 * error @ tridiagonal_product(diagonal, off_diagonal, error)

    return Problem(
        name="quadratic", initial_parameters=initial_parameters, task_gradient=task_gradient,
        metric=suboptimality, metric_name=SUBOPTIMALITY,
        default_learning_rates={"sgd": learning_rate, "adam": 1e-3},
        settings=dict(dimension=dimension, noise=noise, smallest_eigenvalue=smallest_eigenvalue,
                      largest_eigenvalue=largest_eigenvalue, linear_term="ones",
                      initial_point="zeros"),
        optimal_value=optimal_value, optimal_point=optimal_point)


def quadratic_value(matrix: np.ndarray, linear: np.ndarray, x: np.ndarray) -> float:
    """f(x) = ½xᵀAx − bᵀx in float64 (for checks against the closed form)."""
    return float(0.5 * x @ matrix @ x - linear @ x)
