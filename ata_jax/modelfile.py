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
{"family": "gamma", "shape": 2, "scale": 3}]}. An optional `schedule` table makes the times
non-stationary (fields of `ata_jax.schedules`: change_round, change_factor, drift, period,
amplitude, phase, straggle_probability, straggle_factor, fail_start, fail_rounds, timeout;
per-worker fields take one number or a list of n):

    [schedule]
    change_round = 500          # from round 500 on, multiply worker times by change_factor
    change_factor = 3.0
    straggle_probability = 0.05 # each round, a worker slows by straggle_factor w.p. 0.05
    straggle_factor = 4.0
    fail_start = [0, 200, 0]    # worker 1 is down in rounds 200..299 ...
    fail_rounds = [0, 100, 0]
    timeout = 500.0             # ... and its tasks are reassigned 500 time units into a round

The fields of each family are listed in
`ata_jax.timemodels` (FAMILY_FIELDS); unknown fields, missing fields and values out of range
are errors that name the file and the worker.

A trace of measured task times (CSV or Parquet, columns worker,time[,round]) is a model too:
`--time-model path/to/trace.csv` replays it (see `ata_jax.traces`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib

from ata_jax.schedules import FIELDS as SCHEDULE_FIELDS
from ata_jax.schedules import ScheduleError, make_schedule
from ata_jax.timemodels import (PRESETS, SCHEDULED_PRESETS, ModelError, TimeModel,
                                from_workers)


def load_model_file(path: str, num_rounds: int | None = None) -> TimeModel:
    """Parse and validate a JSON (.json) or TOML (.toml) model file (num_rounds, if given,
    lets the schedule check that drifting times stay positive)."""
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
    if not isinstance(document, dict) or "workers" not in document or not set(document) <= {
            "workers", "schedule"}:
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise ModelError(f"{path}: a model file holds 'workers' (a list of worker "
                         f"descriptions) and optionally 'schedule'; found {found}")
    workers = document["workers"]
    if not isinstance(workers, list) or not workers:
        raise ModelError(f"{path}: 'workers' must be a non-empty list of worker descriptions")
    for index, worker in enumerate(workers):
        if not isinstance(worker, dict):
            raise ModelError(f"{path}: workers[{index}] must be a table/object, "
                             f"got {type(worker).__name__}")
    model = from_workers(workers, where=path)
    if "schedule" in document:
        if not isinstance(document["schedule"], dict):
            raise ModelError(f"{path}: 'schedule' must be a table/object")
        unknown = sorted(set(document["schedule"]) - set(SCHEDULE_FIELDS))
        if unknown:
            raise ModelError(f"{path}: schedule: unknown field(s) {', '.join(unknown)}; valid "
                             f"fields: {', '.join(SCHEDULE_FIELDS)}")
        try:
            schedule = make_schedule(model.size, f"{path}: schedule", num_rounds,
                                     **document["schedule"])
        except ScheduleError as error:
            raise ModelError(str(error)) from None
        model = dataclasses.replace(model, schedule=schedule)
    return model


def resolve_time_model(name: str, num_workers: int | None, num_rounds: int = 1000,
                       default_workers: int = 51, trace_order: str | None = None) -> TimeModel:
    """A preset by name (with `num_workers`, default 51), a model file or a trace by path.

    Scheduled presets (`cifar-swap`) place their change by the number of rounds. A path
    ending in .csv or .parquet is a trace of measured task times (`ata_jax.traces`),
    replayed in `trace_order` ("bootstrap", the default, or "recorded"); `trace_order` with
    anything but a trace is an error.

    A model file or trace fixes its own number of workers; an explicit `num_workers` that
    differs is an error rather than a silent override.
    """
    from ata_jax import traces

    if traces.is_trace_path(name):
        model = traces.load_trace_model(name, trace_order or "bootstrap")
        if num_workers is not None and num_workers != model.size:
            raise ModelError(f"{name}: the trace has {model.size} workers but "
                             f"--workers {num_workers} was given")
        return model
    if trace_order is not None:
        raise ModelError(f"{name}: a trace order ({trace_order}) applies only to a trace file "
                         f"({', '.join(traces.TRACE_SUFFIXES)})")
    workers = default_workers if num_workers is None else num_workers
    if name in PRESETS:
        return PRESETS[name](workers)
    if name in SCHEDULED_PRESETS:
        return SCHEDULED_PRESETS[name](workers, num_rounds)
    if not os.path.exists(name):
        raise ModelError(f"unknown time model {name!r}: not a preset "
                         f"({', '.join([*PRESETS, *SCHEDULED_PRESETS])}) and no such model file")
    model = load_model_file(name, num_rounds)
    if num_workers is not None and num_workers != model.size:
        raise ModelError(f"{name}: the model file defines {model.size} workers but "
                         f"--workers {num_workers} was given")
    return model
