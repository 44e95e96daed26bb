"""`ata-jax simulate`: allocators on a worker-time model over many seeds; a table and JSON."""

from __future__ import annotations

import argparse
import math
import sys

from ata_jax.cli.common import (INTERRUPTED, UsageError, check_output_path, discount_value,
                                format_number, learner_parameters, load_time_model,
                                metric_columns, policy_list, positive_float, positive_int,
                                seed_int)
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
    simulate.add_argument("--random-clusters", type=positive_int, default=None, metavar="C",
                          help="run C random clusters (spec §9: means 58·exp(σZ)) for every n "
                               "and every σ of --heterogeneity (beside --time-model, if given)")
    simulate.add_argument("--heterogeneity", type=heterogeneity_list, default=None,
                          metavar="SIGMA", help="σ of the random clusters, a number or a "
                                                "comma list (default: 1)")
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
    simulate.add_argument("--alpha", type=positive_float, default=None, metavar="A",
                          help="ATA's alpha (default: the model's true value)")
    simulate.add_argument("--eta", type=positive_float, default=None, metavar="E",
                          help="ATA-Empirical's eta (default: the model's true value)")
    simulate.add_argument("--discount", type=discount_value, default=0.998, metavar="G",
                          help="γ of the -discounted allocators (default: 0.998)")
    simulate.add_argument("--window", type=positive_int, default=500, metavar="W",
                          help="rounds remembered by the -window allocators (default: 500)")
    simulate.add_argument("--counting", choices=("task", "round"), default="task",
                          help="ATA's samples: one per task (default) or one per round")
    simulate.add_argument("--seed", type=seed_int, default=0, metavar="INT",
                          help="master seed (default: 0)")
    simulate.add_argument("--per-round", action="store_true",
                          help="also write each policy's mean round time per round")
    simulate.add_argument("--memory-mb", type=positive_float, default=None, metavar="MB",
                          help="memory budget of one chunk of runs (default: a quarter of "
                               "this machine's memory); more runs are done chunk by chunk")
    simulate.add_argument("--out", default=None, metavar="FILE",
                          help="write the results as JSON (updated as each policy finishes)")
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


MAX_CONFIGURATIONS = 100_000
"""The most configurations one run builds (each model lives in host memory)."""
MAX_TABLES = 8
"""Configurations whose table is printed; the rest are in --out."""


def name_list(text: str) -> list[str]:
    """A comma list of time-model names or paths (no empty item)."""
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(f"expected a comma list of presets or model files, "
                                         f"got {text!r}")
    return names


def worker_list(text: str) -> list[int]:
    """A comma list of worker counts n ≥ 1."""
    if "," not in text:
        return [positive_int(text)]
    try:
        return [positive_int(item.strip()) for item in text.split(",")]
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"expected a comma list of integers >= 1 in "
                                         f"{text!r}: {error}") from None


def heterogeneity_list(text: str) -> list[float]:
    """A comma list of heterogeneities σ ≥ 0."""
    from ata_jax.configurations import MAX_HETEROGENEITY

    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma list of numbers >= 0, got "
                                             f"{text!r}") from None
        if not (math.isfinite(value) and 0 <= value <= MAX_HETEROGENEITY):
            raise argparse.ArgumentTypeError(f"a heterogeneity σ must lie in [0, "
                                             f"{MAX_HETEROGENEITY:g}], got {item.strip()}")
        values.append(value)
    return values


