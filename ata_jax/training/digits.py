"""Real data: scikit-learn's handwritten digits (1797 images of 8×8 pixels, values 0..16).

The dataset ships inside scikit-learn (sklearn/datasets/data/digits.csv.gz; UCI optical
recognition of handwritten digits); `load_digits_dataset` reads it with
`sklearn.datasets.load_digits` (no download). The `digits` problem trains an MLP
64 → hidden → 10 on pixels/16 with Adam, on a train/test split fixed by `split_seed`
(the same for every training seed); the metric is the training loss and the run also reports
test accuracy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ata_jax.training.classification import make_classification_problem
from ata_jax.training.problem import Problem

INSTALL_HINT = "pip install 'ata-jax[real]'"


class MissingDependencyError(ImportError):
    """An optional dependency (scikit-learn for the digits data) is not installed."""


class DigitsDataset(NamedTuple):
    """images: float64[1797, 64], pixel intensities 0..16 (row-major 8×8); labels: int64[1797]."""

    images: np.ndarray
    labels: np.ndarray


def load_digits_dataset() -> DigitsDataset:
    """The digits dataset from the file shipped with scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise MissingDependencyError(
            f"the digits dataset needs scikit-learn, which is not installed: {INSTALL_HINT}"
        ) from error
    images, labels = load_digits(return_X_y=True)
    return DigitsDataset(np.asarray(images, np.float64), np.asarray(labels, np.int64))


def split_dataset(num_examples: int, test_fraction: float, split_seed: int):
    """(train indices, test indices): a random permutation by split_seed, the first
    round(test_fraction·N) for testing."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(split_seed).permutation(num_examples)
    num_test = int(round(test_fraction * num_examples))
    return np.sort(order[num_test:]), np.sort(order[:num_test])


def make_digits(hidden: int = 32, examples_per_task: int = 4, test_fraction: float = 0.2,
                split_seed: int = 0, learning_rate: float = 1e-3) -> Problem:
    """MLP 64 → hidden → 10 on the digits (module docstring); learning_rate is Adam's."""
    if hidden < 1:
        raise ValueError(f"digits: hidden must be >= 1, got {hidden}")
    dataset = load_digits_dataset()
    train, test = split_dataset(len(dataset.labels), test_fraction, split_seed)
    inputs = dataset.images / 16.0
    return make_classification_problem(
        "digits", inputs[train], dataset.labels[train], inputs[test], dataset.labels[test],
        hidden=(hidden,), examples_per_task=examples_per_task,
        default_learning_rates={"adam": learning_rate, "sgd": 0.1}, preferred_optimizer="adam",
        settings=dict(hidden=hidden, test_fraction=test_fraction, split_seed=split_seed,
                      data="scikit-learn digits (1797 8x8 images), pixels / 16"))
