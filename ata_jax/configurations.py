"""Worker configurations as a batch axis: several time models simulated in one compiled batch.

Models stack into one batched `TimeModel` (`stack_models`): every array leaf gains a leading
configuration axis [C], models with fewer workers than the largest are padded with absent
workers (`pad_model`), and the static set of families is the union of theirs (each worker
still draws from its own family: the sampler selects by the per-worker family id, so a
worker's times do not depend on which families sit beside it). The simulation then vmaps
(configuration, seed) pairs, one compiled program per policy.

Padding changes nothing a configuration computes: a task's time depends on (seed, round,
worker, slot) only, absent workers never receive a task, race, or enter the zero rule, and
the solver's task list is the same on both sides of its n = 128 switch. A configuration's
results then equal its run alone to float32 rounding (XLA's CPU compiler contracts
multiply-adds differently in different programs; docs/performance.md). It is not free: an
absent worker still costs the elementwise work of a present one (a batch runs at its
largest n).

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

from ata_jax.schedules import pad_schedule
from ata_jax.timemodels import FAMILIES, ModelError, TimeModel, make_model

CLUSTER_MEAN_SCALE = 58.0
"""m, the median mean task time of a random cluster's workers (the `cifar` model's μ_1)."""
MAX_HETEROGENEITY = 20.0
"""The largest σ accepted: exp(20·Z) already spans far beyond float32 at |Z| ≈ 4.4."""


class ConfigurationError(ValueError):
    """Configurations that cannot share a batch, or a bad cluster request: one line."""


def batch_signature(model: TimeModel) -> tuple:
    """What configurations share to run in one batch: the families present, the kind of
    schedule, and not being a trace (each trace is a batch of its own). Models of different
    n share a batch, padded to the largest (`pad_model`).

    The families are part of it for cost: a batch's sampler computes every family of the
    union for every task (and an exponential worker's times moved by one float32 ulp when a
    uniform family was compiled beside it: docs/performance.md).
    """
    replay = None if model.replay is None else id(model)
    return (model.families, jax.tree.structure(model.schedule), replay)


def batches(models: Sequence[TimeModel], separate_n: bool = False) -> list[tuple[int, ...]]:
    """The models' indices grouped by `batch_signature` and, with separate_n, by n: each
    batch in order, the batches in order of their first member."""
    grouped: dict[tuple, list[int]] = {}
    for index, model in enumerate(models):
        key = batch_signature(model) + ((model.size,) if separate_n else ())
        grouped.setdefault(key, []).append(index)
    return [tuple(members) for members in grouped.values()]


def rows(stacked, indices) -> TimeModel:
    """A stacked model (or any pytree of [C, ...] leaves) at configurations `indices`, as JAX
    arrays: one row per run of a batch of (configuration, seed) runs."""
    indices = np.asarray(indices)
    return jax.tree.map(lambda leaf: jax.numpy.asarray(np.asarray(leaf)[indices]), stacked)


def pad_model(model: TimeModel, size: int) -> TimeModel:
    """`model` with absent workers appended up to `size` workers (NumPy leaves).

    An absent worker copies worker 0's family and parameters (so its draws, computed and
    discarded, are well defined), has mean +inf and ψ1 norm 0, and neutral schedule values;
    `present` marks it False. Every policy then leaves it alone (`timemodels.TimeModel`), and
    the present workers' results equal the model's alone (to float32 rounding: the module
    docstring).
    """
    if model.replay is not None:
        raise ConfigurationError("a replayed trace cannot be padded with absent workers")
    n = model.size
    if size < n:
        raise ConfigurationError(f"cannot pad a model of {n} workers to {size}")
    extra = size - n
    pad = lambda values, fill: np.concatenate([np.asarray(values),
                                               np.full((extra,) + np.shape(values)[1:], fill,
                                                       np.asarray(values).dtype)])
    like_first = lambda values: np.concatenate([np.asarray(values),
                                                np.repeat(np.asarray(values)[:1], extra, 0)])
    present = np.ones(n, bool) if model.present is None else np.asarray(model.present)
    return dataclasses.replace(
        model, family=like_first(model.family), params=like_first(model.params),
        mean=pad(model.mean, np.inf), psi1=pad(model.psi1, 0.0),
        schedule=pad_schedule(model.schedule, size), present=pad(present, False))


def stack_models(models: Sequence[TimeModel], labels: Sequence[str] | None = None) -> TimeModel:
    """One `TimeModel` whose array leaves carry a leading configuration axis [C].

    Models of fewer workers than the largest are padded with absent workers (`pad_model`,
    the batch then has a `present` mask); all must have the same kind of schedule (none, or
    schedules of the same structure); traces (replayed models) cannot share a batch with
    other models. `labels` name the configurations in errors. The static `families` is the
    union, so models of different family sets stack too (at the cost `batch_signature`
    names).
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
        if jax.tree.structure(model.schedule) != jax.tree.structure(first.schedule):
            raise ConfigurationError(f"{labels[0]} and {label} have schedules of different "
                                     "kinds (one changes over rounds and the other does not, or "
                                     "they change in different ways): run them apart")
    families = tuple(sorted(set().union(*(model.families for model in models))))
    size = max(model.size for model in models)
    padded = any(model.size != size or model.present is not None for model in models)
    arrays = [dataclasses.replace(pad_model(model, size) if padded else model,
                                  families=families) for model in models]
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


__all__ = ["ConfigurationError", "ModelError", "batches", "configuration", "random_cluster",
           "random_clusters", "pad_model", "rows", "stack_models"]
