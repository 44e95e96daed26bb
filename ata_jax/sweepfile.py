"""The sweep results file: one NumPy .npz with labelled axes, written by `ata-jax sweep --out`
and read by `ata_jax.load_sweep`.

Members (P policies, G grid points, S seeds, C curve points, N configurations):
  one member per metric of `ata_jax.metrics.METRICS`  float64[P, G, S]   (totals over K
  (runtime, worker_time, regret, runtime_second_half,  rounds; regret NaN for GTA;
  wasted_time, idle_time, workers_used)                wasted_time 0 without failures)
  policy                                              str[P]
  seed                                                int64[S]   (seed indices j: key
                                                       fold_in(key(master), j))
  configuration                                       int64[G]   (the point's configuration)
  workers, budget                                     int64[G]
  alpha, eta, alpha_scale, eta_scale, discount        float64[G] (absolute α, η; their
                                                       multiples of the true values at n)
  spread                                              float64[G] (Thompson's ν)
  explore_samples                                     int64[G]   (explore-commit's m)
  curve_round_time, curve_worker_time, curve_regret   float64[P, G, S, C] (only with curves:
                                                       per-round means over blocks of rounds)
  curve_round_end                                     int64[C]   (last round of each block)
  configuration_time_model                            str[N]     (preset, model file or
                                                       "random-cluster")
  configuration_workers                               int64[N]   (n)
  configuration_heterogeneity                         float64[N] (σ; NaN: not a random
                                                       cluster)
  configuration_cluster                               int64[N]   (c; -1: not a random cluster)
  metadata                                            str, JSON: {"config", "ata_jax",
                                                       "command", "timing", "grid_shape",
                                                       "metrics", "configurations", ...}
The grid is C-ordered over (configurations, budgets, alpha, eta, discounts, spreads,
explore samples): `grid_shape` in the metadata reshapes G along `grid_axes` (a sweep of one
time model has one configuration per n: the workers axis). "configurations" in the metadata
is every configuration's label in full. No pickled objects: `np.load(path)` reads it
anywhere. Formats /1 (before configurations) and /2 (before the spread and explore-samples
axes) are still read: /1's configurations are its worker counts, and both get the sweep's
one spread and m (or the defaults) as those grid fields.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np

from ata_jax.files import write_npz_atomically
from ata_jax.metrics import METRICS
from ata_jax.sweep import (CURVE_FIELDS, SUMMARY_FIELDS, GridPoint, Group, SweepConfig,
                           SweepError, SweepPart, SweepRun, config_fingerprint)

GRID_FIELDS = ("configuration", "workers", "budget", "alpha", "eta", "alpha_scale", "eta_scale",
               "discount", "spread", "explore_samples")
INTEGER_GRID_FIELDS = ("configuration", "workers", "budget", "explore_samples")
GRID_AXES = ("configuration", "budget", "alpha", "eta", "discount", "spread", "explore_samples")
"""The axes of the grid's C order (`grid_shape` in the metadata)."""
CONFIGURATION_FIELDS = ("time_model", "workers", "heterogeneity", "cluster")
"""Each configuration's label as arrays, member `configuration_<field>` ([N])."""
FORMAT = "ata-jax-sweep/3"  # /2: the configuration axis; /3: the spread and samples axes
READABLE_FORMATS = ("ata-jax-sweep/1", "ata-jax-sweep/2", FORMAT)
PART_FORMAT = "ata-jax-sweep-part/1"


def save_sweep(path: str, run: SweepRun, *, command: str = "", extra: dict | None = None) -> None:
    """Write `run` to `path` (.npz) atomically: temporary file beside it, then rename."""
    write_npz_atomically(path, compressed=True, **sweep_members(run, command=command,
                                                                extra=extra))


def sweep_results(run: SweepRun, *, command: str = "", extra: dict | None = None):
    """`run` as `load_sweep` would read it back from `save_sweep`'s file (a SweepResults)."""
    return results_from_members(sweep_members(run, command=command, extra=extra), "")


