"""`ata-jax sweep`: a grid over worker configurations (time models × workers, random
clusters), budgets, α, η and discount, run in checkpointed chunks; results in one .npz
(`ata_jax.load_sweep`)."""

from __future__ import annotations

import argparse
import math
import sys

from ata_jax.cli.common import (INTERRUPTED, UsageError, add_allocator_arguments,
                                add_cluster_arguments, add_solver_argument,
                                allocator_settings, check_limit, check_netcdf_output,
                                check_output_path,
                                metric_columns, name_list, policy_list, memory_mb_float,
                                positive_int, seed_int, worker_configurations, worker_list)

GRAMMAR = ("a comma list of numbers or fractions (1,10,1/4), geometric ranges lo..hi "
           "(lo, 2lo, 4lo, ... up to hi: 1/16..16), lo..hi:N (N geometric values) or "
           "linear ranges a:b:N")
MAX_TABLE_ROWS = 40


def grid_values(text: str) -> tuple[float, ...]:
    from ata_jax.sweep import SweepError, parse_grid_values

    try:
        return parse_grid_values(text)
    except SweepError as error:
        raise argparse.ArgumentTypeError(f"{error} (expected {GRAMMAR})") from None


def discount_values(text: str) -> tuple[float, ...]:
    values = grid_values(text)
    if any(value > 1 for value in values):
        raise argparse.ArgumentTypeError(f"discounts must lie in (0, 1], got {text!r}")
    return values


def spread_values(text: str) -> tuple[float, ...]:
    """A grid of Thompson spreads ν: the grid grammar, where a bare 0 (greedy on the means)
    may also be an item."""
    from ata_jax.limits import MAX_SPREAD

    items = [item.strip() for item in text.split(",")]
    values: list[float] = []
    for item in items:
        number = float_or_none(item)
        if number is not None and not (math.isfinite(number) and 0 <= number <= MAX_SPREAD):
            raise argparse.ArgumentTypeError(f"spreads must be numbers in [0, {MAX_SPREAD:g}], "
                                             f"got {item!r} in {text!r}")
        values += [0.0] if number == 0.0 else list(grid_values(item))
    if max(values) > MAX_SPREAD:  # a range reaching past the bound
        raise argparse.ArgumentTypeError(f"spreads must be numbers in [0, {MAX_SPREAD:g}], got "
                                         f"{max(values):.2g} from {text!r}")
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value appears twice in {text!r}")
    return tuple(values)


def float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def explore_samples_values(text: str) -> tuple[int, ...]:
    """A grid of explore-then-commit's samples m: the grid grammar, every value an integer in
    [1, 2^24] (`1..64` is 1, 2, 4, ..., 64)."""
    from ata_jax.simulate import MAX_EXPLORE_SAMPLES

    values = grid_values(text)
    for value in values:
        if not (float(value).is_integer() and 1 <= value <= MAX_EXPLORE_SAMPLES):
            raise argparse.ArgumentTypeError(
                f"explore samples must be integers in [1, {MAX_EXPLORE_SAMPLES}], got "
                f"{value:g} in {text!r}")
    return tuple(int(value) for value in values)


def int_list(text: str) -> tuple[int, ...]:
    items = [item.strip() for item in text.split(",")]
    try:
        values = tuple(positive_int(item) for item in items)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"expected a comma list of integers >= 1 in "
                                         f"{text!r}: {error}") from None
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a value appears twice in {text!r}")
    return values


