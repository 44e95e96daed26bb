"""Grids over worker configurations, α, η, discount, Thompson's spread and
explore-then-commit's samples (traced, vmapped: one compile per policy and B) run in chunks
sized to a memory budget, with checkpoints that a resumed run completes identically.

A sweep is the cartesian grid configurations × budgets × α × η × discount × ν × m, run for
every policy and every seed. A configuration is one time model (a preset at one n, a model file, a
random cluster); the configurations are the cross product of the time models and the worker
counts, then any random clusters. B changes array shapes, so each (policy, B, batch of
configurations) is one *group* with its own compile, where a batch is every configuration
that can share one (`configurations.batches`: the same set of families and kind of schedule,
not a trace; the presets `cifar` and `sqrt` of any n and random clusters are one batch,
padded to the largest n as `simulate` pads them; `separate_n` keeps each n apart). Inside a
group every (grid point, seed) pair is one *run*, and all runs are a single flat batch of
(key, Hyperparameters[, the run's configuration]) vmapped through `simulate.run_seed`.

- Seeds: run j of any grid point uses seed j's key fold_in(key(master), j) (`seed_keys`), as
  `simulate` does, so a sweep point equals `simulate(...)` of its configuration at those α/η
  (exactly for a batch of one configuration, to float32 rounding in a batch of several, as
  in `simulate`'s own batches), and chunk boundaries never change a result.
- A policy that ignores a hyperparameter (its registry entry's `reads`: ATA ignores η,
  ATA-Empirical ignores α, only the -discounted policies read the discount, only thompson
  the spread ν and explore-commit the samples m, GTA/UTA/OFTA read none) runs once per value
  of those it reads; its results are repeated along the others (exact: same keys, same
  runs).
- Chunks: a group's runs are cut into equal chunks of `chunk_runs` runs (the last padded and
  the padding dropped, so one compiled shape serves all), `chunk_runs` chosen so that
  chunk_runs × `bytes_per_run` ≤ the memory budget.
- Checkpoints: with `checkpoint_dir`, each finished chunk is written atomically (temporary
  file + rename) as an .npz beside `manifest.json` (the configuration and the chunk plan);
  `resume=True` loads the finished chunks and computes only the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
import os
import re
import time
from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from ata_jax import compilation
from ata_jax.allocators import (Hyperparameters, make_policy, needs_expected_optimum,
                                policy_spec)
from ata_jax.checkpoints import (MANIFEST, chunk_path, open_checkpoint_directory,
                                 read_chunk, write_chunk)
from ata_jax.memory import bytes_per_run, check_run_fits, plan_chunk_runs
from ata_jax.metrics import CURVE_NAMES, METRIC_NAMES
from ata_jax.progress import ProgressLike, notify
from ata_jax.simulate import run_seed, seed_keys, split_over_devices
from ata_jax.solvers import resolve_solver
from ata_jax.timemodels import TimeModel

SUMMARY_FIELDS = METRIC_NAMES
"""Per-run totals a sweep keeps: every metric of `ata_jax.metrics` (regret NaN for GTA)."""
CURVE_FIELDS = CURVE_NAMES
"""Per-round figures that `curve_points` decimates (block means over rounds)."""
GRID_HYPERPARAMETERS = ("alpha", "eta", "discount", "spread", "explore_samples")
"""The traced hyperparameters a sweep's grid varies."""
CHECKPOINT_FORMAT = "ata-jax-sweep-checkpoint/3"  # /3: groups are (policy, B, batch)


class SweepError(ValueError):
    """A sweep that cannot run as asked (bad grid, mismatched checkpoint, ...): one line."""


# ----------------------------------------------------------------------------- grid grammar

_NUMBER = r"[0-9.eE+\-]+(?:/[0-9.eE+\-]+)?"


def _number(text: str) -> float:
    text = text.strip()
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise SweepError(f"not a number: {text!r}") from None
    return value


def parse_grid_values(text: str) -> tuple[float, ...]:
    """Parse a grid of positive numbers.

    Grammar: a comma list of items, each one of
      - a number or a fraction: `4`, `0.25`, `1/16`, `2.5e3`;
      - `lo..hi`: the geometric range lo, 2·lo, 4·lo, ... up to hi (powers of 2 when lo is
        one; hi is included when hi/lo is a power of 2), e.g. `1/16..16` → 1/16, 1/8, ..., 16;
      - `lo..hi:n`: n values geometrically spaced from lo to hi, both included;
      - `a:b:n`: n values linearly spaced from a to b, both included.
    Every value must be finite and > 0; a value listed twice is an error. Order is kept.
    """
    if not text or not text.strip():
        raise SweepError("empty grid")
    values: list[float] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise SweepError(f"empty item in grid {text!r}")
        geometric = re.fullmatch(rf"({_NUMBER})\.\.({_NUMBER})(?::(\d+))?", item)
        linear = re.fullmatch(rf"({_NUMBER}):({_NUMBER}):(\d+)", item)
        if geometric:
            low, high = _number(geometric[1]), _number(geometric[2])
            _check_positive(low, item), _check_positive(high, item)
            if high < low:
                raise SweepError(f"range {item!r} runs downwards")
            if geometric[3] is None:
                steps = math.floor(math.log2(high) - math.log2(low) + 1e-9)
                if steps + 1 > MAX_GRID_VALUES:
                    raise SweepError(f"range {item!r} holds {steps + 1} values; at most "
                                     f"{MAX_GRID_VALUES}")
                values += [math.ldexp(low, k) for k in range(steps + 1)]
            else:
                count = _count(geometric[3], item)
                values += list(np.geomspace(low, high, count)) if count > 1 else [low]
        elif linear:
            low, high = _number(linear[1]), _number(linear[2])
            count = _count(linear[3], item)
            values += list(np.linspace(low, high, count)) if count > 1 else [low]
        else:
            values.append(_number(item))
    values = [float(value) for value in values]
    if len(values) > MAX_GRID_VALUES:
        raise SweepError(f"grid {text!r} has {len(values)} values; at most {MAX_GRID_VALUES}")
    for value in values:
        _check_positive(value, text)
    rounded = [float(f"{value:.12g}") for value in values]
    if len(set(rounded)) != len(rounded):
        raise SweepError(f"a value appears twice in grid {text!r}")
    return tuple(values)


