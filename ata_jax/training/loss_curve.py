"""A recorded training loss curve joined to each allocator's simulated time axes.

For synchronous minibatch SGD the iterates, and so the loss after round k, do not depend on
the allocator (spec §6): a loss curve recorded from any real run (CSV `round,loss`) is joined
to the cumulative runtime Σ_{j≤k} C_j and worker time Σ_{j≤k} Σ_i T_ij of each allocator's
simulation, and the time to reach a target loss read off. The join is NumPy post-processing
of `simulate(..., record_rounds=True)`.

File: UTF-8 CSV with a header line naming the columns `round` and `loss` (any order, no other
columns), blank lines skipped; round an integer ≥ 0, strictly increasing (gaps allowed: the
loss is known only at the recorded rounds; round 0 is the start, at time 0); loss a finite
number. Every error names the file and the line (the header is line 1).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from importlib import resources
from typing import Sequence

import numpy as np

from ata_jax.allocators import POLICY_NAMES
from ata_jax.progress import ProgressLike
from ata_jax.simulate import default_alpha, simulate
from ata_jax.solvers import resolve_solver
from ata_jax.timemodels import TimeModel
from ata_jax.limits import MAX_ROUNDS
from ata_jax.traces import csv_rows, parse_integer, parse_number
from ata_jax.training.run import TrainingRun, cumulative_at

COLUMNS = ("round", "loss")
RECORDED_LOSS = "recorded loss"
"""`TrainingRun.metric_name` of a run joined to a recorded curve."""
SHIPPED_LOSS_CURVES = ("digits-mlp",)
"""Curves shipped as package data (`shipped_loss_curve`); see experiments/record_loss_curve.py."""


class LossCurveError(ValueError):
    """A loss-curve file that is not a valid curve (the message names the file and line)."""


@dataclasses.dataclass(frozen=True)
class LossCurve:
    """A validated curve. rounds: int64[R], strictly increasing, ≥ 0. loss: float64[R],
    finite. lines: the file's line number of each row. path: the file as given."""

    path: str
    rounds: np.ndarray
    loss: np.ndarray
    lines: np.ndarray


def shipped_loss_curve(name: str = "digits-mlp") -> pathlib.Path:
    """The path of a curve shipped as package data (from a checkout and when installed)."""
    if name not in SHIPPED_LOSS_CURVES:
        raise LossCurveError(f"unknown shipped loss curve {name!r}; shipped: "
                             f"{', '.join(SHIPPED_LOSS_CURVES)}")
    resource = resources.files("ata_jax") / "data" / "loss_curves" / f"{name}.csv"
    return pathlib.Path(str(resource))


def read_loss_curve(path: str | pathlib.Path) -> LossCurve:
    """Read and validate a loss curve (module docstring); a LossCurveError otherwise. The
    name of a shipped curve (`SHIPPED_LOSS_CURVES`, e.g. "digits-mlp") that is not a file
    here reads that curve (an installed package has no checkout path)."""
    path = str(path)
    source = path
    if path in SHIPPED_LOSS_CURVES and not pathlib.Path(path).exists():
        source = str(shipped_loss_curve(path))
    columns, rows = csv_rows(source, "loss curve", "round,loss", LossCurveError)
    if any(parse_number(name) is not None for name in columns):
        raise LossCurveError(f"{path}: line 1: missing header; expected a header line "
                             f"round,loss, got {','.join(columns)}")
    if sorted(columns) != sorted(COLUMNS):
        raise LossCurveError(f"{path}: line 1: expected the columns round,loss (a header "
                             f"line), got {','.join(columns)}")
    position = {name: columns.index(name) for name in COLUMNS}
    rounds, losses, lines = [], [], []
    for where, fields in rows:
        if len(fields) != len(COLUMNS):
            raise LossCurveError(f"{path}: {where}: expected 2 fields (round,loss), got "
                                 f"{len(fields)}")
        raw_round, raw_loss = fields[position["round"]], fields[position["loss"]]
        round_number = parse_integer(raw_round)
        if round_number is None or round_number < 0:
            raise LossCurveError(f"{path}: {where}: round must be an integer >= 0, got "
                                 f"{raw_round.strip()!r}")
        if round_number > MAX_ROUNDS:  # no run is longer; and the column is int64
            raise LossCurveError(f"{path}: {where}: round {round_number} is above {MAX_ROUNDS}, "
                                 "the most rounds a run has")
        if rounds and round_number <= rounds[-1]:
            kind = "appears twice" if round_number == rounds[-1] else "comes after round " \
                f"{rounds[-1]}"
            raise LossCurveError(f"{path}: {where}: round {round_number} {kind}: the round "
                                 "column must increase strictly")
        loss = parse_number(raw_loss)
        if loss is None:
            raise LossCurveError(f"{path}: {where}: loss must be a number, got "
                                 f"{raw_loss.strip()!r}")
        if not math.isfinite(loss):
            raise LossCurveError(f"{path}: {where}: loss is {raw_loss.strip()} (it must be "
                                 "finite)")
        rounds.append(round_number)
        losses.append(loss)
        lines.append(int(where.split()[-1]))
    if not rounds:
        raise LossCurveError(f"{path}: no data rows after the header round,loss")
    return LossCurve(path, np.asarray(rounds, np.int64), np.asarray(losses, np.float64),
                     np.asarray(lines, np.int64))


