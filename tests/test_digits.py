"""Real data: the digits file shipped with scikit-learn, its split, and training on it."""

import sys

import numpy as np
import pytest

from ata_jax.modelfile import resolve_time_model
from ata_jax.training import MissingDependencyError, load_digits_dataset, make_problem, train
from ata_jax.training.digits import split_dataset


def test_loader_reads_the_real_file():
    dataset = load_digits_dataset()
    assert dataset.images.shape == (1797, 64) and dataset.labels.shape == (1797,)
    assert set(np.unique(dataset.labels)) == set(range(10))
    assert dataset.images.min() == 0 and dataset.images.max() == 16
    assert np.array_equal(dataset.images, np.round(dataset.images))  # integer intensities
    assert np.bincount(dataset.labels).min() > 150  # about 180 of each digit


def test_split_is_disjoint_complete_and_fixed_by_its_seed():
    train_indices, test_indices = split_dataset(1797, 0.2, split_seed=3)
    assert len(test_indices) == 359 and len(train_indices) == 1797 - 359
    assert np.array_equal(np.sort(np.concatenate([train_indices, test_indices])),
                          np.arange(1797))
    again = split_dataset(1797, 0.2, split_seed=3)
    other = split_dataset(1797, 0.2, split_seed=4)
    assert np.array_equal(again[1], test_indices) and not np.array_equal(other[1], test_indices)
    with pytest.raises(ValueError, match="test_fraction"):
        split_dataset(1797, 1.0, 0)


def test_missing_scikit_learn_tells_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'ata-jax\[real\]'"):
        load_digits_dataset()


def test_adam_on_digits_lowers_the_loss_and_beats_chance():
    rounds, budget = 150, 3
    problem = make_problem("digits", hidden=16)
    run = train(problem, resolve_time_model("cifar", 3, rounds), ["gta"], budget=budget,
                num_rounds=rounds, num_seeds=2, optimizer="adam", max_points=4)
    assert run.metric_name == "training loss"
    # a random network starts near ln 10 ≈ 2.3 (uniform guess); Adam must clearly go below
    assert np.all(np.abs(run.suboptimality[:, 0] - np.log(10)) < 0.5)
    assert np.all(run.suboptimality[:, -1] < run.suboptimality[:, 0] - 0.5)
    accuracy = run.evaluations["test_accuracy"]
    assert accuracy.shape == run.suboptimality.shape
    # 150 rounds × 3 tasks × 4 examples = 1800 examples seen, about one pass over the data
    assert np.all(accuracy[:, -1] > 0.5)  # chance is 0.1
