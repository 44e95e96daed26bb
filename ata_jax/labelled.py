"""Results as labelled `xarray.Dataset`s and netCDF files (the optional extra `xarray`).

`simulate`'s results and `load_sweep`'s have `.to_xarray()`; `ata-jax simulate|sweep --out
FILE.nc` writes the same Dataset as netCDF. The file is netCDF3 (64-bit offsets), written
with scipy's backend: scipy is a core dependency, so the extra adds xarray alone, and every
netCDF reader opens it. netCDF3 has no int64, bool or list-of-strings attributes, so the
Dataset is built to survive a round trip unchanged: integer coordinates are int32 (they are
seed indices, rounds, n and B), and every attribute is a str, an int that fits int32 or a
float; anything else (None, a list, a dict, a bool, a larger int) is its JSON text. The
attribute `config` holds every setting as one JSON document, `provenance` the package and
JAX versions, the device and the command line.
"""

from __future__ import annotations

import json
import math
from typing import Sequence

import numpy as np

from ata_jax.files import json_safe, write_atomically
from ata_jax.provenance import provenance

INSTALL_HINT = "pip install 'ata-jax[xarray]'"
NETCDF_SUFFIX = ".nc"
INT32 = np.iinfo(np.int32)


def is_netcdf_path(path: str | None) -> bool:
    """Whether an --out path asks for netCDF (by its suffix, case-insensitive)."""
    return path is not None and str(path).lower().endswith(NETCDF_SUFFIX)


def require_xarray():
    """The xarray module, or an ImportError that says how to install it."""
    try:
        import xarray
    except ImportError:
        raise ImportError(f"labelled results (.to_xarray(), --out FILE.nc) need xarray, "
                          f"which is not installed: {INSTALL_HINT}") from None
    return xarray


def netcdf_attribute(value):
    """`value` as a netCDF3 attribute that reads back equal: str, float and int32 as they
    are, anything else as JSON text."""
    if isinstance(value, str) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and \
            INT32.min <= value <= INT32.max:
        return int(value)
    return json.dumps(json_safe(value))


def netcdf_attributes(settings: dict) -> dict:
    """Each setting as its own attribute (`netcdf_attribute`)."""
    return {str(key): netcdf_attribute(value) for key, value in settings.items()}


def dataset_attributes(kind: str, config: dict, extra: dict | None = None) -> dict:
    """The Dataset's attributes: format, every setting of `config` on its own and as one
    JSON document, provenance (JSON) and `extra`'s entries."""
    return {"format": kind, **netcdf_attributes(config),
            "config": json.dumps(json_safe(config)),
            "provenance": json.dumps(json_safe(provenance())),
            **netcdf_attributes(extra or {})}


def label_coordinates(labels: Sequence[dict], dim: str) -> dict:
    """Coordinates along `dim` from configuration labels: time_model (str), workers (int32),
    heterogeneity (float, NaN when absent) and cluster (int32, -1 when absent)."""
    return {"time_model": (dim, [str(label["time_model"]) for label in labels]),
            "workers": (dim, np.asarray([label["workers"] for label in labels], np.int32)),
            "heterogeneity": (dim, np.asarray([label.get("heterogeneity", np.nan)
                                               for label in labels], np.float64)),
            "cluster": (dim, np.asarray([label.get("cluster", -1) for label in labels],
                                        np.int32))}