def configurations(command: str, arguments: argparse.Namespace) -> list[tuple[dict, object]]:
    """[(label, model)]: the cross product of --time-model and --workers (a model file or a
    trace fixes its own n and is one configuration), then the random clusters for every n
    and σ, in that order. A duplicate is warned about, not refused."""
    from ata_jax.configurations import ConfigurationError, random_clusters
    from ata_jax.timemodels import PRESETS, SCHEDULED_PRESETS
    from ata_jax.traces import is_trace_path

    names = arguments.time_model
    if names is None:
        names = [] if arguments.random_clusters else ["cifar"]
    if arguments.heterogeneity is not None and not arguments.random_clusters:
        raise UsageError(f"{command}: --heterogeneity needs --random-clusters C")
    load = lambda name, workers: load_time_model(
        command, name, workers, arguments.rounds, [arguments.budget],
        trace_order=arguments.trace_order if is_trace_path(name) else None)
    entries = []
    for name in names:
        if name in PRESETS or name in SCHEDULED_PRESETS:
            for workers in arguments.workers or [None]:
                model = load(name, workers)
                entries.append(({"time_model": name, "workers": model.size}, model))
            continue
        # a file or a trace fixes n: one --workers must agree, a list must include it
        single = arguments.workers is not None and len(arguments.workers) == 1
        model = load(name, arguments.workers[0] if single else None)
        if arguments.workers and model.size not in arguments.workers:
            raise UsageError(f"{command}: {name} defines {model.size} workers, which is not "
                             f"in --workers {','.join(map(str, arguments.workers))}")
        entries.append(({"time_model": name, "workers": model.size}, model))
    if arguments.random_clusters:
        sigmas = arguments.heterogeneity if arguments.heterogeneity is not None else [1.0]
        total = arguments.random_clusters * len(sigmas) * len(arguments.workers or [51])
        if total > MAX_CONFIGURATIONS:
            raise UsageError(f"{command}: {total} random clusters is above "
                             f"{MAX_CONFIGURATIONS} (each is built in memory before the run): "
                             "split the study into several runs with other --seed values")
        for workers in arguments.workers or [51]:
            if (workers + 1) * arguments.budget >= 2**31:
                raise UsageError(f"{command}: workers x budget must stay below 2^31 (task "
                                 "counters are 32-bit)")
            try:
                clusters = random_clusters(workers, sigmas, arguments.random_clusters,
                                           arguments.seed)
            except ConfigurationError as error:
                raise UsageError(f"{command}: {error}") from None
            entries += [({"time_model": "random-cluster", "workers": workers, **label}, model)
                        for label, model in clusters]
    seen = set()
    for label, _ in entries:
        key = tuple(sorted(label.items()))
        if key in seen:
            print(f"{command}: warning: configuration {label} is listed twice",
                  file=sys.stderr)
        seen.add(key)
    return entries


def configuration_config(label: dict, model, arguments, alpha, eta) -> dict:
    """The JSON "config" of one configuration: every setting used."""
    from ata_jax.rounds import has_failures

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
            "seed": arguments.seed, "per_round": arguments.per_round}


def run_simulate(arguments: argparse.Namespace) -> int:
    from ata_jax import compilation
    from ata_jax.configurations import ConfigurationError
    from ata_jax.simulate import device_count, device_kind, simulate

    command = "ata-jax simulate"
    check_output_path(arguments.out, command)
    entries = configurations(command, arguments)
    if not entries:
        raise UsageError(f"{command}: no configurations to run")
    if arguments.policies is None:  # the change-following ones when any model changes
        arguments.policies = max((default_policies(model) for _, model in entries), key=len)
    configs, parameters = [], []
    for label, model in entries:
        alpha, eta = learner_parameters(command, model, arguments.policies, arguments.alpha,
                                        arguments.eta)
        parameters.append((alpha, eta))
        configs.append(configuration_config(label, model, arguments, alpha, eta))
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
        if arguments.out is not None:
            write_json_atomically(arguments.out, document)

    from ata_jax.sweep import print_progress

    settings = dict(budget=arguments.budget, num_rounds=arguments.rounds,
                    num_seeds=arguments.seeds, seed=arguments.seed,
                    discount=arguments.discount, window=arguments.window,
                    counting=arguments.counting, record_rounds=arguments.per_round,
                    memory_mb=arguments.memory_mb, progress=print_progress)
    try:
        if single:
            alpha, eta = parameters[0]
            simulate(entries[0][1], arguments.policies, alpha=alpha, eta=eta,
                     on_result=lambda name, result: save(0, name, result), **settings)
        else:
            simulate([model for _, model in entries], arguments.policies, alpha=arguments.alpha,
                     eta=arguments.eta, on_result=save, **settings)
    except (ConfigurationError, ValueError) as error:  # cannot share a batch, does not fit
        raise UsageError(f"{command}: {error}") from None
    except KeyboardInterrupt:
        finished = [f"{name}" if single else f"{index}:{name}"
                    for index, entry in enumerate(documents) for name in entry["policies"]]
        where = f"; saved to {arguments.out}" if arguments.out else ""
        print(f"ata-jax simulate: interrupted; finished policies: "
              f"{', '.join(finished) or 'none'}{where}", file=sys.stderr)
        return INTERRUPTED
    document["complete"] = True
    if arguments.out is not None:
        write_json_atomically(arguments.out, document)
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


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
