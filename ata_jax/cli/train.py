"""`ata-jax train`: distributed SGD on a problem, timed under each allocator; a table and JSON."""

from __future__ import annotations

import argparse
import sys

from ata_jax.cli.common import (INTERRUPTED, UsageError, add_solver_argument, check_limit,
                                check_output_path, format_number, learner_parameters,
                                load_time_model, policy_list, positive_float, positive_int,
                                seed_int)
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
    train.add_argument("--problem", default="quadratic", metavar="NAME",
                       help=f"one of {', '.join(PROBLEMS)} (default: quadratic)")
    train.add_argument("--time-model", default="cifar", metavar="NAME",
                       help=f"a preset ({', '.join(PRESETS)}) or a model file (default: cifar)")
    train.add_argument("--workers", type=positive_int, default=None, metavar="N",
                       help="number of workers n for a preset (default: 51)")
    train.add_argument("--budget", type=positive_int, default=23, metavar="B",
                       help="tasks (stochastic gradients) per round (default: 23)")
    train.add_argument("--rounds", type=positive_int, default=2000, metavar="K",
                       help="rounds (optimiser steps) per seed (default: 2000)")
    train.add_argument("--seeds", type=positive_int, default=4, metavar="S",
                       help="independent seeds (default: 4)")
    train.add_argument("--policies", type=policy_list, default=list(POLICY_NAMES),
                       metavar="LIST", help=f"comma list of {', '.join(ALL_POLICY_NAMES)} "
                                            "(default: the paper's five)")
    train.add_argument("--alpha", type=positive_float, default=None, metavar="A",
                       help="ATA's alpha (default: the model's true value)")
    train.add_argument("--eta", type=positive_float, default=None, metavar="E",
                       help="ATA-Empirical's eta (default: the model's true value)")
    train.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=None,
                       help="optimiser (default: the problem's own: adam for digits, sgd "
                            "otherwise)")
    train.add_argument("--learning-rate", type=positive_float, default=None, metavar="LR",
                       help="learning rate (default: the problem's, e.g. 1e-4 for quadratic "
                            "with sgd, 1e-3 for digits with adam)")
    train.add_argument("--seed", type=seed_int, default=0, metavar="INT",
                       help="master seed (default: 0)")
    train.add_argument("--points", type=positive_int, default=1000, metavar="P",
                       help="at most this many points per curve, round 0 included (default: "
                            "1000)")
    train.add_argument("--out", default=None, metavar="FILE", help="write the curves as JSON")
    add_solver_argument(train)
    train.set_defaults(handler=run_train)


def format_table(document: dict) -> str:
    """Per allocator: the final metric, cumulative runtime and worker time (means over seeds)."""
    config = document["config"]
    metric = config["metric_name"]
    lines = [f"{config['problem']} ({config['optimizer']}, learning rate "
             f"{config['learning_rate']:g}) on time model {config['time_model']}: "
             f"n={config['workers']}, B={config['budget']}, K={config['rounds']} rounds, "
             f"S={config['seeds']} seeds",
             f"{'policy':<15}{'final ' + metric:>22}{'runtime':>14}{'worker time':>14}"
             "   (at round K, means over seeds)"]
    for name, row in document["policies"].items():
        lines.append(f"{name:<15}{format_number(row['suboptimality'][-1]):>22}"
                     f"{format_number(row['runtime'][-1]):>14}"
                     f"{format_number(row['worker_time'][-1]):>14}")
    for name, values in document.get("evaluations", {}).items():
        lines.append(f"final {name.replace('_', ' ')}: {values[-1]:.4f} (all allocators)")
    return "\n".join(lines)


def run_document(arguments: argparse.Namespace) -> dict:
    """Validate the arguments, train, and return the JSON document (a UsageError on a mistake)."""
    from ata_jax.simulate import device_kind
    from ata_jax.training import (PROBLEMS, MissingDependencyError, TrainingDivergedError,
                                  make_problem, train)

    command = "ata-jax train"
    if arguments.problem not in PROBLEMS:
        raise UsageError(f"{command}: unknown problem {arguments.problem!r}; valid problems: "
                         f"{', '.join(PROBLEMS)}")
    check_output_path(arguments.out, command)
    if arguments.points < 2:
        raise UsageError(f"{command}: --points must be >= 2 (the start and round K), got "
                         f"{arguments.points}")
    from ata_jax.limits import check_run_sizes

    check_limit(command, check_run_sizes, budget=arguments.budget, num_rounds=arguments.rounds,
                num_seeds=arguments.seeds, policies=arguments.policies,
                workers=[arguments.workers] if arguments.workers else ())
    model = load_time_model(command, arguments.time_model, arguments.workers, arguments.rounds,
                            [arguments.budget])
    alpha, eta = learner_parameters(command, model, arguments.policies, arguments.alpha,
                                    arguments.eta)
    try:
        problem = make_problem(arguments.problem)
    except MissingDependencyError as error:
        raise UsageError(f"{command}: {error}") from None
    optimizer = arguments.optimizer or problem.preferred_optimizer
    try:
        run = train(problem, model, arguments.policies, budget=arguments.budget,
                    num_rounds=arguments.rounds, num_seeds=arguments.seeds, seed=arguments.seed,
                    optimizer=optimizer, learning_rate=arguments.learning_rate, alpha=alpha,
                    eta=eta, max_points=arguments.points, solver=arguments.solver)
    except TrainingDivergedError as error:
        raise UsageError(f"{command}: {error}") from None
    config = dict(run.settings, time_model=arguments.time_model, metric_name=run.metric_name,
                  points=len(run.rounds), round_zero_is_start=True)
    config.pop("max_points")
    document = {"config": config, "policies": {},
                "evaluations": {name: values.mean(axis=0).tolist()
                                for name, values in run.evaluations.items()},
                "timing": dict(run.timing, device=device_kind())}
    rounds = run.rounds.tolist()
    metric_mean = run.suboptimality.mean(axis=0).tolist()
    metric_std = run.suboptimality.std(axis=0).tolist()
    for name in arguments.policies:
        document["policies"][name] = {
            "round": rounds, "suboptimality": metric_mean, "suboptimality_std": metric_std,
            "runtime": run.runtime[name].mean(axis=0).tolist(),
            "runtime_std": run.runtime[name].std(axis=0).tolist(),
            "worker_time": run.worker_time[name].mean(axis=0).tolist(),
            "worker_time_std": run.worker_time[name].std(axis=0).tolist()}
    return document


def run_train(arguments: argparse.Namespace) -> int:
    try:
        document = run_document(arguments)
    except KeyboardInterrupt:
        print("ata-jax train: interrupted; nothing written", file=sys.stderr)
        return INTERRUPTED
    if arguments.out is not None:
        write_json_atomically(arguments.out, document)
    print(format_table(document))
    timing = document["timing"]
    print(f"training: compile {timing['training_compile_s']:.2f} s, run "
          f"{timing['training_run_s']:.2f} s; simulation: compile "
          f"{timing['simulation_compile_s']:.2f} s, run {timing['simulation_run_s']:.2f} s on "
          f"{timing['device']}")
    return 0
