"""`ata-jax simulate`: allocators on a worker-time model over many seeds; a table and JSON."""

from __future__ import annotations

import argparse
import math
import sys

from ata_jax.cli.common import (INTERRUPTED, MAX_TABLES, UsageError, add_allocator_arguments,
                                add_cluster_arguments, add_solver_argument,
                                allocator_settings, check_limit, check_netcdf_output,
                                check_output_path, discount_value, format_number,
                                learner_parameters, memory_mb_float, metric_columns, name_list,
                                policy_list, positive_int, seed_int, setting_float,
                                worker_configurations, worker_list)
from ata_jax.files import write_json_atomically


def default_policies(model) -> list[str]:
    """The paper's five, plus the change-following allocators for a model whose task times
    change over rounds (not for one whose schedule only takes workers down)."""
    from ata_jax.allocators import default_policy_names
    from ata_jax.schedules import changes_speed

    return list(default_policy_names(changing=changes_speed(model.schedule)))


def add_parser(commands) -> None:
    """Register `simulate` on the subcommand set `commands`."""
    from ata_jax.allocators import default_policy_names, policy_names
    from ata_jax.replay import REPLAY_ORDERS
    from ata_jax.timemodels import PRESETS, SCHEDULED_PRESETS

    changing = [name for name in default_policy_names(changing=True)
                if name not in default_policy_names()]
    simulate = commands.add_parser(
        "simulate", help="run allocators on a worker-time model over many seeds",
        description="Run allocators on a worker-time model over many seeds (vmapped) and "
                    "report runtime, total worker time and proxy regret.")
    simulate.add_argument("--time-model", type=name_list, default=None, metavar="LIST",
                          help=f"a preset ({', '.join([*PRESETS, *SCHEDULED_PRESETS])}), a "
                               "JSON/TOML model file, or a trace of measured task times "
                               "(.csv or .parquet, columns worker,time[,round]); a comma "
                               "list runs every one, crossed with --workers (default: cifar)")
    simulate.add_argument("--trace-order", choices=REPLAY_ORDERS, default=None,
                          help="how a trace is replayed: bootstrap (i.i.d. draws from each "
                               "worker's recorded times; the default) or recorded (the "
                               "recorded sequence, round by round)")
    simulate.add_argument("--workers", type=worker_list, default=None, metavar="N",
                          help="number of workers n for a preset, or a comma list (default: "
                               "51; a model file or trace fixes n)")
    add_cluster_arguments(simulate)
    simulate.add_argument("--budget", type=positive_int, default=23, metavar="B",
                          help="tasks per round (default: 23)")
    simulate.add_argument("--rounds", type=positive_int, default=1000, metavar="K",
                          help="rounds per seed (default: 1000)")
    simulate.add_argument("--seeds", type=positive_int, default=16, metavar="S",
                          help="independent seeds, run in parallel (default: 16)")
    simulate.add_argument("--policies", type=policy_list, default=None, metavar="LIST",
                          help=f"comma list of {', '.join(policy_names())} (default: the "
                               "paper's five; for a model whose times change also "
                               f"{', '.join(changing)})")
    simulate.add_argument("--alpha", type=setting_float, default=None, metavar="A",
                          help="ATA's alpha (default: the model's true value)")
    simulate.add_argument("--eta", type=setting_float, default=None, metavar="E",
                          help="ATA-Empirical's eta (default: the model's true value)")
    simulate.add_argument("--discount", type=discount_value, default=0.998, metavar="G",
                          help="γ of the -discounted allocators (default: 0.998)")
    simulate.add_argument("--window", type=positive_int, default=500, metavar="W",
                          help="rounds remembered by the -window allocators (default: 500)")
    simulate.add_argument("--counting", choices=("task", "round"), default="task",
                          help="ATA's samples: one per task (default) or one per round")
    add_allocator_arguments(simulate)
    simulate.add_argument("--expected-regret", action="store_true",
                          help="also measure every policy's expected-time regret against the "
                               "allocation that minimises E[round time] (ofta-expected's; a "
                               "Monte Carlo search first, and each round is also played "
                               "that way: slower)")
    simulate.add_argument("--seed", type=seed_int, default=0, metavar="INT",
                          help="master seed (default: 0)")
    simulate.add_argument("--per-round", action="store_true",
                          help="also write each policy's mean round time per round")
    simulate.add_argument("--memory-mb", type=memory_mb_float, default=None, metavar="MB",
                          help="memory budget of one chunk of runs (default: a quarter of "
                               "this machine's memory); more runs are done chunk by chunk")
    simulate.add_argument("--checkpoint", default=None, metavar="DIR",
                          help="keep each finished chunk in DIR (absent or empty for a new "
                               "run), so that a killed run can be resumed")
    simulate.add_argument("--resume", action="store_true",
                          help="continue the run kept in --checkpoint DIR (the same command "
                               "line), computing only its unfinished chunks")
    simulate.add_argument("--out", default=None, metavar="FILE",
                          help="write the results as JSON (updated as each policy "
                               "finishes), or as netCDF for a FILE ending in .nc (the "
                               "results' .to_xarray(), written at the end; needs xarray)")
    add_solver_argument(simulate)
    simulate.set_defaults(handler=run_simulate)


