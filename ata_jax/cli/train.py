"""`ata-jax train`: distributed SGD on a problem, timed under each allocator; a table and JSON."""

from __future__ import annotations

import argparse
import math
import sys

from ata_jax.cli.common import (INTERRUPTED, MAX_TABLES, UsageError, add_allocator_arguments,
                                add_solver_argument, allocator_settings, check_limit,
                                check_output_path, format_number, learner_parameters,
                                name_list, policy_list, setting_float, positive_int, seed_int,
                                worker_configurations, worker_list)
from ata_jax.files import write_json_atomically


def add_parser(commands) -> None:
    """Register `train` on the subcommand set `commands`."""
    from ata_jax.allocators import ALL_POLICY_NAMES, POLICY_NAMES
    from ata_jax.timemodels import PRESETS
    from ata_jax.training import OPTIMIZERS, PROBLEMS

    train = commands.add_parser(
        "train", help="distributed SGD on a problem, timed under each allocator",
        description="Run synchronous minibatch SGD (B task gradients per round) on a problem; "
                    "the iterates are the same for every allocator, each allocator gives its "
                    "own cumulative runtime and worker time (spec §6).")
    train.add_argument("--problem", default=None, metavar="NAME",
                       help=f"one of {', '.join(PROBLEMS)} (default: quadratic)")
    train.add_argument("--loss-curve", default=None, metavar="FILE",
                       help="instead of a problem, a recorded per-round training loss (CSV "
                            "round,loss with a header line) joined to each allocator's time "
                            "axes; the shipped curve: digits-mlp (in a checkout "
                            f"{SHIPPED_CURVE_PATH})")
    train.add_argument("--target", type=finite_float, default=None, metavar="LOSS",
                       help="with --loss-curve: report each allocator's time and worker "
                            "time to first reach a loss <= LOSS")
    train.add_argument("--time-model", type=name_list, default=["cifar"], metavar="NAME",
                       help=f"a preset ({', '.join(PRESETS)}), a model file or a trace "
                            "(.csv/.parquet); with --loss-curve also a comma list, crossed "
                            "with --workers (default: cifar)")
    train.add_argument("--workers", type=worker_list, default=None, metavar="N",
                       help="number of workers n for a preset (default: 51); with "
                            "--loss-curve also a comma list")
    train.add_argument("--budget", type=positive_int, default=23, metavar="B",
                       help="tasks (stochastic gradients) per round (default: 23)")
    train.add_argument("--rounds", type=positive_int, default=None, metavar="K",
                       help="rounds (optimiser steps) per seed (default: 2000, or the last "
                            "round of --loss-curve)")
    train.add_argument("--seeds", type=positive_int, default=4, metavar="S",
                       help="independent seeds (default: 4)")
    train.add_argument("--policies", type=policy_list, default=list(POLICY_NAMES),
                       metavar="LIST", help=f"comma list of {', '.join(ALL_POLICY_NAMES)} "
                                            "(default: the paper's five)")
    train.add_argument("--alpha", type=setting_float, default=None, metavar="A",
                       help="ATA's alpha (default: the model's true value)")
    train.add_argument("--eta", type=setting_float, default=None, metavar="E",
                       help="ATA-Empirical's eta (default: the model's true value)")
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=None,
                       help="optimiser (default: the problem's own: adam for digits, sgd "
                            "otherwise)")
    train.add_argument("--learning-rate", type=setting_float, default=None, metavar="LR",
                       help="learning rate (default: the problem's, e.g. 1e-4 for quadratic "
                            "with sgd, 1e-3 for digits with adam)")
    train.add_argument("--seed", type=seed_int, default=0, metavar="INT",
                       help="master seed (default: 0)")
    train.add_argument("--points", type=positive_int, default=1000, metavar="P",
                       help="at most this many points per curve, round 0 included (default: "
                            "1000)")
    train.add_argument("--out", default=None, metavar="FILE", help="write the curves as JSON")
    add_allocator_arguments(train)
    add_solver_argument(train)
    train.set_defaults(handler=run_train)


