"""`ata-jax simulate`: allocators on a worker-time model over many seeds; a table and JSON."""

from __future__ import annotations

import argparse
import math
import sys

from ata_jax.cli.common import (INTERRUPTED, check_output_path, discount_value,
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
    simulate.add_argument("--time-model", default="cifar", metavar="NAME",
                          help=f"a preset ({', '.join([*PRESETS, *SCHEDULED_PRESETS])}), a "
                               "JSON/TOML model file, or a trace of measured task times "
                               "(.csv or .parquet, columns worker,time[,round]) "
                               "(default: cifar)")
    simulate.add_argument("--trace-order", choices=REPLAY_ORDERS, default=None,
                          help="how a trace is replayed: bootstrap (i.i.d. draws from each "
                               "worker's recorded times; the default) or recorded (the "
                               "recorded sequence, round by round)")
    simulate.add_argument("--workers", type=positive_int, default=None, metavar="N",
                          help="number of workers n for a preset (default: 51; a model "
                               "file or trace fixes n)")
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
        width = max(12, len(metric.column.header) + 2)
        header += f"{metric.column.header:>{width}}" + (f"{'± std':>11}"
                                                        if metric.column.with_std else "")
    lines = [f"time model {config['time_model']}: n={config['workers']}, B={config['budget']}, "
             f"K={rounds} rounds, S={config['seeds']} seeds, "
             f"alpha={format_number(config['alpha'])}, eta={format_number(config['eta'])}",
             header + "   (per-round means over seeds; regret: total)"]
    for name, row in policies.items():
        line = f"{name:<15}" if len(name) <= 15 else f"{name}\n{'':<15}"  # long names wrap
        for metric in columns:
            scale = divisor[metric.column.per]
            value = lambda key: None if row[key] is None else row[key] / scale
            width = max(12, len(metric.column.header) + 2)
            line += f"{format_number(value(metric.name)):>{width}}"
            if metric.column.with_std:
                line += f"{format_number(value(metric.name + '_std')):>11}"
        lines.append(line)
    return "\n".join(lines)


def run_simulate(arguments: argparse.Namespace) -> int:
    from ata_jax.rounds import has_failures
    from ata_jax.simulate import device_count, device_kind, simulate

    command = "ata-jax simulate"
    check_output_path(arguments.out, command)
    model = load_time_model(command, arguments.time_model, arguments.workers, arguments.rounds,
                            [arguments.budget], trace_order=arguments.trace_order)
    if arguments.policies is None:
        arguments.policies = default_policies(model)
    alpha, eta = learner_parameters(command, model, arguments.policies, arguments.alpha,
                                    arguments.eta)
    config = {
        "time_model": arguments.time_model, "workers": model.size, "budget": arguments.budget,
        "rounds": arguments.rounds, "seeds": arguments.seeds, "policies": arguments.policies,
        "alpha": _finite_or_none(alpha), "eta": _finite_or_none(eta), "alpha_is_true_value": arguments.alpha is None,
        "eta_is_true_value": arguments.eta is None, "true_alpha": _finite_or_none(model.alpha),
        "true_eta": _finite_or_none(model.eta), "counting": arguments.counting,
        "discount": arguments.discount, "window": arguments.window,
        "scheduled": model.schedule is not None, "failures": has_failures(model),
        "trace_order": None if model.replay is None else model.replay.order,
        "seed": arguments.seed, "per_round": arguments.per_round,
    }
    document = {"config": config, "policies": {},
                "timing": {"compile_s": 0.0, "run_s": 0.0, "device": device_kind(),
                           "device_count": device_count(), "per_policy": {}},
                "complete": False}

    def save(name, result):
        document["policies"][name] = result.summary()
        document["timing"]["compile_s"] += result.compile_s
        document["timing"]["run_s"] += result.run_s
        document["timing"]["per_policy"][name] = {"compile_s": result.compile_s,
                                                  "run_s": result.run_s}
        if arguments.out is not None:
            write_json_atomically(arguments.out, document)

    try:
        simulate(model, arguments.policies, budget=arguments.budget, num_rounds=arguments.rounds,
                 num_seeds=arguments.seeds, seed=arguments.seed, alpha=alpha, eta=eta,
                 discount=arguments.discount, window=arguments.window,
                 counting=arguments.counting, record_rounds=arguments.per_round, on_result=save)
    except KeyboardInterrupt:
        finished = ", ".join(document["policies"]) or "none"
        where = f"; saved to {arguments.out}" if arguments.out else ""
        print(f"ata-jax simulate: interrupted; finished policies: {finished}{where}",
              file=sys.stderr)
        return INTERRUPTED
    document["complete"] = True
    if arguments.out is not None:
        write_json_atomically(arguments.out, document)
    print(format_table(config, {name: {key: value for key, value in row.items()
                                       if key != "round_time"}
                                for name, row in document["policies"].items()}))
    timing = document["timing"]
    print(f"compile {timing['compile_s']:.2f} s, run {timing['run_s']:.2f} s on "
          f"{timing['device_count']} x {timing['device']}")
    return 0


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