def add_parser(commands) -> None:
    """Register `sweep` on the subcommand set `commands`."""
    from ata_jax.allocators import policy_names
    from ata_jax.timemodels import PRESETS, SCHEDULED_PRESETS

    sweep = commands.add_parser(
        "sweep", help="run a grid over configurations, budgets, alpha and eta (checkpointed)",
        description="Run policies over a grid of worker configurations, budgets and "
                    "hyperparameters. Configurations (any n, padded to the largest) and "
                    "alpha, eta, discount, spread and explore samples are traced: one "
                    "compile per (policy, budget, "
                    "batch) covers their whole grid, a batch being the configurations of "
                    "one family set and kind of schedule (a trace is a batch of its own). "
                    "Grids: " + GRAMMAR + ".")
    sweep.add_argument("--time-model", type=name_list, default=None, metavar="LIST",
                       help=f"a preset ({', '.join([*PRESETS, *SCHEDULED_PRESETS])}) or a "
                            "model file, or a comma list of them, crossed with --workers "
                            "(default: cifar)")
    sweep.add_argument("--workers", type=worker_list, default=None, metavar="LIST",
                       help="comma list of worker counts n (default: 51, or the model file's)")
    sweep.add_argument("--separate-n", action="store_true",
                       help="one compile per n instead of padding configurations of "
                            "different n to the largest (faster running for long sweeps "
                            "over very different n; docs/performance.md)")
    add_cluster_arguments(sweep)
    sweep.add_argument("--budget", type=int_list, default=(23,), metavar="LIST",
                       help="comma list of budgets B (default: 23)")
    sweep.add_argument("--rounds", type=positive_int, default=1000, metavar="K",
                       help="rounds per run (default: 1000)")
    sweep.add_argument("--seeds", type=positive_int, default=16, metavar="S",
                       help="seeds per grid point (default: 16)")
    sweep.add_argument("--policies", type=policy_list, default=["ata", "ata-empirical"],
                       metavar="LIST", help=f"comma list of {', '.join(policy_names())} "
                                            "(default: ata,ata-empirical)")
    alpha = sweep.add_mutually_exclusive_group()
    alpha.add_argument("--alpha", type=grid_values, default=None, metavar="GRID",
                       help="ATA's alpha values (absolute)")
    alpha.add_argument("--alpha-scale", type=grid_values, default=None, metavar="GRID",
                       help="ATA's alpha as multiples of each configuration's true alpha "
                            "(default: 1)")
    eta = sweep.add_mutually_exclusive_group()
    eta.add_argument("--eta", type=grid_values, default=None, metavar="GRID",
                     help="ATA-Empirical's eta values (absolute)")
    eta.add_argument("--eta-scale", type=grid_values, default=None, metavar="GRID",
                     help="eta as multiples of each configuration's true eta (default: 1)")
    sweep.add_argument("--discount", type=discount_values, default=(0.998,), metavar="GRID",
                       help="γ values in (0, 1] of the -discounted policies (default: 0.998)")
    sweep.add_argument("--window", type=positive_int, default=500, metavar="W",
                       help="rounds remembered by the -window policies (default: 500)")
    sweep.add_argument("--counting", choices=("task", "round"), default="task",
                       help="ATA's samples: one per task (default) or one per round")
    sweep.add_argument("--seed", type=seed_int, default=0, metavar="INT",
                       help="master seed (default: 0)")
    sweep.add_argument("--curves", type=int, default=0, metavar="C",
                       help="also keep per-round curves, averaged over C blocks of rounds "
                            "(default: 0, none)")
    sweep.add_argument("--memory-mb", type=memory_mb_float, default=256.0, metavar="MB",
                       help="memory budget of one chunk of runs (default: 256)")
    sweep.add_argument("--checkpoint", default=None, metavar="DIR",
                       help="keep each finished chunk in DIR (absent or empty for a new sweep)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep kept in --checkpoint DIR")
    sweep.add_argument("--out", default=None, metavar="FILE",
                       help="write the results (.npz, read with ata_jax.load_sweep; or "
                            ".nc: netCDF of load_sweep(...).to_xarray(), needs xarray)")
    sweep.add_argument("--quiet", action="store_true", help="no progress lines")
    sweep.add_argument("--process-count", type=positive_int, default=None, metavar="P",
                       help="split the sweep into P blocks of whole chunks and compute one "
                            "(default: jax.process_count(), 1 without jax.distributed); "
                            "--out then writes a part for --merge")
    sweep.add_argument("--process-index", type=int, default=None, metavar="I",
                       help="the block to compute, 0..P-1 (default: jax.process_index())")
    sweep.add_argument("--distributed", action="store_true",
                       help="call jax.distributed.initialize() first (a SLURM or other "
                            "cluster launch), so P and I default from the runtime")
    sweep.add_argument("--merge", nargs="+", default=None, metavar=("OUT", "PART"),
                       help="join the part files PART... of one sweep into OUT (.npz or "
                            ".nc), exactly the single-process result; no sweep is run")
    add_allocator_arguments(sweep, grids=True)
    add_solver_argument(sweep)
    sweep.set_defaults(handler=run_sweep_command)