SHIPPED_CURVE_PATH = "ata_jax/data/loss_curves/digits-mlp.csv"
"""The shipped loss curve, relative to a checkout (`ata_jax.training.shipped_loss_curve()`)."""


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def format_table(document: dict) -> str:
    """Per allocator: the final metric, cumulative runtime and worker time (means over seeds),
    and with a target the time and worker time to reach it ("never": null in the JSON)."""
    config = document["config"]
    metric = config["metric_name"]
    what = (f"loss curve {config['loss_curve']}" if config["problem"] == "loss-curve" else
            f"{config['problem']} ({config['optimizer']}, learning rate "
            f"{config['learning_rate']:g})")
    targeted = "target" in config
    lines = [f"{what} on time model {config['time_model']}: "
             f"n={config['workers']}, B={config['budget']}, K={config['rounds']} rounds, "
             f"S={config['seeds']} seeds",
             f"{'policy':<15}{'final ' + metric:>22}{'runtime':>14}{'worker time':>14}"
             + (f"{'time to target':>16}{'worker time to target':>23}" if targeted else "")
             + "   (at round K, means over seeds)"]
    shown = lambda value: "never" if value is None else format_number(value)
    for name, row in document["policies"].items():
        lines.append(f"{name:<15}{format_number(row['suboptimality'][-1]):>22}"
                     f"{format_number(row['runtime'][-1]):>14}"
                     f"{format_number(row['worker_time'][-1]):>14}"
                     + (f"{shown(row['time_to_target']):>16}"
                        f"{shown(row['worker_time_to_target']):>23}" if targeted else ""))
    if targeted:
        reached = config["target_round"]
        lines.append(f"target {metric} {config['target']:g}: " + (
            f"first reached at round {reached}" if reached is not None else
            f"never reached within {config['rounds']} rounds (lowest "
            f"{format_number(config['lowest_loss'])})"))
    for name, values in document.get("evaluations", {}).items():
        lines.append(f"final {name.replace('_', ' ')}: {values[-1]:.4f} (all allocators)")
    return "\n".join(lines)


def run_document(arguments: argparse.Namespace) -> dict:
    """Validate the arguments, train (or join --loss-curve), and return the JSON document (a
    UsageError on a mistake, before any simulation)."""
    from ata_jax.progress import Progress, reporting
    from ata_jax.simulate import check_policy_inputs, device_kind
    from ata_jax.training import (PROBLEMS, LossCurveError, MissingDependencyError,
                                  TrainingDivergedError, make_problem, read_loss_curve, train,
                                  train_on_loss_curve)
    from ata_jax.training.loss_curve import check_covers

    command = "ata-jax train"
    curve = None
    names = arguments.time_model
    if arguments.loss_curve is not None:
        given = [flag for flag, value in (("--problem", arguments.problem),
                                          ("--optimizer", arguments.optimizer),
                                          ("--learning-rate", arguments.learning_rate))
                 if value is not None]
        if given:
            raise UsageError(f"{command}: --loss-curve replaces the training run: drop "
                             f"{', '.join(given)}")
    else:
        if arguments.target is not None:
            raise UsageError(f"{command}: --target needs --loss-curve FILE (a recorded loss)")
        if len(names) > 1 or len(arguments.workers or []) > 1:
            raise UsageError(f"{command}: a list of configurations (comma lists in "
                             "--time-model or --workers) needs --loss-curve FILE")
    problem_name = arguments.problem or "quadratic"
    if arguments.loss_curve is None and problem_name not in PROBLEMS:
        raise UsageError(f"{command}: unknown problem {problem_name!r}; valid problems: "
                         f"{', '.join(PROBLEMS)}")
    check_output_path(arguments.out, command)
    if arguments.points < 2:
        raise UsageError(f"{command}: --points must be >= 2 (the start and round K), got "
                         f"{arguments.points}")
    rounds = arguments.rounds or 2000
    if arguments.loss_curve is not None:
        try:
            curve = read_loss_curve(arguments.loss_curve)
            rounds = arguments.rounds or int(curve.rounds[-1])
            if rounds < 1:
                raise LossCurveError(f"{curve.path}: the curve holds round 0 alone")
            check_covers(curve, rounds)
        except LossCurveError as error:
            raise UsageError(f"{command}: --loss-curve {error}") from None
    from ata_jax.limits import check_host_results, check_run_sizes
    from ata_jax.metrics import METRICS

    check_limit(command, check_run_sizes, budget=arguments.budget, num_rounds=rounds,
                num_seeds=arguments.seeds, workers=arguments.workers or ())
    entries = worker_configurations(command, names, arguments.workers, None, None,
                                    seed=arguments.seed, rounds=rounds,
                                    budgets=[arguments.budget])
    # every run keeps its per-round records on the host (the time axes)
    check_limit(command, check_host_results, len(entries) * arguments.seeds,
                len(arguments.policies), len(METRICS), rounds, "fewer rounds")
    options = allocator_settings(command, arguments)
    try:  # msync's budget, ofta-expected's stationary model: before any training
        check_policy_inputs([model for _, model in entries], arguments.policies,
                            budget=arguments.budget, num_rounds=rounds, **options)
    except ValueError as error:
        raise UsageError(f"{command}: {error}") from None
    parameters = [learner_parameters(command, model, arguments.policies, arguments.alpha,
                                     arguments.eta, arguments.confidence)
                  for _, model in entries]
    single = len(entries) == 1
    settings = dict(budget=arguments.budget, num_rounds=rounds, num_seeds=arguments.seeds,
                    seed=arguments.seed, max_points=arguments.points, solver=arguments.solver,
                    **options)
    if single:
        settings.update(alpha=parameters[0][0], eta=parameters[0][1])
    else:  # None: each configuration's own true values
        settings.update(alpha=arguments.alpha, eta=arguments.eta)
    if curve is None:
        try:
            problem = make_problem(problem_name)
        except MissingDependencyError as error:
            raise UsageError(f"{command}: {error}") from None
        optimizer = arguments.optimizer or problem.preferred_optimizer
    models = [model for _, model in entries]
    try:
        with reporting(Progress("train")) as progress:  # the bar ends before any message
            if curve is None:
                runs = [train(problem, models[0], arguments.policies, optimizer=optimizer,
                              learning_rate=arguments.learning_rate, progress=progress,
                              **settings)]
            else:
                runs = train_on_loss_curve(curve, models[0] if single else models,
                                           arguments.policies, progress=progress, **settings)
                runs = [runs] if single else runs
    except (TrainingDivergedError, ValueError) as error:
        raise UsageError(f"{command}: {error}") from None
    documents = [run_entry(run, label, curve, arguments.target)
                 for run, (label, _) in zip(runs, entries)]
    timing = {key: sum(run.timing[key] for run in runs) for key in runs[0].timing}
    timing.update(device=device_kind())
    if single:
        return dict(documents[0], timing=timing)
    configs = [entry["config"] for entry in documents]
    shared = {key: value for key, value in configs[0].items()
              if all(config.get(key) == value for config in configs)}
    return {"config": dict(shared, configurations=len(configs)),
            "configurations": documents, "timing": timing}