def _check_positive(value: float, where: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise SweepError(f"grid values must be finite and > 0, got {value:g} in {where!r}")


MAX_GRID_VALUES = 10_000
"""The most values one grid axis may hold (a typo such as `1..16:1000000000` is an error, not
an attempt to allocate billions of runs)."""


def _count(text: str, item: str) -> int:
    count = int(text)
    if count < 1:
        raise SweepError(f"a range needs at least 1 value: {item!r}")
    if count > MAX_GRID_VALUES:
        raise SweepError(f"range {item!r} asks for {count} values; at most {MAX_GRID_VALUES}")
    return count


# ----------------------------------------------------------------------------- configuration

@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Everything that decides a sweep's results (JSON-serialisable via `to_dict`).

    time_model: the comma list of presets and model files as given ("" for random clusters
    only); workers: the distinct n of the configurations (the worker counts the presets are
    crossed with, a model file's own n); random_clusters C and heterogeneity (σ's): C random
    clusters at every n and σ (spec §9, seeded by `seed`). separate_n: one compile per n
    instead of padding configurations of different n into one batch (`configurations.batches`).
    alpha_mode / eta_mode: "absolute" (alpha/eta are the values), "scale" (multiples of each
    configuration's true α / η) or "true" (the true value only; alpha/eta are (1.0,)).
    curve_points: 0 for no curves, else per-round figures averaged over that many blocks.
    spread, explore_samples: grids of Thompson's ν (>= 0) and explore-then-commit's m (integers
    in [1, 2^24]); confidence: ATA's constant (one for the whole sweep).
    model_fingerprints: a hash of each configuration's model, so a changed model file is
    noticed.
    """

    time_model: str
    workers: tuple[int, ...]
    budgets: tuple[int, ...]
    policies: tuple[str, ...]
    alpha: tuple[float, ...] = (1.0,)
    alpha_mode: str = "true"
    eta: tuple[float, ...] = (1.0,)
    eta_mode: str = "true"
    discounts: tuple[float, ...] = (0.998,)
    window: int = 500
    counting: str = "task"
    rounds: int = 1000
    seeds: int = 16
    seed: int = 0
    curve_points: int = 0
    model_fingerprints: tuple[str, ...] = ()
    random_clusters: int = 0
    heterogeneity: tuple[float, ...] = ()
    separate_n: bool = False
    spread: tuple[float, ...] = (1.0,)
    explore_samples: tuple[int, ...] = (10,)
    confidence: str = "final"

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, document: dict) -> "SweepConfig":
        values = {key: tuple(value) if isinstance(value, list) else value
                  for key, value in document.items()}
        for key in ("spread", "explore_samples"):  # one value, before they were grid axes
            if key in values and not isinstance(values[key], tuple):
                values[key] = (values[key],)
        return cls(**values)


def model_fingerprint(model: TimeModel) -> str:
    """A short hash of a model's arrays and schedule (detects a changed model file)."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(model):
        digest.update(np.asarray(leaf).tobytes())
    digest.update(repr(model.families).encode())
    return digest.hexdigest()[:16]


def reads(policy_name: str) -> tuple[str, ...]:
    """The grid hyperparameters a policy's results depend on (from its registry entry)."""
    return tuple(name for name in GRID_HYPERPARAMETERS if name in policy_spec(policy_name).reads)


class Configuration(NamedTuple):
    """One worker configuration of a sweep: its label and its model.

    label: {"time_model": preset name, model file or "random-cluster", "workers": n} and,
    for a random cluster, "cluster" (c), "heterogeneity" (σ) and "cluster_seed"
    (`configurations.random_cluster` rebuilds it from those).
    """

    label: dict
    model: TimeModel


def as_configurations(config: SweepConfig,
                      models: "dict[int, TimeModel] | Sequence[Configuration]"
                      ) -> list[Configuration]:
    """The sweep's configurations: a sequence of `Configuration`s (or (label, model) pairs)
    as given, or a dict n -> model, labelled with `config.time_model`, in `config.workers`
    order. One fingerprint per configuration must be in `config.model_fingerprints` (when
    any are)."""
    if isinstance(models, dict):
        if set(models) != set(config.workers):
            raise SweepError(f"models for n = {sorted(models)}, but the sweep's workers are "
                             f"{list(config.workers)}")
        entries = [Configuration({"time_model": config.time_model, "workers": n}, models[n])
                   for n in config.workers]
    else:
        entries = [Configuration(dict(label), model) for label, model in models]
    if not entries:
        raise SweepError("a sweep needs at least one configuration")
    for label, model in entries:
        if label.get("workers") != model.size or "time_model" not in label:
            raise SweepError(f"configuration {label} needs a 'time_model' and 'workers' equal "
                             f"to its model's {model.size} workers")
    if config.model_fingerprints and len(config.model_fingerprints) != len(entries):
        raise SweepError(f"{len(config.model_fingerprints)} model fingerprints for "
                         f"{len(entries)} configurations")
    return entries


class GridPoint(NamedTuple):
    """One point of the grid: n, B, absolute α and η, their multiples of the configuration's
    true values, the discount γ, the configuration's index, Thompson's spread ν and
    explore-then-commit's samples m."""

    workers: int
    budget: int
    alpha: float
    eta: float
    alpha_scale: float
    eta_scale: float
    discount: float
    configuration: int = 0
    spread: float = 1.0
    explore_samples: int = 10


def grid_points(config: SweepConfig, configurations: Sequence[Configuration]
                ) -> list[GridPoint]:
    """The grid in C order over (configurations, budgets, alpha, eta, discounts, spreads,
    explore samples); α's true value is the uncentred one under the early confidence
    (`simulate.default_alpha`)."""
    from ata_jax.simulate import default_alpha

    points = []
    for (index, (_, model)), budget, alpha, eta, discount, spread, samples in itertools.product(
            enumerate(configurations), config.budgets, config.alpha, config.eta,
            config.discounts, config.spread, config.explore_samples):
        absolute_alpha, alpha_scale = _absolute_and_scale(alpha, config.alpha_mode,
                                                          default_alpha(model,
                                                                        config.confidence))
        absolute_eta, eta_scale = _absolute_and_scale(eta, config.eta_mode, model.eta)
        points.append(GridPoint(model.size, budget, absolute_alpha, absolute_eta,
                                alpha_scale, eta_scale, discount, index, spread, samples))
    return points


def check_allocator_grids(config: SweepConfig) -> None:
    """SweepError (one line) for a spread or explore-samples grid that is empty, holds a value
    twice, or holds a value `simulate.check_allocator_values` refuses."""
    from ata_jax.simulate import check_allocator_values

    for name, values in (("spread", config.spread), ("explore_samples", config.explore_samples)):
        if not values or len(set(values)) != len(values):
            raise SweepError(f"the {name} grid must hold distinct values, got {list(values)}")
    try:
        for spread, samples in itertools.product(config.spread, config.explore_samples):
            check_allocator_values(spread, samples)
    except ValueError as error:
        raise SweepError(str(error)) from None


def check_absolute_settings(config: SweepConfig, points: Sequence[GridPoint]) -> None:
    """SweepError (one line) for a given or scaled α or η outside [1e-20, 1e20]
    (`limits.MIN_SETTING`, `MAX_SETTING`: a float32 beside the times; 0 where the
    configuration's own true value is 0 is kept)."""
    from ata_jax.limits import MAX_SETTING, MIN_SETTING

    for point in points:
        for name, mode in (("alpha", config.alpha_mode), ("eta", config.eta_mode)):
            value = getattr(point, name)
            if mode != "true" and value != 0 and not MIN_SETTING <= value <= MAX_SETTING:
                raise SweepError(f"the absolute {name} {value:g} of configuration "
                                 f"{point.configuration} is outside [{MIN_SETTING:g}, "
                                 f"{MAX_SETTING:g}] (a float32 beside the times): narrow the "
                                 f"--{name} or --{name}-scale grid")


def _absolute_and_scale(value: float, mode: str, true_value: float) -> tuple[float, float]:
    """(the absolute value, its multiple of the true value) of a grid value in `mode`; the
    multiple of an absolute value is NaN where the true value is 0 or infinite."""
    if mode != "absolute":
        return value * true_value, value
    if true_value > 0 and math.isfinite(true_value):
        return value, value / true_value
    return value, math.nan


# ----------------------------------------------------------------------------- the batch

def _decimate(values: jax.Array, curve_points: int) -> jax.Array:
    """Means of `values` [K] over curve_points consecutive blocks of rounds → [curve_points]."""
    block = np.minimum(np.arange(values.shape[-1]) * curve_points // values.shape[-1],
                       curve_points - 1)
    sums = jax.ops.segment_sum(values, jnp.asarray(block), num_segments=curve_points)
    return sums / jnp.asarray(np.bincount(block, minlength=curve_points), values.dtype)


def curve_round_ends(num_rounds: int, curve_points: int) -> np.ndarray:
    """The last round (1-based) of each curve block: int[curve_points]."""
    block = np.minimum(np.arange(num_rounds) * curve_points // num_rounds, curve_points - 1)
    return np.array([np.nonzero(block == b)[0][-1] + 1 for b in range(curve_points)])


def _sweep_runs(keys, hyperparameters, model, *, policy_name, budget, num_rounds, counting,
                window_capacity, curve_points, per_run, solver, confidence="final"):
    compilation.count_trace(("sweep", policy_name, model.size, budget))
    policy = make_policy(policy_name, budget, counting, window_capacity, solver, confidence)
    allocates = policy_spec(policy_name).allocates

    def one_run(key, hyper, model):
        summary = run_seed(policy, model, hyper, key, budget=budget, num_rounds=num_rounds,
                           record_rounds=curve_points > 0, allocates=allocates, solver=solver)
        totals = jnp.stack(summary.totals)
        if curve_points == 0:
            return totals, jnp.zeros((0, 0), totals.dtype)
        curves = jnp.stack([_decimate(getattr(summary.per_round, name), curve_points)
                            for name in CURVE_FIELDS])
        return totals, curves

    return jax.vmap(one_run, in_axes=(0, 0, 0 if per_run else None))(
        keys, hyperparameters, model)


@functools.partial(jax.jit, static_argnames=("policy_name", "budget", "num_rounds", "counting",
                                             "window_capacity", "curve_points", "per_run",
                                             "solver", "confidence"))
def sweep_chunk(keys: jax.Array, hyperparameters: Hyperparameters, model: TimeModel, *,
                policy_name: str, budget: int, num_rounds: int, counting: str = "task",
                window_capacity: int = 0, curve_points: int = 0, per_run: bool = False,
                solver: str = "cpu", confidence: str = "final"):
    """Runs of one (policy, B, batch) group: keys [R] and Hyperparameters with leaves [R];
    with per_run, the model's array leaves are [R, ...] too (each run's configuration, padded
    to the batch's n), else one model serves every run.

    Returns (totals float32[R, M] in SUMMARY_FIELDS order, curves float32[R, 3, C] in
    CURVE_FIELDS order, block means over rounds; [R, 0, 0] when curve_points is 0).
    R is split over the local devices with `shard_map` when it divides evenly.
    """
    run = functools.partial(_sweep_runs, policy_name=policy_name, budget=budget,
                            num_rounds=num_rounds, counting=counting,
                            window_capacity=window_capacity, curve_points=curve_points,
                            per_run=per_run, solver=solver, confidence=confidence)
    shared = P("seeds") if per_run else P()
    return split_over_devices(run, keys.shape[0], (P("seeds"), P("seeds"), shared))(
        keys, hyperparameters, model)


# ----------------------------------------------------------------------------- running

class Group(NamedTuple):
    """One compile's worth of runs: a policy at one B over one batch of configurations.

    configurations: indices of the batch's configurations (one model when there is one, else
    stacked and padded); points: grid indices whose results are computed (one per
    configuration and distinct value of the hyperparameters the policy reads); targets: every
    grid index of this B and batch; source: for each target, the position in `points` whose
    results it repeats. name: the checkpoint's name of the group.
    """

    policy: str
    budget: int
    name: str
    configurations: tuple[int, ...]
    points: tuple[int, ...]
    targets: tuple[int, ...]
    source: tuple[int, ...]


def make_groups(config: SweepConfig, points: list[GridPoint],
                configurations: Sequence[Configuration]) -> list[Group]:
    """Every (policy, B, batch) group, policy-major, then B, then batch."""
    from ata_jax.configurations import batches

    members = batches([entry.model for entry in configurations], config.separate_n)
    groups = []
    for policy in config.policies:
        used = reads(policy)
        for budget in config.budgets:
            for number, batch in enumerate(members):
                inside = set(batch)
                targets = [g for g, point in enumerate(points)
                           if point.budget == budget and point.configuration in inside]
                seen: dict[tuple, int] = {}
                chosen, source = [], []
                for g in targets:
                    point = points[g]
                    signature = (point.configuration,
                                 *(getattr(point, name) for name in used))
                    if signature not in seen:
                        seen[signature] = len(chosen)
                        chosen.append(g)
                    source.append(seen[signature])
                name = (f"{policy}-B{budget}" if len(members) == 1
                        else f"{policy}-B{budget}-batch{number}")
                groups.append(Group(policy, budget, name, batch, tuple(chosen),
                                    tuple(targets), tuple(source)))
    return groups


def describe(group: Group, configurations: Sequence[Configuration]) -> str:
    """A progress line's name of a group: its policy, B and configurations."""
    sizes = [configurations[index].model.size for index in group.configurations]
    if len(sizes) == 1:
        return f"{group.policy} n={sizes[0]} B={group.budget}"
    return (f"{group.policy} B={group.budget} over {len(sizes)} configurations "
            f"(n {min(sizes)}..{max(sizes)})")


@dataclasses.dataclass
class SweepRun:
    """What `run_sweep` returns: results as `ata_jax.load_sweep` gives them, plus timing.

    totals: float64[P, G, S, M] (SUMMARY_FIELDS), curves: float64[P, G, S, 3, C] or None;
    labels: each configuration's label (`Configuration.label`), the grid points' index.
    """

    config: SweepConfig
    points: list[GridPoint]
    totals: np.ndarray
    curves: np.ndarray | None
    compile_s: float
    run_s: float
    chunks_computed: int
    chunks_loaded: int
    labels: list[dict] = dataclasses.field(default_factory=list)
    solver: str = "cpu"
    part: "SweepPart | None" = None


@dataclasses.dataclass
class SweepPart:
    """The block of a sweep that one of several processes computed (`SweepRun.part`).

    process_count P, process_index I: block I of P (`block_chunks`). plan: every group's
    chunk size (runs), the single-process chunk plan the blocks cut. groups: every group of
    the sweep (not only this block's). chunks: the (group name, chunk index) pairs this block
    holds, in plan order; totals float32[R, M] and curves float32[R, 3, C] are their runs
    in that order (chunk by chunk, each chunk's runs in group order), exactly as a
    single-process run computes them.
    """

    process_count: int
    process_index: int
    plan: dict[str, int]
    groups: list[Group]
    chunks: list[tuple[str, int]]
    totals: np.ndarray
    curves: np.ndarray


def config_fingerprint(config: SweepConfig) -> str:
    """A short hash of every setting of a sweep (the parts of one sweep share it)."""
    text = json.dumps(config.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def group_chunks(group: Group, plan: dict[str, int], seeds: int) -> list[tuple[int, int]]:
    """(first run, end run) of each chunk of `group` under the chunk plan."""
    runs, size = len(group.points) * seeds, plan[group.name]
    return [(start, min(start + size, runs)) for start in range(0, runs, size)]


def block_chunks(groups: Sequence[Group], plan: dict[str, int], seeds: int,
                 process_count: int, process_index: int) -> list[tuple[str, int]]:
    """The (group name, chunk index) pairs of block `process_index` of `process_count`.

    The chunks of every group, in run order, are cut into P contiguous blocks of near-equal
    runs: a chunk belongs to the block holding its middle run, so a block is within one
    chunk of total_runs / P (with fewer chunks than processes, some blocks are empty). Whole
    chunks of the single-process plan, so every run is computed in the very chunk (same
    shape, same neighbours) as in one process: bit-identical results by construction.
    """
    chunks = [(group.name, index, stop - start) for group in groups
              for index, (start, stop) in enumerate(group_chunks(group, plan, seeds))]
    total = sum(runs for _, _, runs in chunks)
    held, before = [], 0
    for name, index, runs in chunks:
        if int((before + runs / 2) * process_count // total) == process_index:
            held.append((name, index))
        before += runs
    return held


def resolve_block(process_count: int | None, process_index: int | None) -> tuple[int, int]:
    """(P, I): each given value, else the JAX runtime's (`jax.process_count()`,
    `jax.process_index()`: 1 and 0 without jax.distributed). SweepError for an index
    outside 0..P-1, or a count other than the runtime's without an index."""
    if process_count is None:
        process_count = jax.process_count()
    if process_index is None:
        if process_count != jax.process_count():
            raise SweepError(f"--process-count {process_count} needs --process-index I "
                             f"(0..{process_count - 1})")
        process_index = jax.process_index()
    if process_count < 1 or not 0 <= process_index < process_count:
        raise SweepError(f"--process-index {process_index} must lie in 0..{process_count - 1} "
                         f"(--process-count {process_count})")
    return process_count, process_index


class ChunkInfo(NamedTuple):
    """Passed to `on_chunk` after a chunk is finished (and saved, with a checkpoint)."""

    group: str
    index: int
    count: int
    runs_done: int
    runs_total: int


def _group_model(group: Group, configurations: Sequence[Configuration]) -> TimeModel:
    """The group's model: its one configuration's, or all of them stacked and padded."""
    from ata_jax.configurations import stack_models

    if len(group.configurations) == 1:
        return configurations[group.configurations[0]].model
    return stack_models([configurations[index].model for index in group.configurations],
                        [f"configuration {index}" for index in group.configurations])


def run_sweep(config: SweepConfig,
              models: "dict[int, TimeModel] | Sequence[Configuration]", *,
              memory_mb: float = 256.0, checkpoint_dir: str | None = None,
              resume: bool = False, command: str = "",
              on_chunk: Callable[[ChunkInfo], None] | None = None,
              progress: ProgressLike = None,
              solver: str = "auto", process_count: int | None = None,
              process_index: int | None = None) -> SweepRun:
    """Run every (policy, B, batch) group of the grid, chunk by chunk.

    models: the configurations (`Configuration`s or (label, model) pairs, in grid order), or
    a dict n -> the model at n (`as_configurations`). memory_mb bounds each chunk (see
    `bytes_per_run`). checkpoint_dir: keep finished chunks there (new sweep: the directory
    must be absent or empty; resume=True: it must hold a manifest of this same
    configuration). on_chunk(info) is called after each finished chunk (raising from it
    stops the sweep, with that chunk kept); progress(line) receives progress lines with an
    ETA (measured after each group's compile). solver: "cpu", "portable" or "auto"
    (`ata_jax.solvers`; not part of the configuration: the results are the same).
    process_count P, process_index I: compute only block I of P (`block_chunks`), returned
    as `SweepRun.part` (totals NaN outside the block; `merge_sweeps` joins the P parts into
    the single-process result); both default from `jax.process_count()` and
    `jax.process_index()`, so under `jax.distributed` each process computes its own block.
    """
    solver = resolve_solver(solver)
    process_count, process_index = resolve_block(process_count, process_index)
    from ata_jax.configurations import configuration, rows

    configurations = as_configurations(config, models)
    check_allocator_grids(config)
    try:
        points = grid_points(config, configurations)
    except ValueError as error:  # an early-confidence α whose norm cannot be computed
        raise SweepError(str(error)) from None
    check_absolute_settings(config, points)
    groups = make_groups(config, points, configurations)
    optima = None
    if needs_expected_optimum(config.policies):  # a*_E of every (budget, configuration), once
        from ata_jax.expected import expected_optima

        try:
            optima = {budget: [np.asarray(found.allocation) for found in expected_optima(
                [entry.model for entry in configurations], budget)]
                for budget in config.budgets}
        except ValueError as error:
            raise SweepError(str(error)) from None
    group_models = {}
    devices = jax.local_device_count()
    plan = {}
    for group in groups:
        key = group.configurations
        if key not in group_models:
            group_models[key] = _group_model(group, configurations)
        per_run = len(group.configurations) > 1
        one = configuration(group_models[key], 0) if per_run else group_models[key]
        run_bytes = bytes_per_run(
            group.policy, one, budget=group.budget, num_rounds=config.rounds,
            counting=config.counting, window_capacity=_capacity(group.policy, config),
            curve_points=config.curve_points, per_run_model=per_run)
        total = len(group.points) * config.seeds
        try:  # before any compile, as in simulate
            check_run_fits(f"{group.policy} at B = {group.budget}", run_bytes,
                           memory_mb * 2**20, devices, "keep fewer curve points")
        except ValueError as error:
            raise SweepError(str(error)) from None
        plan[group.name] = plan_chunk_runs(total, run_bytes, memory_mb * 2**20, devices)
    if checkpoint_dir is not None:
        plan = open_checkpoint(checkpoint_dir, config, plan, resume, command, memory_mb,
                               block=(process_count, process_index))
    elif resume:
        raise SweepError("--resume needs --checkpoint DIR (the sweep to continue)")

    keys = seed_keys(config.seed, config.seeds)
    held = (None if process_count == 1 else
            set(block_chunks(groups, plan, config.seeds, process_count, process_index)))
    total_runs = sum(stop - start for group in groups
                     for index, (start, stop) in enumerate(group_chunks(group, plan,
                                                                        config.seeds))
                     if held is None or (group.name, index) in held)
    num_curves = config.curve_points
    arrays = {}
    compile_s = run_s = 0.0
    computed = loaded = 0
    runs_done = runs_timed = 0
    notify(progress, None, done=0, total=total_runs)  # a bar shows while compiling
    for group in groups:
        model = group_models[group.configurations]
        per_run = len(group.configurations) > 1
        position = {index: p for p, index in enumerate(group.configurations)}
        # each configuration's a*_E, padded to the batch's n, once per group
        group_optima = None if optima is None else np.stack(
            [np.pad(optima[group.budget][index],
                    (0, model.size - optima[group.budget][index].size))
             for index in group.configurations])
        size = plan[group.name]
        runs = len(group.points) * config.seeds
        count = -(-runs // size)
        group_totals = np.full((runs, len(SUMMARY_FIELDS)), np.nan, np.float32)
        group_curves = np.full((runs, len(CURVE_FIELDS), num_curves), np.nan, np.float32)
        arrays[group.name] = group_totals, group_curves
        compiled = None
        for index in range(count):
            start, stop = index * size, min((index + 1) * size, runs)
            if held is not None and (group.name, index) not in held:
                continue  # another process's block
            saved = (load_chunk(checkpoint_dir, group.name, index, stop - start, num_curves)
                     if checkpoint_dir is not None else None)
            if saved is not None:
                group_totals[start:stop], group_curves[start:stop] = saved
                loaded += 1
                runs_done += stop - start
                notify(progress, None, done=runs_done, total=total_runs)
                continue
            run_index = np.minimum(np.arange(start, start + size), runs - 1)  # pad the last
            point_index = np.asarray(group.points)[run_index // config.seeds]
            seed_index = run_index % config.seeds
            chosen = [points[p] for p in point_index]
            hyper = Hyperparameters(
                alpha=jnp.asarray([p.alpha for p in chosen], jnp.float32),
                eta=jnp.asarray([p.eta for p in chosen], jnp.float32),
                discount=jnp.asarray([p.discount for p in chosen], jnp.float32),
                window=jnp.full(size, config.window, jnp.int32),
                spread=jnp.asarray([p.spread for p in chosen], jnp.float32),
                explore_samples=jnp.asarray([p.explore_samples for p in chosen],
                                            jnp.float32),
                expected_optimum=None if group_optima is None else jnp.asarray(
                    group_optima[[position[p.configuration] for p in chosen]], jnp.int32))
            chunk_keys = keys[jnp.asarray(seed_index)]
            chunk_model = model
            if per_run:  # each run's own configuration
                chunk_model = rows(model, [position[p.configuration] for p in chosen])
            static = dict(policy_name=group.policy, budget=group.budget,
                          num_rounds=config.rounds, counting=config.counting,
                          window_capacity=_capacity(group.policy, config),
                          curve_points=num_curves, per_run=per_run, solver=solver,
                          confidence=config.confidence)
            if compiled is None:
                notify(progress, f"compiling {describe(group, configurations)} ({count} "
                                 f"chunks of {size} runs)")
                compiled, seconds = _compiled_chunk(chunk_keys, hyper, chunk_model, **static)
                compile_s += seconds
            began = time.perf_counter()
            chunk_totals, chunk_curves = jax.block_until_ready(
                compiled(chunk_keys, hyper, chunk_model))
            run_s += time.perf_counter() - began
            chunk_totals = np.asarray(chunk_totals)[:stop - start]
            chunk_curves = np.asarray(chunk_curves)[:stop - start].reshape(
                stop - start, len(CURVE_FIELDS), num_curves)
            if checkpoint_dir is not None:
                save_chunk(checkpoint_dir, group.name, index, chunk_totals, chunk_curves)
            group_totals[start:stop], group_curves[start:stop] = chunk_totals, chunk_curves
            computed += 1
            runs_done += stop - start
            runs_timed += stop - start
            rate = runs_timed / run_s if run_s > 0 else float("inf")
            eta = (total_runs - runs_done) / rate if rate > 0 else float("nan")
            notify(progress, f"{group.name} chunk {index + 1}/{count}: {runs_done}/"
                             f"{total_runs} runs ({100 * runs_done / total_runs:.0f}%), "
                             f"{rate:,.0f} runs/s, ETA {_seconds(eta)} (compiles not "
                             "included)", done=runs_done, total=total_runs)
            if on_chunk is not None:
                on_chunk(ChunkInfo(group.name, index, count, runs_done, total_runs))
    totals, curves = _assemble(config, len(points), groups, arrays)
    part = None
    if held is not None:
        kept = [(group.name, index, start, stop) for group in groups
                for index, (start, stop) in enumerate(group_chunks(group, plan, config.seeds))
                if (group.name, index) in held]
        part = SweepPart(
            process_count, process_index, dict(plan), list(groups),
            [(name, index) for name, index, _, _ in kept],
            np.concatenate([np.zeros((0, len(SUMMARY_FIELDS)), np.float32)]
                           + [arrays[name][0][start:stop] for name, _, start, stop in kept]),
            np.concatenate([np.zeros((0, len(CURVE_FIELDS), num_curves), np.float32)]
                           + [arrays[name][1][start:stop] for name, _, start, stop in kept]))
    return SweepRun(config, points, totals, curves, compile_s, run_s, computed, loaded,
                    [entry.label for entry in configurations], solver, part)


def _assemble(config: SweepConfig, num_points: int, groups: Sequence[Group],
              arrays: dict[str, tuple[np.ndarray, np.ndarray]]):
    """(totals float64[P, G, S, M], curves float64[P, G, S, 3, C] or None) from each group's
    runs `arrays[name]` = (float32[runs, M], float32[runs, 3, C]), repeated along the
    hyperparameters a policy ignores (`Group.source`)."""
    num_curves = config.curve_points
    totals = np.full((len(config.policies), num_points, config.seeds, len(SUMMARY_FIELDS)),
                     np.nan)
    curves = (np.full((len(config.policies), num_points, config.seeds, len(CURVE_FIELDS),
                       num_curves), np.nan) if num_curves else None)
    for group in groups:
        group_totals, group_curves = arrays[group.name]
        policy = config.policies.index(group.policy)
        shaped = group_totals.reshape(len(group.points), config.seeds, len(SUMMARY_FIELDS))
        targets, source = np.asarray(group.targets), np.asarray(group.source)
        totals[policy, targets] = shaped[source]
        if num_curves:
            shaped_curves = group_curves.reshape(len(group.points), config.seeds,
                                                 len(CURVE_FIELDS), num_curves)
            curves[policy, targets] = shaped_curves[source]
    return totals, curves


def merge_sweeps(parts: Sequence["SweepRun | str"]) -> SweepRun:
    """Join the P parts of one sweep (SweepRuns with `.part`, or part files written by
    `sweepfile.save_sweep_part`) into exactly the single-process SweepRun: the same arrays
    bit for bit; timing (compile_s, run_s, chunks computed and loaded) is summed over the
    parts, labels and solver are the first part's.

    SweepError (one line, naming the part) when the parts are not all of one sweep (another
    configuration fingerprint, process count or chunk plan), a block is given twice or a
    block is missing.
    """
    from ata_jax.sweepfile import load_sweep_part

    if not parts:
        raise SweepError("--merge needs at least one part")
    names = [part if isinstance(part, str) else f"part {number}"
             for number, part in enumerate(parts)]
    runs = [load_sweep_part(part) if isinstance(part, str) else part for part in parts]
    for name, run in zip(names, runs):
        if run.part is None:
            raise SweepError(f"{name} is a whole sweep, not a part of one")
    first, first_name = runs[0], names[0]
    seen: dict[int, str] = {}
    for name, run in zip(names, runs):
        if run.config != first.config:
            differ = [key for key, value in run.config.to_dict().items()
                      if first.config.to_dict()[key] != value]
            raise SweepError(f"{name} is a part of another sweep than {first_name} "
                             f"(differing: {', '.join(differ)})")
        if run.part.process_count != first.part.process_count:
            raise SweepError(f"{name} is block {run.part.process_index} of "
                             f"{run.part.process_count}, but {first_name} is a block of "
                             f"{first.part.process_count}")
        if run.part.plan != first.part.plan:
            raise SweepError(f"{name} was cut from another chunk plan than {first_name} "
                             "(--memory-mb or the device count differ)")
        index = run.part.process_index
        if index in seen:
            raise SweepError(f"block {index} of {run.part.process_count} is given twice "
                             f"({seen[index]} and {name})")
        seen[index] = name
    missing = sorted(set(range(first.part.process_count)) - set(seen))
    if missing:
        raise SweepError(f"block{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(map(str, missing))} of {first.part.process_count} "
                         f"missing (have {', '.join(map(str, sorted(seen)))})")
    config, groups, plan = first.config, first.part.groups, first.part.plan
    num_curves = config.curve_points
    arrays = {group.name: (np.full((len(group.points) * config.seeds, len(SUMMARY_FIELDS)),
                                   np.nan, np.float32),
                           np.full((len(group.points) * config.seeds, len(CURVE_FIELDS),
                                    num_curves), np.nan, np.float32))
              for group in groups}
    bounds = {group.name: group_chunks(group, plan, config.seeds) for group in groups}
    for run in runs:
        position = 0
        for name, index in run.part.chunks:
            start, stop = bounds[name][index]
            arrays[name][0][start:stop] = run.part.totals[position:position + stop - start]
            arrays[name][1][start:stop] = run.part.curves[position:position + stop - start]
            position += stop - start
    totals, curves = _assemble(config, len(first.points), groups, arrays)
    return SweepRun(config, first.points, totals, curves,
                    sum(run.compile_s for run in runs), sum(run.run_s for run in runs),
                    sum(run.chunks_computed for run in runs),
                    sum(run.chunks_loaded for run in runs), first.labels, first.solver)


def _capacity(policy: str, config: SweepConfig) -> int:
    return config.window if policy_spec(policy).needs_window else 0


def _seconds(value: float) -> str:
    if not math.isfinite(value):
        return "?"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def _compiled_chunk(keys, hyperparameters, model, **static):
    """(compiled `sweep_chunk` for these shapes and static settings, seconds compiling now)."""
    return compilation.compiled(sweep_chunk, keys, hyperparameters, model, **static)


# ----------------------------------------------------------------------------- checkpoints

def save_chunk(directory: str, group: str, index: int, totals: np.ndarray,
               curves: np.ndarray) -> None:
    """Write one finished chunk atomically (`checkpoints.write_chunk`)."""
    write_chunk(directory, group, index, {"totals": totals, "curves": curves})


def load_chunk(directory: str, group: str, index: int, runs: int, curve_points: int):
    """(totals, curves) of a finished chunk, or None if it was not finished."""
    stored = read_chunk(directory, group, index, SweepError)
    if stored is None:
        return None
    totals, curves = stored.get("totals"), stored.get("curves")
    if totals is None or curves is None or totals.shape != (runs, len(SUMMARY_FIELDS)) or (
            curves.shape != (runs, len(CURVE_FIELDS), curve_points)):
        raise SweepError(f"checkpoint chunk {chunk_path(directory, group, index)} does not "
                         "match the sweep's plan")
    return totals, curves


def open_checkpoint(directory: str, config: SweepConfig, plan: dict[str, int], resume: bool,
                    command: str, memory_mb: float,
                    block: tuple[int, int] = (1, 0)) -> dict[str, int]:
    """Start or reopen a sweep's checkpoint directory (`checkpoints.open_checkpoint_directory`);
    returns the chunk plan to follow, which on resume must name this sweep's groups.

    block: (process count, process index) of the block kept there, part of the manifest's
    config (a whole sweep, (1, 0), keeps none); resuming another block's directory is
    refused."""
    document = config.to_dict()
    if tuple(block) != (1, 0):
        document["block"] = list(block)

    def same_block(stored: dict) -> None:
        kept_block = tuple(stored.get("block", (1, 0)))
        if kept_block != tuple(block):
            raise SweepError(f"--resume: {directory} holds block {kept_block[1]} of "
                             f"{kept_block[0]}, not block {block[1]} of {block[0]}")

    kept = open_checkpoint_directory(directory, CHECKPOINT_FORMAT, document, plan,
                                     resume, command, memory_mb, "sweep", SweepError,
                                     check_stored=same_block)
    if set(kept) != set(plan):
        raise SweepError(f"--resume: the chunk plan in {os.path.join(directory, MANIFEST)} "
                         "does not name this sweep's groups: start the sweep in a new "
                         "directory")
    return kept