def sweep_members(run: SweepRun, *, command: str = "",
                  extra: dict | None = None) -> dict[str, np.ndarray]:
    """The members of the results file of `run` (the module docstring), metadata included."""
    from ata_jax.provenance import package_version
    import jax

    config = run.config
    arrays = {name: run.totals[..., position] for position, name in enumerate(SUMMARY_FIELDS)}
    arrays["policy"] = np.array(config.policies)
    arrays["seed"] = np.arange(config.seeds, dtype=np.int64)
    for name in GRID_FIELDS:
        dtype = np.int64 if name in INTEGER_GRID_FIELDS else np.float64
        arrays[name] = np.array([getattr(point, name) for point in run.points], dtype)
    labels = run.labels or [{"time_model": config.time_model, "workers": n}
                            for n in config.workers]
    arrays.update(configuration_arrays(labels))
    if run.curves is not None:
        from ata_jax.sweep import curve_round_ends

        for position, name in enumerate(CURVE_FIELDS):
            arrays[f"curve_{name}"] = run.curves[..., position, :]
        arrays["curve_round_end"] = curve_round_ends(config.rounds, config.curve_points)
    metadata = {"format": FORMAT, "config": config.to_dict(), "ata_jax": package_version(),
                "jax": jax.__version__, "device": jax.devices()[0].device_kind,
                "device_count": jax.local_device_count(), "command": command,
                "solver": run.solver,
                "grid_shape": [len(labels), len(config.budgets), len(config.alpha),
                               len(config.eta), len(config.discounts), len(config.spread),
                               len(config.explore_samples)],
                "grid_axes": list(GRID_AXES),
                "configurations": labels,
                "metrics": {metric.name: metric.description for metric in METRICS},
                "timing": {"compile_s": run.compile_s, "run_s": run.run_s,
                           "chunks_computed": run.chunks_computed,
                           "chunks_loaded": run.chunks_loaded},
                **(extra or {})}
    arrays["metadata"] = np.array(json.dumps(metadata))
    return arrays


def configuration_arrays(labels: list[dict]) -> dict[str, np.ndarray]:
    """The members `configuration_<field>` of CONFIGURATION_FIELDS from the labels."""
    return {"configuration_time_model": np.array([str(label["time_model"])
                                                  for label in labels]),
            "configuration_workers": np.array([label["workers"] for label in labels],
                                              np.int64),
            "configuration_heterogeneity": np.array(
                [label.get("heterogeneity", np.nan) for label in labels], np.float64),
            "configuration_cluster": np.array([label.get("cluster", -1) for label in labels],
                                              np.int64)}