def run_sweep_command(arguments: argparse.Namespace) -> int:
    from ata_jax.allocators import policies_reading
    from ata_jax.progress import Progress, reporting
    from ata_jax.sweep import SweepConfig, SweepError, model_fingerprint, run_sweep
    from ata_jax.sweepfile import save_sweep_part

    from ata_jax.limits import (MAX_GRID_POINTS, check_count, check_host_results,
                                check_run_sizes)
    from ata_jax.metrics import METRICS

    command = "ata-jax sweep"
    if arguments.distributed:  # before anything touches a JAX backend
        import jax

        try:
            jax.distributed.initialize()
        except (ValueError, TypeError, RuntimeError) as error:  # no cluster, or none answers
            message = " ".join(str(error).split())
            raise UsageError(f"{command}: --distributed: jax.distributed.initialize() failed "
                             f"({message}); launch under a cluster manager JAX detects (e.g. "
                             "srun), or give each process --process-count P --process-index I "
                             "instead") from None
    if arguments.merge is not None:
        return merge_command(arguments, command)
    check_output_path(arguments.out, command)
    check_netcdf_output(arguments.out, command)
    process_count, process_index = block_arguments(arguments, command)
    if arguments.resume and arguments.checkpoint is None:
        raise UsageError(f"{command}: --resume needs --checkpoint DIR (the sweep to continue)")
    if arguments.curves < 0 or arguments.curves > arguments.rounds:
        raise UsageError(f"{command}: --curves {arguments.curves} must lie in 0..--rounds "
                         f"({arguments.rounds})")
    for budget in arguments.budget:
        check_limit(command, check_run_sizes, budget=budget, num_rounds=arguments.rounds,
                    num_seeds=arguments.seeds, workers=arguments.workers or (),
                    window=arguments.window)
    entries = worker_configurations(
        command, arguments.time_model, list(arguments.workers) if arguments.workers else None,
        arguments.random_clusters, arguments.heterogeneity, seed=arguments.seed,
        rounds=arguments.rounds, budgets=arguments.budget)
    points = len(entries) * len(arguments.budget) * math.prod(
        len(values or (1.0,)) for values in (arguments.alpha or arguments.alpha_scale,
                                             arguments.eta or arguments.eta_scale,
                                             arguments.discount, arguments.spread,
                                             arguments.explore_samples))
    check_limit(command, check_count, points, MAX_GRID_POINTS, "grid points",
                "split the sweep into several (e.g. one per configuration or budget)")
    check_limit(command, check_host_results, points * arguments.seeds,
                len(arguments.policies), len(METRICS), arguments.curves)
    from ata_jax.simulate import check_policy_inputs

    options = allocator_settings(command, arguments)
    try:
        for budget in arguments.budget:  # msync's check depends on B
            check_policy_inputs([model for _, model in entries], arguments.policies,
                                budget=budget, num_rounds=arguments.rounds,
                                **{**options, "spread": options["spread"][0],
                                   "explore_samples": options["explore_samples"][0]})
    except ValueError as error:
        raise UsageError(f"{command}: {error}") from None
    modes = {}
    for name in ("alpha", "eta"):
        absolute, scale = getattr(arguments, name), getattr(arguments, f"{name}_scale")
        modes[name] = ("absolute", absolute) if absolute else (
            ("scale", scale) if scale else ("true", (1.0,)))
        infinite = [label for label, model in entries if not math.isfinite(getattr(model, name))]
        if policies_reading(name, arguments.policies) and modes[name][0] != "absolute" and infinite:
            raise UsageError(f"{command}: the true {name} of {infinite[0]['time_model']} (n = "
                             f"{infinite[0]['workers']}) is infinite (heavy-tailed worker): "
                             f"pass --{name} with absolute values")
    names = arguments.time_model or ([] if arguments.random_clusters else ["cifar"])
    config = SweepConfig(
        time_model=",".join(names),
        workers=tuple(dict.fromkeys(label["workers"] for label, _ in entries)),
        budgets=arguments.budget,
        policies=tuple(arguments.policies), alpha=modes["alpha"][1],
        alpha_mode=modes["alpha"][0], eta=modes["eta"][1], eta_mode=modes["eta"][0],
        discounts=arguments.discount, window=arguments.window, counting=arguments.counting,
        rounds=arguments.rounds, seeds=arguments.seeds, seed=arguments.seed,
        curve_points=arguments.curves,
        model_fingerprints=tuple(model_fingerprint(model) for _, model in entries),
        separate_n=arguments.separate_n, spread=arguments.spread,
        explore_samples=arguments.explore_samples, confidence=arguments.confidence,
        random_clusters=arguments.random_clusters or 0,
        heterogeneity=tuple(arguments.heterogeneity or ((1.0,) if arguments.random_clusters
                                                        else ())))
    from ata_jax.provenance import command_line as typed_command

    command_line = typed_command()  # as the user typed it, no path of this machine
    progress = None if arguments.quiet else Progress("sweep")
    try:
        with reporting(progress):  # the bar ends before any message or table
            result = run_sweep(config, entries, memory_mb=arguments.memory_mb,
                               checkpoint_dir=arguments.checkpoint, resume=arguments.resume,
                               command=command_line, solver=arguments.solver,
                               progress=progress, process_count=process_count,
                               process_index=process_index)
    except SweepError as error:
        raise UsageError(f"{command}: {error}") from None
    except KeyboardInterrupt:
        kept = (f"; finished chunks are kept in {arguments.checkpoint}: rerun with --resume"
                if arguments.checkpoint else "; nothing kept (use --checkpoint DIR)")
        print(f"{command}: interrupted{kept}", file=sys.stderr)
        return INTERRUPTED
    if result.part is not None:
        save_sweep_part(arguments.out, result, command=command_line)
        print(f"block {process_index} of {process_count}: {len(result.part.chunks)} chunks, "
              f"{len(result.part.totals)} runs; compile {result.compile_s:.2f} s, run "
              f"{result.run_s:.2f} s; wrote the part {arguments.out} (join the parts with "
              "--merge)")
        return 0
    write_results(arguments.out, result, command_line)
    print(format_table(result))
    print(f"compile {result.compile_s:.2f} s, run {result.run_s:.2f} s; chunks computed "
          f"{result.chunks_computed}, loaded from the checkpoint {result.chunks_loaded}"
          + (f"; wrote {arguments.out}" if arguments.out else ""))
    return 0