def run_entry(run, label: dict, curve, target: float | None) -> dict:
    """One configuration's {"config", "policies", "evaluations"} of a TrainingRun; with a
    target, each policy's time and worker time to it (null when never reached)."""
    from ata_jax.training.loss_curve import first_round_reaching, time_to_target

    config = dict(run.settings, **label, metric_name=run.metric_name,
                  points=len(run.rounds), round_zero_is_start=bool(run.rounds[0] == 0))
    config.pop("max_points")
    reached = {}
    if target is not None:
        rounds = config["rounds"]
        target_round = first_round_reaching(curve, target, rounds)
        config.update(target=target, target_round=target_round,
                      lowest_loss=float(curve.loss[curve.rounds <= rounds].min()))
        reached = time_to_target(run, target_round)
    entry = {"config": config, "policies": {},
             "evaluations": {name: values.mean(axis=0).tolist()
                             for name, values in run.evaluations.items()}}
    checkpoints = run.rounds.tolist()
    metric_mean = run.suboptimality.mean(axis=0).tolist()
    metric_std = run.suboptimality.std(axis=0).tolist()
    for name in config["policies"]:
        row = entry["policies"][name] = {
            "round": checkpoints, "suboptimality": metric_mean,
            "suboptimality_std": metric_std,
            "runtime": run.runtime[name].mean(axis=0).tolist(),
            "runtime_std": run.runtime[name].std(axis=0).tolist(),
            "worker_time": run.worker_time[name].mean(axis=0).tolist(),
            "worker_time_std": run.worker_time[name].std(axis=0).tolist()}
        for key, values in reached.get(name, {}).items():
            label_name = "time" if key == "runtime" else key
            row[f"{label_name}_to_target"] = None if values is None else float(values.mean())
            row[f"{label_name}_to_target_std"] = (None if values is None
                                                  else float(values.std()))
    return entry


def run_train(arguments: argparse.Namespace) -> int:
    try:
        document = run_document(arguments)
    except KeyboardInterrupt:
        print("ata-jax train: interrupted; nothing written", file=sys.stderr)
        return INTERRUPTED
    if arguments.out is not None:
        write_json_atomically(arguments.out, document)
    entries = document.get("configurations", [document])
    print("\n\n".join(format_table(entry) for entry in entries[:MAX_TABLES]))
    if len(entries) > MAX_TABLES:
        print(f"\n... and {len(entries) - MAX_TABLES} more configurations"
              + (f" in {arguments.out}" if arguments.out else " (write them with --out)"))
    timing = document["timing"]
    recorded = document["config"]["problem"] == "loss-curve"  # no training run of ours
    print(("" if recorded else f"training: compile {timing['training_compile_s']:.2f} s, run "
                               f"{timing['training_run_s']:.2f} s; ")
          + f"simulation: compile {timing['simulation_compile_s']:.2f} s, run "
          f"{timing['simulation_run_s']:.2f} s on {timing['device']}")
    return 0
