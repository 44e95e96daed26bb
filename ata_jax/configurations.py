"""Worker configurations as a batch axis: several time models simulated in one compiled batch.

Models with the same number of workers n stack into one batched `TimeModel` (`stack_models`):
every array leaf gains a leading configuration axis [C], and the static set of families is
the union of theirs (each worker still draws from its own family: the sampler selects by the
per-worker family id, so a worker's times do not depend on which families sit beside it).
The simulation then vmaps (configuration, seed) pairs, one compiled program per policy and n.

Random clusters (spec §9): n workers with means μ_i = m·exp(σ·Z_i), Z_i standard normal, and
tasks X_i = μ_i/2 + Exp(mean μ_i/2) (the `cifar` shape), m = 58. Cluster c's Z are drawn from
NumPy's generator seeded with (seed, c), so cluster c is the same whatever the number of
clusters beside it and for every σ (the σ's of one cluster share their Z: paired).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import jax
import numpy as np

from ata_jax.timemodels import FAMILIES, ModelError, TimeModel, make_model

CLUSTER_MEAN_SCALE = 58.0
"""m, the median mean task time of a random cluster's workers (the `cifar` model's μ_1)."""
MAX_HETEROGENEITY = 20.0
"""The largest σ accepted: exp(20·Z) already spans far beyond float32 at |Z| ≈ 4.4."""


class ConfigurationError(ValueError):
    """Configurations that cannot share a batch, or a bad cluster request: one line."""


def batch_signature(model: TimeModel) -> tuple:
    """What configurations must share to run in one batch with results identical to their
    runs alone: n, the families present, the kind of schedule, and not being a trace (each
    trace is a batch of its own).

    The families are part of it because XLA's CPU code generation for one family's sampler
    changes with the samplers compiled beside it: an exponential worker's times moved by one
    float32 ulp when a uniform family was present (docs/performance.md).
    """
    replay = None if model.replay is None else id(model)
    return (model.size, model.families, jax.tree.structure(model.schedule), replay)


def stack_models(models: Sequence[TimeModel], labels: Sequence[str] | None = None) -> TimeModel:
    """One `TimeModel` whose array leaves carry a leading configuration axis [C].

    All models must have the same n and the same kind of schedule (none, or schedules of the
    same structure); traces (replayed models) cannot share a batch with other models.
    `labels` name the configurations in errors. The static `families` is the union, so models
    of different family sets stack too, though their times may then differ from their runs
    alone in the last bit (see `batch_signature`).
    """
    if not models:
        raise ConfigurationError("no configurations to stack")
    labels = list(labels) if labels is not None else [f"configuration {i}"
                                                      for i in range(len(models))]
    first = models[0]
    for label, model in zip(labels, models):
        if model.replay is not None and len(models) > 1:
            raise ConfigurationError(f"{label} is a replayed trace, which cannot share a batch "
                                     "with other configurations: run it on its own")
    for label, model in zip(labels[1:], models[1:]):
        if model.size != first.size:
            raise ConfigurationError(f"{labels[0]} has {first.size} workers and {label} "
                                     f"{model.size}: only models of one n stack")
        if jax.tree.structure(model.schedule) != jax.tree.structure(first.schedule):
            raise ConfigurationError(f"{labels[0]} and {label} have schedules of different "
                                     "kinds (one changes over rounds and the other does not, or "
                                     "they change in different ways): run them apart")
    families = tuple(sorted(set().union(*(model.families for model in models))))
    arrays = [dataclasses.replace(model, families=families) for model in models]
    return jax.tree.map(lambda *leaves: np.stack([np.asarray(leaf) for leaf in leaves]),
                        *arrays)


def configuration(models: TimeModel, index: int) -> TimeModel:
    """Configuration `index` of a stacked model (NumPy leaves; its families are the union)."""
    return jax.tree.map(lambda leaf: np.asarray(leaf)[index], models)


def random_cluster(num_workers: int, heterogeneity: float, cluster: int,
                   seed: int = 0) -> TimeModel:
    """Random cluster `cluster` of master seed `seed` (spec §9) with σ = heterogeneity."""
    if not (np.isfinite(heterogeneity) and 0 <= heterogeneity <= MAX_HETEROGENEITY):
        raise ConfigurationError(f"heterogeneity σ must lie in [0, {MAX_HETEROGENEITY:g}], got "
                                 f"{heterogeneity!r}")
    normal = np.random.default_rng(np.random.SeedSequence([seed, cluster])).standard_normal(
        num_workers)
    mean = CLUSTER_MEAN_SCALE * np.exp(heterogeneity * normal)
    if not (np.isfinite(mean).all() and mean.min() > 1e-30 and mean.max() < 1e30):
        raise ConfigurationError(f"cluster {cluster} at σ = {heterogeneity:g} has means beyond "
                                 "float32's range: use a smaller σ")
    params = np.zeros((num_workers, 4))
    params[:, 0] = params[:, 1] = mean / 2
    return make_model(np.full(num_workers, FAMILIES.index("exponential")), params)


def random_clusters(num_workers: int, heterogeneities: Sequence[float], count: int,
                    seed: int = 0) -> list[tuple[dict, TimeModel]]:
    """`count` clusters for every σ, σ-major: [(label dict, model), ...]; the label has the
    cluster index c, σ and the seed, which rebuild it with `random_cluster`."""
    if count < 1:
        raise ConfigurationError(f"the number of random clusters must be >= 1, got {count}")
    if not heterogeneities:
        raise ConfigurationError("random clusters need at least one heterogeneity σ")
    return [({"cluster": cluster, "heterogeneity": float(sigma), "cluster_seed": seed},
             random_cluster(num_workers, float(sigma), cluster, seed))
            for sigma in heterogeneities for cluster in range(count)]


__all__ = ["ConfigurationError", "ModelError", "configuration", "random_cluster",
           "random_clusters", "stack_models"]