def write_results(path: str | None, result, command_line: str) -> None:
    """Write a whole sweep to `path`: netCDF for .nc, else the .npz store (None: nothing)."""
    from ata_jax.labelled import is_netcdf_path, write_netcdf
    from ata_jax.sweepfile import save_sweep, sweep_results

    if is_netcdf_path(path):
        write_netcdf(sweep_results(result, command=command_line).to_xarray(), path)
    elif path is not None:
        save_sweep(path, result, command=command_line)


def block_arguments(arguments: argparse.Namespace, command: str) -> tuple[int, int]:
    """(P, I) from --process-count/--process-index, defaulting from the JAX runtime; a part
    (P > 1) needs an .npz --out."""
    from ata_jax.sweep import SweepError, resolve_block

    try:
        count, index = resolve_block(arguments.process_count, arguments.process_index)
    except SweepError as error:
        raise UsageError(f"{command}: {error}") from None
    if count > 1:
        if arguments.out is None:
            raise UsageError(f"{command}: block {index} of {count} needs --out PART.npz "
                             "(the part that --merge joins)")
        if not arguments.out.endswith(".npz"):
            raise UsageError(f"{command}: a part is an .npz file, not {arguments.out} "
                             "(--merge can write .nc)")
    return count, index


def merge_command(arguments: argparse.Namespace, command: str) -> int:
    """`--merge OUT PART...`: check the parts are the blocks of one sweep and write it."""
    from ata_jax.provenance import command_line as typed_command
    from ata_jax.sweep import SweepError, merge_sweeps

    out, parts = arguments.merge[0], arguments.merge[1:]
    clashing = [flag for flag, value in (("--out", arguments.out),
                                         ("--checkpoint", arguments.checkpoint),
                                         ("--process-count", arguments.process_count),
                                         ("--process-index", arguments.process_index))
                if value is not None]
    if clashing:
        raise UsageError(f"{command}: --merge OUT PART... runs no sweep: drop {clashing[0]}")
    if not parts:
        raise UsageError(f"{command}: --merge {out} needs the part files after it")
    check_output_path(out, command)
    check_netcdf_output(out, command)
    try:
        result = merge_sweeps(parts)
    except SweepError as error:
        raise UsageError(f"{command} --merge: {error}") from None
    write_results(out, result, typed_command())
    print(format_table(result))
    print(f"merged {len(parts)} parts ({result.chunks_computed} chunks computed, "
          f"{result.chunks_loaded} loaded); wrote {out}")
    return 0