def check_covers(curve: LossCurve, num_rounds: int) -> None:
    """A LossCurveError unless the curve reaches round K = num_rounds."""
    if curve.rounds[-1] < num_rounds:
        raise LossCurveError(f"{curve.path}: line {curve.lines[-1]}: the curve ends at round "
                             f"{curve.rounds[-1]}, before --rounds {num_rounds}: shorten "
                             "--rounds or record more rounds")


def first_round_reaching(curve: LossCurve, target: float, num_rounds: int) -> int | None:
    """The first recorded round k ≤ K with loss ≤ target, or None if none is."""
    reached = (curve.loss <= target) & (curve.rounds <= num_rounds)
    return int(curve.rounds[np.argmax(reached)]) if reached.any() else None


def kept_rows(curve: LossCurve, num_rounds: int, max_points: int) -> np.ndarray:
    """int64[P]: the rows with round ≤ K, thinned to at most max_points (≥ 2), evenly
    spaced among the rows, the first and the last always kept."""
    inside = np.flatnonzero(curve.rounds <= num_rounds)
    if inside.size <= max_points:
        return inside
    return inside[np.unique(np.round(np.linspace(0, inside.size - 1, max_points)).astype(int))]


def train_on_loss_curve(curve: LossCurve, model: TimeModel | Sequence[TimeModel],
                        policies: Sequence[str] = POLICY_NAMES, *, budget: int,
                        num_rounds: int, num_seeds: int, seed: int = 0,
                        alpha: float | None = None, eta: float | None = None,
                        max_points: int = 1000, discount: float = 0.998, window: int = 500,
                        counting: str = "task", solver: str = "auto",
                        progress: ProgressLike = None,
                        **policy_options) -> TrainingRun | list[TrainingRun]:
    """The recorded curve joined to each policy's K = num_rounds simulated rounds on `model`
    (B = budget, S = num_seeds): a TrainingRun whose rounds are the curve's kept rows
    (`kept_rows`), suboptimality the recorded loss (the same [S, P] rows for every seed and
    allocator), runtime and worker time cumulative per seed at those rounds (time units).
    A sequence of models (worker configurations, simulated as one batch) gives one
    TrainingRun per model. Settings as in `train`; a LossCurveError if the curve ends before
    round K. policy_options: simulate's spread, explore_samples, confidence."""
    check_covers(curve, num_rounds)
    several = not isinstance(model, TimeModel)
    simulation = simulate(list(model) if several else model, list(policies), budget=budget,
                          num_rounds=num_rounds, num_seeds=num_seeds, seed=seed, alpha=alpha,
                          eta=eta, discount=discount, window=window, counting=counting,
                          record_rounds=True, solver=solver, progress=progress,
                          **policy_options)
    settings = dict(problem="loss-curve", problem_options={}, loss_curve=curve.path,
                    budget=budget, rounds=num_rounds, seeds=num_seeds, seed=seed,
                    policies=list(policies), max_points=max_points, discount=discount,
                    window=window, counting=counting, solver=resolve_solver(solver),
                    **policy_options)
    rows = kept_rows(curve, num_rounds, max_points)
    if several:
        return [_joined(curve, rows, one, results, alpha, eta, settings)
                for one, results in zip(model, simulation)]
    return _joined(curve, rows, model, simulation, alpha, eta, settings)


def _joined(curve: LossCurve, rows: np.ndarray, model: TimeModel, simulation: dict,
            alpha: float | None, eta: float | None, settings: dict) -> TrainingRun:
    """One model's TrainingRun from its simulation (policy -> PolicyResult) and the rows."""
    rounds = curve.rounds[rows]
    runtime = {name: cumulative_at(result.per_round.round_time, rounds)
               for name, result in simulation.items()}
    worker_time = {name: cumulative_at(result.per_round.worker_time, rounds)
                   for name, result in simulation.items()}
    true_or = lambda given, true: float(true if given is None else given)
    settings = dict(settings, workers=int(model.size), alpha=true_or(
                        alpha, default_alpha(model, settings.get("confidence", "final"))),
                    eta=true_or(eta, model.eta))
    timing = dict(training_compile_s=0.0, training_run_s=0.0,
                  simulation_compile_s=sum(r.compile_s for r in simulation.values()),
                  simulation_run_s=sum(r.run_s for r in simulation.values()))
    loss = np.broadcast_to(curve.loss[rows], (settings["seeds"], rows.size)).copy()
    return TrainingRun("loss-curve", RECORDED_LOSS, rounds, loss, {}, runtime, worker_time,
                       simulation, settings, timing)


def time_to_target(run: TrainingRun, round_number: int | None) -> dict[str, dict]:
    """Per policy of `run`: {"runtime", "worker_time"}: float64[S], each seed's cumulative
    runtime and worker time after `round_number` rounds (from its full per-round records),
    or None for both when the target is never reached (round_number None)."""
    out = {}
    for name, result in run.simulation.items():
        if round_number is None:
            out[name] = {"runtime": None, "worker_time": None}
            continue
        at = np.asarray([round_number])
        out[name] = {"runtime": cumulative_at(result.per_round.round_time, at)[:, 0],
                     "worker_time": cumulative_at(result.per_round.worker_time, at)[:, 0]}
    return out