def format_table(config: dict, policies: dict) -> str:
    """A readable table of each metric's column: per-round means (totals divided by K, or by
    the K − ⌊K/2⌋ late rounds) or totals, ± std over seeds where the column asks for it."""
    rounds = config["rounds"]
    divisor = {"round": rounds, "late round": rounds - rounds // 2, "total": 1}
    columns = metric_columns(config)
    header = f"{'policy':<15}"
    for metric in columns:
        header += f"{metric.column.header:>{metric.column.width}}" + (
            f"{'± std':>11}" if metric.column.with_std else "")
    lines = [f"time model {config['time_model']}: n={config['workers']}, B={config['budget']}, "
             f"K={rounds} rounds, S={config['seeds']} seeds, "
             f"alpha={format_number(config['alpha'])}, eta={format_number(config['eta'])}",
             header + "   (per-round means over seeds; regret: total)"]
    for name, row in policies.items():
        line = f"{name:<15}" if len(name) <= 15 else f"{name}\n{'':<15}"  # long names wrap
        for metric in columns:
            scale = divisor[metric.column.per]
            value = lambda key: None if row[key] is None else row[key] / scale
            line += f"{format_number(value(metric.name)):>{metric.column.width}}"
            if metric.column.with_std:
                line += f"{format_number(value(metric.name + '_std')):>11}"
        lines.append(line)
    return "\n".join(lines)



def configurations(command: str, arguments: argparse.Namespace) -> list[tuple[dict, object]]:
    """[(label, model)] of the command line (`common.worker_configurations`)."""
    from ata_jax.traces import is_trace_path

    return worker_configurations(
        command, arguments.time_model, arguments.workers, arguments.random_clusters,
        arguments.heterogeneity, seed=arguments.seed, rounds=arguments.rounds,
        budgets=[arguments.budget],
        trace_order=lambda name: arguments.trace_order if is_trace_path(name) else None)


def configuration_config(label: dict, model, arguments, alpha, eta) -> dict:
    """The JSON "config" of one configuration: every setting used."""
    from ata_jax.rounds import has_failures
    from ata_jax.solvers import resolve_solver

    return {**label, "budget": arguments.budget, "rounds": arguments.rounds,
            "seeds": arguments.seeds, "policies": arguments.policies,
            "alpha": _finite_or_none(alpha), "eta": _finite_or_none(eta),
            "alpha_is_true_value": arguments.alpha is None,
            "eta_is_true_value": arguments.eta is None,
            "true_alpha": _finite_or_none(model.alpha), "true_eta": _finite_or_none(model.eta),
            "counting": arguments.counting, "discount": arguments.discount,
            "window": arguments.window, "scheduled": model.schedule is not None,
            "failures": has_failures(model),
            "trace_order": None if model.replay is None else model.replay.order,
            "seed": arguments.seed, "per_round": arguments.per_round,
            "solver": resolve_solver(arguments.solver), "spread": arguments.spread,
            "explore_samples": arguments.explore_samples, "confidence": arguments.confidence,
            "expected_regret": arguments.expected_regret}


def optimum_summary(optimum) -> dict:
    """The JSON record of an `ExpectedOptimum`: a*_E, its estimated E[C] ± standard error,
    a*_ℓ's on the same draws, the search's moves and Monte Carlo rounds M."""
    return {"allocation": [int(count) for count in optimum.allocation],
            "round_time": float(optimum.round_time),
            "standard_error": float(optimum.standard_error),
            "proxy_optimum_round_time": float(optimum.proxy_round_time),
            "moves": int(optimum.moves), "samples": int(optimum.samples)}


def run_simulate(arguments: argparse.Namespace) -> int:
    from ata_jax import compilation
    from ata_jax.allocators import needs_expected_optimum
    from ata_jax.configurations import ConfigurationError
    from ata_jax.expected import expected_optima
    from ata_jax.labelled import is_netcdf_path, write_netcdf
    from ata_jax.simulate import check_policy_inputs, device_count, device_kind, simulate

    from ata_jax.limits import check_host_results, check_run_sizes
    from ata_jax.metrics import METRICS

    command = "ata-jax simulate"
    check_output_path(arguments.out, command)
    check_netcdf_output(arguments.out, command)
    netcdf = is_netcdf_path(arguments.out)
    json_out = None if netcdf else arguments.out  # netCDF is written once, at the end
    check_limit(command, check_run_sizes, budget=arguments.budget, num_rounds=arguments.rounds,
                num_seeds=arguments.seeds, window=arguments.window,
                workers=arguments.workers or ())
    entries = configurations(command, arguments)
    if not entries:
        raise UsageError(f"{command}: no configurations to run")
    if arguments.policies is None:  # the change-following ones when any model changes
        arguments.policies = max((default_policies(model) for _, model in entries), key=len)
    check_limit(command, check_host_results, len(entries) * arguments.seeds,
                len(arguments.policies), len(METRICS),
                arguments.rounds if arguments.per_round else 0, "drop --per-round")
    allocator_options = allocator_settings(command, arguments)
    try:
        check_policy_inputs([model for _, model in entries], arguments.policies,
                            budget=arguments.budget, num_rounds=arguments.rounds,
                            expected_regret=arguments.expected_regret, **allocator_options)
    except ValueError as error:
        raise UsageError(f"{command}: {error}") from None
    configs, parameters = [], []
    for label, model in entries:
        alpha, eta = learner_parameters(command, model, arguments.policies, arguments.alpha,
                                        arguments.eta, arguments.confidence)
        parameters.append((alpha, eta))
        configs.append(configuration_config(label, model, arguments, alpha, eta))
    optima = None
    if arguments.expected_regret or needs_expected_optimum(arguments.policies):
        optima = expected_optima([model for _, model in entries], arguments.budget)
        for config, optimum in zip(configs, optima):
            config["expected_optimum"] = optimum_summary(optimum)
    single = len(entries) == 1
    documents = [{"config": config, "policies": {}} for config in configs]
    timing = {"compile_s": 0.0, "run_s": 0.0, "device": device_kind(),
              "device_count": device_count(), "compiles": 0, "per_policy": {}}
    if single:
        document = dict(documents[0], timing=timing, complete=False)
    else:
        shared = {key: value for key, value in configs[0].items()
                  if all(config.get(key) == value for config in configs)}
        document = {"config": dict(shared, configurations=len(configs)),
                    "configurations": documents, "timing": timing, "complete": False}
    compiles_before = sum(compilation.COMPILES.values())

    def save(index, name, result):
        documents[index]["policies"][name] = result.summary()
        timing["compile_s"] += result.compile_s
        timing["run_s"] += result.run_s
        spent = timing["per_policy"].setdefault(name, {"compile_s": 0.0, "run_s": 0.0})
        spent["compile_s"] += result.compile_s
        spent["run_s"] += result.run_s
        timing["compiles"] = sum(compilation.COMPILES.values()) - compiles_before
        if single:
            document["policies"] = documents[0]["policies"]
        if json_out is not None:
            write_json_atomically(json_out, document)

    from ata_jax.progress import Progress, reporting

    progress = Progress("simulate")
    store = open_store(command, arguments, configs, [model for _, model in entries])
    settings = dict(budget=arguments.budget, num_rounds=arguments.rounds,
                    num_seeds=arguments.seeds, seed=arguments.seed,
                    discount=arguments.discount, window=arguments.window,
                    counting=arguments.counting, record_rounds=arguments.per_round,
                    memory_mb=arguments.memory_mb, progress=progress,
                    solver=arguments.solver, expected_regret=arguments.expected_regret,
                    checkpoint=store, **allocator_options)
    try:
        with reporting(progress):  # the bar ends before any message or table
            if single:
                alpha, eta = parameters[0]
                results = simulate(entries[0][1], arguments.policies, alpha=alpha, eta=eta,
                                   on_result=lambda name, result: save(0, name, result),
                                   expected_optimum=None if optima is None else optima[0],
                                   **settings)
            else:
                results = simulate([model for _, model in entries], arguments.policies,
                                   alpha=arguments.alpha, eta=arguments.eta, on_result=save,
                                   expected_optimum=optima, **settings)
    except (ConfigurationError, ValueError) as error:  # cannot share a batch, does not fit
        raise UsageError(f"{command}: {error}") from None
    except KeyboardInterrupt:
        finished = [f"{name}" if single else f"{index}:{name}"
                    for index, entry in enumerate(documents) for name in entry["policies"]]
        where = (f"; saved to {json_out}" if json_out else
                 f"; nothing written to {arguments.out}" if netcdf else "")
        if store is not None:
            where += f"; finished chunks kept in {arguments.checkpoint} (add --resume)"
        print(f"ata-jax simulate: interrupted; finished policies: "
              f"{', '.join(finished) or 'none'}{where}", file=sys.stderr)
        return INTERRUPTED
    document["complete"] = True
    if json_out is not None:
        write_json_atomically(json_out, document)
    if netcdf:
        write_netcdf(labelled_results(results, [label for label, _ in entries],
                                      document["config"]), arguments.out)
    for index, entry in enumerate(documents[:MAX_TABLES]):
        if index:
            print()
        print(format_table(entry["config"], {name: {key: value for key, value in row.items()
                                                    if key != "round_time"}
                                             for name, row in entry["policies"].items()}))
    if len(documents) > MAX_TABLES:
        print(f"\n... and {len(documents) - MAX_TABLES} more configurations"
              + (f" in {arguments.out}" if arguments.out else " (write them with --out)"))
    print(f"compile {timing['compile_s']:.2f} s ({timing['compiles']} programs), run "
          f"{timing['run_s']:.2f} s on {timing['device_count']} x {timing['device']}")
    return 0


def labelled_results(results, labels: list[dict], config: dict):
    """simulate's results as an xarray.Dataset with the configurations' labels, and the
    command's config (the JSON's) among the attributes."""
    import json

    from ata_jax.files import json_safe
    from ata_jax.labelled import netcdf_attributes

    dataset = (results.to_xarray(label=labels[0]) if len(labels) == 1
               else results.to_xarray(labels=labels))
    config = {key: value for key, value in config.items() if key not in dataset.coords}
    dataset.attrs.update(netcdf_attributes(config))
    dataset.attrs["config"] = json.dumps({**json.loads(dataset.attrs["config"]),
                                          **json_safe(config)})
    return dataset


CHECKPOINT_FORMAT = "ata-jax-simulate-checkpoint/1"


def open_store(command: str, arguments, configs: list[dict], models: list):
    """The `checkpoints.ChunkStore` of --checkpoint (None without it): its manifest pins
    every configuration's config and model fingerprint, so --resume refuses a changed run."""
    from ata_jax.checkpoints import ChunkStore
    from ata_jax.provenance import command_line
    from ata_jax.sweep import model_fingerprint

    if arguments.checkpoint is None:
        if arguments.resume:
            raise UsageError(f"{command}: --resume needs --checkpoint DIR (the run to "
                             "continue)")
        return None
    config = {"configurations": configs,
              "model_fingerprints": [model_fingerprint(model) for model in models]}
    try:
        # ValueError: a chunk that cannot be read later, inside simulate, is reported like
        # simulate's own mistakes (one line naming the command)
        return ChunkStore(arguments.checkpoint, CHECKPOINT_FORMAT, config, arguments.resume,
                          command_line(), arguments.memory_mb, "simulation", ValueError)
    except ValueError as error:
        raise UsageError(f"{command}: {error}") from None


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
