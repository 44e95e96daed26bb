"""A classification problem for an MLP on a fixed dataset: tasks are random minibatches.

One task draws `examples_per_task` training examples uniformly (with replacement) with the
task's key and returns the cross-entropy gradient on them. The metric is the training loss
(cross-entropy over the whole training set); with a test set, `test_accuracy` is evaluated.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ata_jax.training.networks import (accuracy, cross_entropy, init_mlp, mlp_logits,
                                       random_indices)
from ata_jax.training.problem import TRAINING_LOSS, Problem


def make_classification_problem(name: str, train_inputs: np.ndarray, train_labels: np.ndarray,
                                test_inputs: np.ndarray | None, test_labels: np.ndarray | None,
                                *, hidden: Sequence[int], examples_per_task: int,
                                default_learning_rates: Mapping[str, float],
                                preferred_optimizer: str, settings: dict) -> Problem:
    """An MLP (inputs → hidden… → classes) on train_inputs float[N, D], labels int[N]."""
    if examples_per_task < 1:
        raise ValueError(f"{name}: examples_per_task must be >= 1, got {examples_per_task}")
    num_classes = int(max(train_labels.max(), -1 if test_labels is None else test_labels.max())) + 1
    layer_sizes = (train_inputs.shape[1], *hidden, num_classes)
    inputs = jnp.asarray(train_inputs, jnp.float32)
    labels = jnp.asarray(train_labels, jnp.int32)
    num_examples = inputs.shape[0]

    def initial_parameters(key):
        """Random layers N(0, 1/fan_in) from the seed's key (the same for every allocator)."""
        return init_mlp(key, layer_sizes)

    def minibatch_loss(layers, batch_inputs, batch_labels):
        return cross_entropy(mlp_logits(layers, batch_inputs), batch_labels)

    def task_gradient(layers, key):
        """Gradient of the loss on examples_per_task random training examples."""
        indices = random_indices(key, examples_per_task, num_examples)
        return jax.grad(minibatch_loss)(layers, inputs[indices], labels[indices])

    def training_loss(layers):
        return minibatch_loss(layers, inputs, labels)

    evaluations = {"training_accuracy": lambda layers: accuracy(mlp_logits(layers, inputs),
                                                                labels)}
    if test_inputs is not None:
        test_x = jnp.asarray(test_inputs, jnp.float32)
        test_y = jnp.asarray(test_labels, jnp.int32)
        evaluations["test_accuracy"] = lambda layers: accuracy(mlp_logits(layers, test_x),
                                                               test_y)
    return Problem(
        name=name, initial_parameters=initial_parameters, task_gradient=task_gradient,
        metric=training_loss, metric_name=TRAINING_LOSS,
        default_learning_rates=dict(default_learning_rates),
        preferred_optimizer=preferred_optimizer, evaluations=evaluations,
        settings=dict(settings, layer_sizes=list(layer_sizes),
                      examples_per_task=examples_per_task, train_examples=int(num_examples),
                      test_examples=0 if test_inputs is None else int(test_inputs.shape[0])))
