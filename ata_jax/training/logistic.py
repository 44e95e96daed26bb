"""ℓ2-regularised logistic regression on a fixed synthetic dataset, f* solved numerically.

Data (fixed by `data_seed`, the same for every training seed): features a_j ~ N(0, I_d),
labels y_j ∈ {−1, +1} with P(y_j = +1) = sigmoid(a_jᵀw_true), w_true ~ N(0, 4/d·I).
f(w) = mean_j log(1 + exp(−y_j a_jᵀw)) + (λ/2)‖w‖². f is λ-strongly convex, so x* is unique;
it is found in float64 by L-BFGS (scipy) to a gradient norm below 1e-10, and the metric is
f(w) − f*. One task is the gradient on `examples_per_task` examples drawn with its key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from ata_jax.training.networks import random_indices
from ata_jax.training.problem import SUBOPTIMALITY, Problem


def synthetic_logistic_data(num_examples: int, dimension: int, data_seed: int):
    """(features float64[N, d], labels float64[N] in {−1, +1}) as in the module docstring."""
    rng = np.random.default_rng(data_seed)
    features = rng.standard_normal((num_examples, dimension))
    true_weights = rng.standard_normal(dimension) * 2.0 / np.sqrt(dimension)
    positive = rng.random(num_examples) < 1.0 / (1.0 + np.exp(-features @ true_weights))
    return features, np.where(positive, 1.0, -1.0)


def logistic_objective(weights, features, labels, regularization, xp=jnp):
    """f(w) = mean log(1 + exp(−y·aᵀw)) + (λ/2)‖w‖² (xp = jnp or numpy)."""
    margins = labels * (features @ weights)
    return xp.mean(xp.logaddexp(0.0, -margins)) + 0.5 * regularization * weights @ weights


def solve_logistic(features, labels, regularization) -> tuple[np.ndarray, float]:
    """(x*, f*) in float64 by L-BFGS with the exact gradient."""
    def value_and_gradient(weights):
        margins = labels * (features @ weights)
        sigmoid_of_minus = 0.5 * (1.0 - np.tanh(0.5 * margins))  # 1/(1+exp(margin)), stable
        gradient = -(features * (labels * sigmoid_of_minus)[:, None]).mean(axis=0)
        return (logistic_objective(weights, features, labels, regularization, np),
                gradient + regularization * weights)

    result = scipy.optimize.minimize(value_and_gradient, np.zeros(features.shape[1]), jac=True,
                                     method="L-BFGS-B",
                                     options=dict(gtol=1e-12, ftol=0.0, maxiter=10_000))
    return result.x, float(result.fun)


def make_logistic(num_examples: int = 1000, dimension: int = 20, regularization: float = 1e-2,
                  examples_per_task: int = 1, data_seed: int = 0,
                  learning_rate: float = 0.5) -> Problem:
    """Logistic regression (module docstring)."""
    if not regularization > 0:
        raise ValueError(f"logistic: regularization must be > 0, got {regularization}")
    if examples_per_task < 1 or num_examples < 1 or dimension < 1:
        raise ValueError("logistic: num_examples, dimension and examples_per_task must be >= 1")
    features, labels = synthetic_logistic_data(num_examples, dimension, data_seed)
    optimal_point, optimal_value = solve_logistic(features, labels, regularization)
    a = jnp.asarray(features, jnp.float32)
    y = jnp.asarray(labels, jnp.float32)

    def objective(w, batch_features, batch_labels):
        return logistic_objective(w, batch_features, batch_labels, regularization)

    def task_gradient(w, key):
        indices = random_indices(key, examples_per_task, num_examples)
        return jax.grad(objective)(w, a[indices], y[indices])

    return Problem(
        name="logistic", initial_parameters=lambda key: jnp.zeros(dimension, jnp.float32),
        task_gradient=task_gradient,
        metric=lambda w: objective(w, a, y) - jnp.float32(optimal_value),
        metric_name=SUBOPTIMALITY, default_learning_rates={"sgd": learning_rate, "adam": 1e-2},
        settings=dict(num_examples=num_examples, dimension=dimension,
                      regularization=regularization, examples_per_task=examples_per_task,
                      data_seed=data_seed),
        optimal_value=optimal_value, optimal_point=optimal_point)