def format_table(result) -> str:
    """Per-round means over seeds of every metric with a table column (regret: the total),
    for each policy and each grid point it reads (first rows)."""
    from ata_jax.sweep import SUMMARY_FIELDS, reads

    config = result.config
    columns = [metric for metric in metric_columns({}) if metric.column.per != "late round"]
    # Thompson's ν and explore-commit's m: a column only where a policy of the sweep reads it
    extra = [(name, header, width) for name, header, width in (("spread", "nu", 7),
                                                              ("explore_samples", "m", 8))
             if any(name in reads(policy) for policy in config.policies)]
    name_width = max(15, *(len(policy) + 1 for policy in config.policies))
    several = len(result.labels) > 1
    names = [configuration_name(label) for label in result.labels]
    label_width = max([len(name) + 2 for name in names] + [15]) if several else 0
    lines = [f"{'policy':<{name_width}}"
             + (f"{'configuration':<{label_width}}" if several else "")
             + f"{'n':>5}{'B':>5}{'alpha':>11}{'eta':>9}{'gamma':>7}"
             + "".join(f"{header:>{width}}" for _, header, width in extra)
             + "".join(f"{metric.column.header:>{metric.column.width}}"
                       for metric in columns)]
    rows = []
    for p, policy in enumerate(config.policies):
        used, seen = reads(policy), set()
        for g, point in enumerate(result.points):
            signature = (point.configuration, point.budget,
                         *(getattr(point, name) for name in used))
            if signature in seen:
                continue
            seen.add(signature)
            means = result.totals[p, g].mean(axis=0)
            show = lambda name, text: text if name in used else "-"
            row = (f"{policy:<{name_width}}"
                   + (f"{names[point.configuration]:<{label_width}}" if several else "")
                   + f"{point.workers:>5}{point.budget:>5}"
                   f"{show('alpha', f'{point.alpha:.4g}'):>11}"
                   f"{show('eta', f'{point.eta:.4g}'):>9}"
                   f"{show('discount', f'{point.discount:.4g}'):>7}"
                   + "".join(f"{show(name, f'{getattr(point, name):.4g}'):>{width}}"
                             for name, _, width in extra))
            for metric in columns:
                value = means[SUMMARY_FIELDS.index(metric.name)]
                value = value if metric.column.per == "total" else value / config.rounds
                row += f"{'-' if math.isnan(value) else f'{value:.4g}':>{metric.column.width}}"
            rows.append(row)
    lines += rows[:MAX_TABLE_ROWS]
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"... {len(rows) - MAX_TABLE_ROWS} more rows (see --out)")
    return "\n".join(lines)


def configuration_name(label: dict) -> str:
    """A short name of a configuration for the table: its time model, or its cluster."""
    if "cluster" in label:
        return f"cluster {label['cluster']} σ={label['heterogeneity']:g}"
    return str(label["time_model"])
