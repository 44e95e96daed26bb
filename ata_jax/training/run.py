"""`train`: iterates computed once per seed, joined to every allocator's time axes.

For synchronous minibatch SGD every allocator yields the same iterates (spec §6); what differs
is when each round ends. So the metric at round k is paired with each allocator's cumulative
runtime Σ_{j≤k} C_j and cumulative worker time Σ_{j≤k} Σ_i T_ij of the same seed, taken from
`simulate(..., record_rounds=True)` with the same master seed.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ata_jax.allocators import POLICY_NAMES
from ata_jax.progress import ProgressLike, notify
from ata_jax.simulate import PolicyResult, default_alpha, seed_keys, simulate
from ata_jax.solvers import resolve_solver
from ata_jax.timemodels import TimeModel
from ata_jax.training.decimation import checkpoint_schedule
from ata_jax.training.iterates import (TrainingDivergedError, compute_iterates,
                                       make_optimizer)
from ata_jax.training.problem import Problem


@dataclasses.dataclass
class TrainingRun:
    """A training run under several allocators. P = number of checkpoints, S = seeds.

    rounds: int64[P], the rounds measured: 0 (the start x_0, time 0), then evenly spaced up to
    K (always the last). suboptimality: float64[S, P], the problem's metric, which is
    f(x_k) − f* when metric_name is 'suboptimality' and the full training loss when it is
    'training loss'; identical for every allocator. evaluations: name -> float64[S, P] (e.g.
    'test_accuracy'). runtime[name], worker_time[name]: float64[S, P], cumulative over rounds
    1..k per seed (0 at round 0). simulation[name]: simulate's PolicyResult (per-round records
    included). settings: every setting used. timing: seconds (training compile/run,
    simulation compile/run).
    """

    problem: str
    metric_name: str
    rounds: np.ndarray
    suboptimality: np.ndarray
    evaluations: dict[str, np.ndarray]
    runtime: dict[str, np.ndarray]
    worker_time: dict[str, np.ndarray]
    simulation: dict[str, PolicyResult]
    settings: dict
    timing: dict


def cumulative_at(per_round: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """Σ_{j≤k} per_round[:, j−1] for each k in rounds (0 for k = 0): [S, K] -> [S, P]."""
    totals = np.concatenate([np.zeros((per_round.shape[0], 1)), np.cumsum(per_round, axis=1)],
                            axis=1)
    return totals[:, rounds]


def check_finite(problem: Problem, optimizer: str, learning_rate: float, first_nonfinite,
                 metric: np.ndarray, rounds: np.ndarray) -> None:
    """Raise TrainingDivergedError naming the first bad round and the setting, if any."""
    setting = (f"problem {problem.name}, optimizer {optimizer}, learning rate {learning_rate:g}")
    if (first_nonfinite > 0).any():
        bad = np.where(first_nonfinite > 0, first_nonfinite, np.iinfo(np.int64).max)
        seed = int(bad.argmin())
        raise TrainingDivergedError(
            f"training diverged ({setting}): parameters are NaN or infinite after round "
            f"{int(bad[seed])} (seed {seed}); try a smaller learning rate")
    if not np.isfinite(metric).all():
        point = int(np.argmax(~np.isfinite(metric).all(axis=0)))
        seed = int(np.argmax(~np.isfinite(metric[:, point])))
        raise TrainingDivergedError(
            f"training diverged ({setting}): the {problem.metric_name} is "
            f"{metric[seed, point]} at round {int(rounds[point])} (seed {seed}; first "
            "non-finite checkpoint); try a smaller learning rate")


def train(problem: Problem, model: TimeModel, policies: Sequence[str] = POLICY_NAMES, *,
          budget: int, num_rounds: int, num_seeds: int, seed: int = 0, optimizer: str = "sgd",
          learning_rate: float | None = None, alpha: float | None = None,
          eta: float | None = None, max_points: int = 1000, discount: float = 0.998,
          window: int = 500, counting: str = "task", solver: str = "auto",
          spread: float = 1.0, explore_samples: int = 10, confidence: str = "final",
          progress: ProgressLike = None) -> TrainingRun:
    """Train `problem` with B = budget task gradients per round for K = num_rounds rounds on
    S = num_seeds seeds, and time it under each allocator in `policies` on `model`.

    learning_rate: None takes the problem's default for this optimizer ('sgd' or 'adam').
    alpha, eta, discount, window, counting, solver, spread, explore_samples, confidence: as
    in `simulate` (alpha/eta default to the model's true values). max_points: at most this
    many checkpoints (≥ 2), round 0 included.
    progress: as in `simulate` (a line when the iterates are done, then the simulation's).
    Raises TrainingDivergedError if the iterates or the metric stop being finite, ValueError
    for bad settings.
    """
    for label, value in (("budget", budget), ("num_rounds", num_rounds),
                         ("num_seeds", num_seeds)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(f"{label} must be an integer >= 1, got {value!r}")
    policies = list(policies)
    if not policies:
        raise ValueError("policies is empty; give at least one allocator")
    if learning_rate is None:
        if optimizer not in problem.default_learning_rates:
            raise ValueError(f"problem {problem.name} has no default learning rate for "
                             f"optimizer {optimizer!r}; pass learning_rate")
        learning_rate = problem.default_learning_rates[optimizer]
    transformation = make_optimizer(optimizer, learning_rate)
    schedule = checkpoint_schedule(num_rounds, max_points)

    keys = seed_keys(seed, num_seeds)
    iterates = compute_iterates(problem, transformation, keys, budget=budget, schedule=schedule)
    check_finite(problem, optimizer, learning_rate, iterates.first_nonfinite_round,
                 iterates.metric, schedule.rounds)
    notify(progress, f"training: {num_seeds} seeds x {num_rounds} rounds done (compile "
                     f"{iterates.compile_s:.1f} s, run {iterates.run_s:.1f} s)")

    simulation = simulate(model, policies, budget=budget, num_rounds=num_rounds,
                          num_seeds=num_seeds, seed=seed, alpha=alpha, eta=eta,
                          discount=discount, window=window, counting=counting,
                          record_rounds=True, solver=solver, spread=spread,
                          explore_samples=explore_samples, confidence=confidence,
                          progress=progress)
    runtime = {name: cumulative_at(result.per_round.round_time, schedule.rounds)
               for name, result in simulation.items()}
    worker_time = {name: cumulative_at(result.per_round.worker_time, schedule.rounds)
                   for name, result in simulation.items()}
    true_or = lambda given, true: float(true if given is None else given)
    settings = dict(problem=problem.name, problem_options=dict(problem.settings),
                    workers=int(model.size), budget=budget, rounds=num_rounds, seeds=num_seeds,
                    seed=seed, policies=policies, optimizer=optimizer,
                    learning_rate=float(learning_rate),
                    alpha=true_or(alpha, default_alpha(model, confidence)),
                    eta=true_or(eta, model.eta),
                    max_points=max_points, discount=discount, window=window, counting=counting,
                    solver=resolve_solver(solver), spread=spread,
                    explore_samples=explore_samples, confidence=confidence)
    timing = dict(training_compile_s=iterates.compile_s, training_run_s=iterates.run_s,
                  simulation_compile_s=sum(r.compile_s for r in simulation.values()),
                  simulation_run_s=sum(r.run_s for r in simulation.values()))
    return TrainingRun(problem.name, problem.metric_name, schedule.rounds, iterates.metric,
                       iterates.evaluations, runtime, worker_time, simulation, settings, timing)

