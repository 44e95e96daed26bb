"""Model files (JSON or TOML) describing custom worker-time models, and `--time-model` names.

A model file lists worker groups in order; `count` repeats a description (default 1):

    # workers.toml
    [[workers]]
    family = "exponential"   # constant | exponential | uniform | half-normal | lognormal | gamma
    shift = 10.0
    mean = 5.0
    count = 8

    [[workers]]
    family = "gamma"
    shape = 2.0
    scale = 3.0

The same in JSON: {"workers": [{"family": "exponential", "shift": 10, "mean": 5, "count": 8},
{"family": "gamma", "shape": 2, "scale": 3}]}. The fields of each family are listed in
`ata_jax.timemodels` (FAMILY_FIELDS); unknown fields, missing fields and values out of range
are errors that name the file and the worker.
"""

from __future__ import annotations

import json
import os
import tomllib

from ata_jax.timemodels import PRESETS, ModelError, TimeModel, from_workers


def load_model_file(path: str) -> TimeModel:
    """Parse and validate a JSON (.json) or TOML (.toml) model file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ModelError(f"{path}: cannot read model file: {error.strerror}") from None
    try:
        if path.endswith(".toml"):
            document = tomllib.loads(raw.decode("utf-8"))
        else:
            document = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        kind = "TOML" if path.endswith(".toml") else "JSON"
        raise ModelError(f"{path}: not valid {kind}: {error}") from None
    if not isinstance(document, dict) or set(document) != {"workers"}:
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise ModelError(f"{path}: a model file holds exactly one key, 'workers' (a list of "
                         f"worker descriptions); found {found}")
    workers = document["workers"]
    if not isinstance(workers, list) or not workers:
        raise ModelError(f"{path}: 'workers' must be a non-empty list of worker descriptions")
    for index, worker in enumerate(workers):
        if not isinstance(worker, dict):
            raise ModelError(f"{path}: workers[{index}] must be a table/object, "
                             f"got {type(worker).__name__}")
    return from_workers(workers, where=path)


def resolve_time_model(name: str, num_workers: int | None, default_workers: int = 51
                       ) -> TimeModel:
    """A preset by name (with `num_workers`, default 51) or a model file by path.

    A model file fixes its own number of workers; an explicit `num_workers` that differs
    is an error rather than a silent override.
    """
    if name in PRESETS:
        return PRESETS[name](default_workers if num_workers is None else num_workers)
    if not os.path.exists(name):
        raise ModelError(f"unknown time model {name!r}: not a preset "
                         f"({', '.join(PRESETS)}) and no such model file")
    model = load_model_file(name)
    if num_workers is not None and num_workers != model.size:
        raise ModelError(f"{name}: the model file defines {model.size} workers but "
                         f"--workers {num_workers} was given")
    return model
