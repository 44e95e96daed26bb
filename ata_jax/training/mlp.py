"""A small neural network on synthetic data: a student MLP learns a random teacher's labels.

Data (fixed by `data_seed`): inputs x_j ~ N(0, I_d); label_j = argmax of a random teacher
MLP (d → 16 → classes, tanh) at x_j. The student is an MLP d → hidden → classes trained with
cross-entropy; the metric is the training loss (no closed-form optimum).
"""

from __future__ import annotations

import jax
import numpy as np

from ata_jax.training.classification import make_classification_problem
from ata_jax.training.networks import init_mlp, mlp_logits
from ata_jax.training.problem import Problem


def teacher_dataset(num_examples: int, dimension: int, num_classes: int, data_seed: int):
    """(inputs float32[N, d], labels int32[N]) labelled by a random teacher network."""
    rng = np.random.default_rng(data_seed)
    inputs = rng.standard_normal((num_examples, dimension)).astype(np.float32)
    teacher = init_mlp(jax.random.key(data_seed), (dimension, 16, num_classes))
    labels = np.asarray(mlp_logits(teacher, inputs).argmax(axis=-1), np.int32)
    return inputs, labels


def make_mlp(num_examples: int = 1000, dimension: int = 10, num_classes: int = 3,
             hidden: int = 32, examples_per_task: int = 1, data_seed: int = 0,
             learning_rate: float = 0.1) -> Problem:
    """The synthetic MLP problem (module docstring)."""
    if min(num_examples, dimension, hidden) < 1 or num_classes < 2:
        raise ValueError("mlp: num_examples, dimension, hidden must be >= 1 and num_classes >= 2")
    inputs, labels = teacher_dataset(num_examples, dimension, num_classes, data_seed)
    return make_classification_problem(
        "mlp", inputs, labels, None, None, hidden=(hidden,), examples_per_task=examples_per_task,
        default_learning_rates={"sgd": learning_rate, "adam": 3e-3}, preferred_optimizer="sgd",
        settings=dict(num_examples=num_examples, dimension=dimension, num_classes=num_classes,
                      hidden=hidden, data_seed=data_seed, data="random teacher MLP"))