def simulation_dataset(configurations: Sequence[dict], settings: dict,
                       labels: Sequence[dict] | None, single: bool):
    """The Dataset of simulate's results: configurations[c][policy] a PolicyResult.

    Dimensions: policy [P], seed [S] (coordinate: the seed indices j), round [K] (1..K, with
    recorded rounds), and configuration [C] unless `single`. Variables: every metric's
    per-seed totals (float64, time units or counts; METRIC_NAMES), with recorded rounds
    "<name>_per_round" for each curve metric ([..., seed, round]); timing compile_s, run_s
    per policy (seconds). labels: each configuration's label (coordinates time_model,
    workers, heterogeneity, cluster), else only workers, from settings["workers"].
    """
    from ata_jax.metrics import CURVE_NAMES, METRIC_NAMES

    xarray = require_xarray()
    policies = list(configurations[0])
    first = configurations[0][policies[0]]
    num_seeds = len(first.totals.runtime)
    lead = () if single else ("configuration",)
    stack = lambda read: np.stack([np.stack([read(results[name]) for name in policies])
                                   for results in configurations])
    pick = (lambda array: array[0]) if single else (lambda array: array)
    data = {name: (lead + ("policy", "seed"),
                   pick(stack(lambda result: np.asarray(getattr(result.totals, name)))))
            for name in METRIC_NAMES}
    coords = {"policy": policies,
              "seed": np.arange(settings["first_seed"], settings["first_seed"] + num_seeds,
                                dtype=np.int32)}
    if first.per_round is not None:
        num_rounds = first.per_round.round_time.shape[1]
        coords["round"] = np.arange(1, num_rounds + 1, dtype=np.int32)
        for field, name in zip(first.per_round._fields, CURVE_NAMES):
            data[f"{name}_per_round"] = (
                lead + ("policy", "seed", "round"),
                pick(stack(lambda result: np.asarray(getattr(result.per_round, field)))))
    for name in ("compile_s", "run_s"):
        data[name] = (lead + ("policy",), pick(stack(lambda result: getattr(result, name))))
    config = dict(settings, policies=policies)
    if not single:
        coords["configuration"] = np.arange(len(configurations), dtype=np.int32)
        if labels is not None:
            coords.update(label_coordinates(labels, "configuration"))
        else:
            coords["workers"] = ("configuration", np.asarray(settings["workers"], np.int32))
        for name in ("alpha", "eta", "true_alpha", "true_eta"):
            coords[name] = ("configuration", np.asarray(settings[name], np.float64))
            config.pop(name)
        config.pop("workers")
    elif labels is not None:
        config.update(labels[0])
    dataset = xarray.Dataset(data, coords=coords,
                             attrs=dataset_attributes("ata-jax-simulate/1", config))
    for name in METRIC_NAMES:
        dataset[name].attrs["long_name"] = _description(name)
    return dataset


def _description(metric_name: str) -> str:
    from ata_jax.metrics import METRICS

    return next(metric.description for metric in METRICS if metric.name == metric_name)


def sweep_dataset(results):
    """The Dataset of a sweep (`ata_jax.sweepfile.SweepResults`).

    Dimensions: policy [P], point [G] (the grid points, in grid order; coordinates the grid
    values: configuration, workers, budget, alpha, eta, alpha_scale, eta_scale, discount,
    spread, explore_samples, and the configuration's time_model, heterogeneity and cluster),
    seed [S], and with curves round [C] (coordinate: the last round of each block;
    "curve_<name>": per-round means over the block). Variables: every metric's totals
    [policy, point, seed] (float64). Attributes: the sweep's config and metadata (grid_shape,
    grid_axes, configurations, timing, ...).
    """
    from ata_jax.sweepfile import FORMAT

    xarray = require_xarray()
    dims = ("policy", "point", "seed")
    data = {name: (dims, values) for name, values in results.totals.items()}
    coords = {"policy": list(results.policies),
              "point": np.arange(len(results.grid["workers"]), dtype=np.int32),
              "seed": np.asarray(results.seeds, np.int32)}
    for name, values in results.grid.items():
        values = np.asarray(values)
        coords[name] = ("point", values.astype(np.int32) if values.dtype.kind == "i"
                        else values)
    per_point = [results.labels[index] for index in results.grid["configuration"]]
    labelled = label_coordinates(per_point, "point")
    coords.update({name: labelled[name] for name in ("time_model", "heterogeneity", "cluster")})
    if results.curves is not None:
        coords["round"] = np.asarray(results.curve_round_end, np.int32)
        for name, values in results.curves.items():
            data[f"curve_{name}"] = (dims + ("round",), values)
    metadata = {key: value for key, value in results.metadata.items() if key != "config"}
    return xarray.Dataset(data, coords=coords,
                          attrs=dataset_attributes(FORMAT, results.config,
                                                   {"metadata": metadata}))


def write_netcdf(dataset, path: str) -> None:
    """`dataset` as a netCDF3 file (scipy's backend), atomically."""
    contents = dataset.to_netcdf(engine="scipy")
    write_atomically(path, lambda stream: stream.write(bytes(contents)))