@dataclasses.dataclass
class SweepResults:
    """A sweep read back by `load_sweep`.

    policies: tuple of P names. seeds: int64[S] seed indices. grid: dict of GRID_FIELDS ->
    [G] arrays (configuration index, workers, budget, absolute alpha and eta, alpha_scale,
    eta_scale, discount, spread, explore_samples). configurations: dict of
    CONFIGURATION_FIELDS -> [N] arrays (each configuration's time model, n, σ and cluster
    index; NaN and -1 where it is not a random cluster), so
    `configurations["heterogeneity"][grid["configuration"]]` is each point's σ;
    labels: the configurations' labels in full (list of N dicts).
    totals: metric name -> float64[P, G, S], each metric's totals over the K rounds
    (`ata_jax.metrics.METRICS`: regret NaN where undefined, GTA; wasted_time 0 for a model
    without failures), also readable as attributes (`results.runtime`, `results.idle_time`).
    curves: None, or dict round_time/worker_time/regret -> float64[P, G, S, C], per-round
    means over the blocks of rounds ending at `curve_round_end` (int64[C]).
    config: the sweep's configuration (every setting); metadata: config plus package
    version, command line, device and timing.
    """

    policies: tuple[str, ...]
    seeds: np.ndarray
    grid: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]
    curves: dict[str, np.ndarray] | None
    curve_round_end: np.ndarray | None
    config: dict
    metadata: dict
    configurations: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    labels: list[dict] = dataclasses.field(default_factory=list)

    def __getattr__(self, name):
        totals = self.__dict__.get("totals", {})
        if name in totals:
            return totals[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def field(self, name: str, policy: str) -> np.ndarray:
        """One metric of one policy: float64[G, S]."""
        return self.totals[name][self.policies.index(policy)]

    def to_xarray(self):
        """An xarray.Dataset: dimensions policy, point (the grid points, the grid values as
        coordinates), seed[, round: the curves' blocks]; the config and metadata as
        attributes (`ata_jax.labelled.sweep_dataset`; needs the extra `xarray`)."""
        from ata_jax.labelled import sweep_dataset

        return sweep_dataset(self)

    def to_frame(self):
        """A long pandas DataFrame: one row per (policy, grid point, seed) with columns
        policy, point, the grid fields, the configuration's time_model, heterogeneity and
        cluster, seed and every metric's total. Needs pandas."""
        try:
            import pandas
        except ImportError:
            raise ImportError("SweepResults.to_frame needs pandas (pip install pandas); the "
                              "arrays themselves are plain NumPy attributes") from None
        num_policies, num_points, num_seeds = self.totals["runtime"].shape
        policy, point, seed = np.meshgrid(np.arange(num_policies), np.arange(num_points),
                                          np.arange(num_seeds), indexing="ij")
        columns = {"policy": np.asarray(self.policies)[policy.ravel()],
                   "point": point.ravel()}
        for name, values in self.grid.items():
            columns[name] = values[point.ravel()]
        for name, values in self.configurations.items():
            if name != "workers":
                columns[name] = values[self.grid["configuration"][point.ravel()]]
        columns["seed"] = self.seeds[seed.ravel()]
        for name, values in self.totals.items():
            columns[name] = values.ravel()
        return pandas.DataFrame(columns)


def load_sweep(path: str) -> SweepResults:
    """Read a sweep written by `ata-jax sweep --out FILE` (see the module docstring)."""
    with np.load(path, allow_pickle=False) as stored:
        return results_from_members(stored, path)


def results_from_members(stored, path: str) -> SweepResults:
    """A SweepResults from the members of a results file (an open .npz or a dict)."""
    files = set(stored.files if hasattr(stored, "files") else stored)
    metadata = json.loads(str(stored["metadata"]))
    if metadata.get("format") not in READABLE_FORMATS:
        raise ValueError(f"{path}: not an ata-jax sweep file (format "
                         f"{metadata.get('format')!r})")
    curves = ({name: stored[f"curve_{name}"] for name in CURVE_FIELDS}
              if "curve_round_end" in files else None)
    # a store written before a metric existed lacks its member
    names = metadata.get("metrics", SUMMARY_FIELDS)
    grid = {name: stored[name] for name in GRID_FIELDS if name in files}
    if "configuration_workers" in files:
        configurations = {name: stored[f"configuration_{name}"]
                          for name in CONFIGURATION_FIELDS}
        labels = metadata["configurations"]
    else:  # format /1: one configuration per n, in the order of the sweep's workers
        workers = list(metadata["config"]["workers"])
        labels = [{"time_model": metadata["config"]["time_model"], "workers": n}
                  for n in workers]
        configurations = {name[len("configuration_"):]: values
                          for name, values in configuration_arrays(labels).items()}
        grid = {"configuration": np.array([workers.index(n) for n in grid["workers"]],
                                          np.int64), **grid}
    if "spread" not in grid:  # formats /1 and /2: the sweep's one value of each
        config = SweepConfig.from_dict(metadata["config"])
        size = len(grid["workers"])
        grid["spread"] = np.full(size, config.spread[0], np.float64)
        grid["explore_samples"] = np.full(size, config.explore_samples[0], np.int64)
    return SweepResults(
        policies=tuple(str(name) for name in stored["policy"]), seeds=stored["seed"],
        grid=grid,
        totals={name: stored[name] for name in names if name in files},
        curves=curves,
        curve_round_end=stored["curve_round_end"] if curves is not None else None,
        config=metadata["config"], metadata=metadata, configurations=configurations,
        labels=labels)


def save_sweep_part(path: str, run: SweepRun, *, command: str = "") -> None:
    """Write the block `run.part` of a sweep to `path` (.npz, atomically): members `totals`
    float32[R, M] and `curves` float32[R, 3, C] (its runs, chunk by chunk, as
    `SweepPart`), `chunk_group` str[Q] and `chunk_index` int64[Q] (its Q chunks) and
    `metadata` (JSON: format, fingerprint, config, process_count, process_index, chunk_runs
    (the plan), groups, points, configurations, solver, command, timing, ata_jax)."""
    from ata_jax.provenance import package_version

    part = run.part
    metadata = {"format": PART_FORMAT, "fingerprint": config_fingerprint(run.config),
                "config": run.config.to_dict(), "process_count": part.process_count,
                "process_index": part.process_index, "chunk_runs": part.plan,
                "groups": [group._asdict() for group in part.groups],
                "points": [point._asdict() for point in run.points],
                "configurations": run.labels, "solver": run.solver, "command": command,
                "ata_jax": package_version(),
                "timing": {"compile_s": run.compile_s, "run_s": run.run_s,
                           "chunks_computed": run.chunks_computed,
                           "chunks_loaded": run.chunks_loaded}}
    write_npz_atomically(path, compressed=True, totals=part.totals, curves=part.curves,
                         chunk_group=np.array([name for name, _ in part.chunks], dtype=str),
                         chunk_index=np.array([index for _, index in part.chunks], np.int64),
                         metadata=np.array(json.dumps(metadata)))


def load_sweep_part(path: str) -> SweepRun:
    """A part file of `save_sweep_part` as a SweepRun with `.part` (totals all NaN: only
    `merge_sweeps` places its runs). SweepError (one line) when `path` is no such part."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            metadata = json.loads(str(stored["metadata"]))
            if metadata.get("format") != PART_FORMAT:
                raise SweepError(f"{path} is not an ata-jax sweep part (format "
                                 f"{metadata.get('format')!r}, expected {PART_FORMAT!r})")
            totals, curves = stored["totals"], stored["curves"]
            chunks = [(str(name), int(index)) for name, index in
                      zip(stored["chunk_group"], stored["chunk_index"])]
        config = SweepConfig.from_dict(metadata["config"])
        groups = [Group(**{key: tuple(value) if isinstance(value, list) else value
                           for key, value in group.items()}) for group in metadata["groups"]]
        points = [GridPoint(**point) for point in metadata["points"]]
        part = SweepPart(int(metadata["process_count"]), int(metadata["process_index"]),
                         {name: int(size) for name, size in metadata["chunk_runs"].items()},
                         groups, chunks, totals, curves)
        timing = metadata["timing"]
    except SweepError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            zipfile.BadZipFile) as error:  # EOFError: an empty file
        raise SweepError(f"{path} is not an ata-jax sweep part "
                         f"({type(error).__name__}: {error})") from None
    if metadata["fingerprint"] != config_fingerprint(config):
        raise SweepError(f"{path}: its configuration does not match its fingerprint")
    num_curves = config.curve_points
    nan = np.full((len(config.policies), len(points), config.seeds, len(SUMMARY_FIELDS)),
                  np.nan)
    nan_curves = (np.full(nan.shape[:3] + (len(CURVE_FIELDS), num_curves), np.nan)
                  if num_curves else None)
    return SweepRun(config, points, nan, nan_curves, float(timing["compile_s"]),
                    float(timing["run_s"]), int(timing["chunks_computed"]),
                    int(timing["chunks_loaded"]), metadata["configurations"],
                    metadata["solver"], part)
