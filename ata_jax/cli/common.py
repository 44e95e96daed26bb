"""Shared pieces of the `ata-jax` subcommands: one-line usage errors, argument types,
output checks, model loading."""

from __future__ import annotations

import argparse
import math
import os
import sys

from ata_jax.limits import MAX_BUDGET, MAX_CONFIGURATIONS, LimitError, check_workers

USAGE_ERROR = 2
INTERRUPTED = 130


class UsageError(Exception):
    """A mistake in the command line or its inputs, reported as one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage dump) and exit status 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def setting_float(text: str) -> float:
    """α, η or a learning rate: a number in [1e-20, 1e20] (`limits.MIN_SETTING`,
    `MAX_SETTING`: each becomes a float32 beside times of that range)."""
    from ata_jax.limits import MAX_SETTING, MIN_SETTING

    value = positive_float(text)
    if not MIN_SETTING <= value <= MAX_SETTING:
        raise argparse.ArgumentTypeError(f"expected a number in [{MIN_SETTING:g}, "
                                         f"{MAX_SETTING:g}] (a float32 in the run), got {text}")
    return value


def memory_mb_float(text: str) -> float:
    """--memory-mb: a number in (0, 2^30] (`limits.MAX_MEMORY_MB`)."""
    from ata_jax.limits import MAX_MEMORY_MB

    value = positive_float(text)
    if value > MAX_MEMORY_MB:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_MEMORY_MB:.0f} MB (a "
                                         f"petabyte), got {text}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2^32), got {value}")
    return value


def discount_value(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def policy_list(text: str) -> list[str]:
    from ata_jax.allocators import policy_names, policy_spec

    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(f"expected a comma list of policies from "
                                         f"{', '.join(policy_names())}, got {text!r}")
    for name in names:
        try:
            policy_spec(name)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a policy is listed twice in {text!r}")
    return names


def check_output_path(path: str | None, command: str = "ata-jax") -> None:
    """A usage error unless `path` can be written (its directory exists and is writable)."""
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{command}: --out {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{command}: --out {path} is a directory")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"{command}: --out {path}: directory is not writable")


def check_netcdf_output(path: str | None, command: str) -> None:
    """A usage error when --out asks for netCDF (.nc) and xarray is not installed."""
    from ata_jax.labelled import INSTALL_HINT, is_netcdf_path, require_xarray

    if not is_netcdf_path(path):
        return
    try:
        require_xarray()
    except ImportError:
        raise UsageError(f"{command}: --out {path}: writing netCDF needs xarray, which is not "
                         f"installed: {INSTALL_HINT}") from None


def metric_columns(config: dict) -> list:
    """The metrics a table shows for a run with this config (a column's `when` flag, e.g.
    "failures", must be set in it)."""
    from ata_jax.metrics import METRICS

    return [metric for metric in METRICS if metric.column is not None
            and (metric.column.when is None or config.get(metric.column.when))]


def format_number(value: float | None) -> str:
    """4 significant digits, scientific from 10^5 on; '-' for a missing value."""
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"


def check_budgets(command: str, budgets) -> None:
    """A UsageError for a budget above MAX_BUDGET."""
    for budget in budgets:
        if budget > MAX_BUDGET:
            raise UsageError(f"{command}: --budget {budget} is above {MAX_BUDGET} (a "
                             "round's task list compares every task with every loaded "
                             "worker: time and memory per seed grow as B^2)")


def check_limit(command: str, check, *arguments, **options) -> None:
    """check(*arguments, **options) from `ata_jax.limits`, a LimitError as a UsageError."""
    try:
        check(*arguments, **options)
    except LimitError as error:
        raise UsageError(f"{command}: {error}") from None


def load_time_model(command: str, name: str, workers: int | None, rounds: int,
                    budgets: tuple[int, ...] | list[int], **options):
    """The time model `name` (preset, model file or trace) for n = workers, checked against
    the budgets: a UsageError for a bad model, a budget above MAX_BUDGET, or task counters
    that would not fit in 32 bits."""
    from ata_jax.modelfile import resolve_time_model
    from ata_jax.timemodels import ModelError

    check_budgets(command, budgets)
    if workers is not None:  # before a preset of that size is built
        check_limit(command, check_workers, workers, max(budgets))
    try:
        model = resolve_time_model(name, workers, rounds, **options)
    except ModelError as error:
        raise UsageError(f"{command}: {error}") from None
    check_limit(command, check_workers, model.size, max(budgets))
    return model


def learner_parameters(command: str, model, policies, alpha: float | None,
                       eta: float | None, confidence: str = "final") -> tuple[float, float]:
    """(α, η): the given values or the model's true ones (α's uncentred one for the early
    confidence); a UsageError when a policy that reads one would get an infinite true value
    (a heavy-tailed, untruncated lognormal)."""
    from ata_jax.allocators import policies_reading
    from ata_jax.simulate import default_alpha

    try:
        true_alpha = default_alpha(model, confidence) if alpha is None else alpha
    except ValueError as error:  # an uncentred norm that cannot be computed
        raise UsageError(f"{command}: {error}") from None
    values = {"alpha": true_alpha, "eta": model.eta if eta is None else eta}
    for name, value in values.items():
        if policies_reading(name, policies) and not math.isfinite(value):
            raise UsageError(f"{command}: the model's true {name} is infinite (a "
                             f"heavy-tailed, untruncated lognormal worker): pass --{name}")
    return values["alpha"], values["eta"]


MAX_TABLES = 8
"""Configurations whose table a command prints; the rest are in --out."""


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


def add_solver_argument(parser: argparse.ArgumentParser) -> None:
    """--solver auto|cpu|portable (`ata_jax.solvers`)."""
    parser.add_argument("--solver", choices=("auto", "cpu", "portable"), default="auto",
                        help="cpu: tuned for XLA's CPU backend; portable: written for any "
                             "backend (no while loop or conditional inside a round); auto "
                             "(default): cpu on a CPU, portable elsewhere. Same results")


def nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def explore_samples_int(text: str) -> int:
    from ata_jax.simulate import MAX_EXPLORE_SAMPLES

    value = positive_int(text)
    if value > MAX_EXPLORE_SAMPLES:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {MAX_EXPLORE_SAMPLES}] "
                                         f"(sample counts are float32), got {text}")
    return value


def add_allocator_arguments(parser: argparse.ArgumentParser, grids: bool = False) -> None:
    """The settings of the allocators beyond the paper's: Thompson's ν, explore-then-commit's
    m, ATA's confidence constant (spec §9). grids: ν and m are grids (sweep), each given as
    a tuple."""
    if grids:
        from ata_jax.cli.sweep import explore_samples_values, spread_values

        spread, samples, default_spread, default_samples = (spread_values,
                                                            explore_samples_values, (1.0,),
                                                            (10,))
    else:
        spread, samples, default_spread, default_samples = (nonnegative_float,
                                                            explore_samples_int, 1.0, 10)
    several = " (a grid)" if grids else ""
    parser.add_argument("--spread", type=spread, default=default_spread,
                        metavar="GRID" if grids else "NU",
                        help=f"thompson's posterior spread ν >= 0{several}: log μ̃_i ~ "
                             "N(log μ̂_i, ν²/K_i) (default: 1)")
    parser.add_argument("--explore-samples", type=samples, default=default_samples,
                        metavar="GRID" if grids else "M",
                        help=f"samples explore-commit takes of every worker before it commits "
                             f"(integers >= 1{several}; default: 10)")
    parser.add_argument("--confidence", choices=("final", "early"), default="final",
                        help="ATA's confidence: the paper's final constant 2 (default) or the "
                             "earlier poster's 4e, with alpha defaulting to the uncentred "
                             "max ||X_i||_psi1 (ata and its -window/-discounted variants)")


def allocator_settings(command: str, arguments: argparse.Namespace) -> dict:
    """simulate's keywords for `add_allocator_arguments`, the confidence checked against
    the policies (a UsageError naming the policies without that variant)."""
    from ata_jax.allocators import check_confidence

    try:
        check_confidence(arguments.policies, arguments.confidence)
    except ValueError as error:
        raise UsageError(f"{command}: --confidence {arguments.confidence}: {error}") from None
    return dict(spread=arguments.spread, explore_samples=arguments.explore_samples,
                confidence=arguments.confidence)


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """--random-clusters and --heterogeneity, as `simulate` and `sweep` take them."""
    parser.add_argument("--random-clusters", type=positive_int, default=None, metavar="C",
                        help="add C random clusters (spec §9: means 58·exp(σZ)) for every n "
                             "and every σ of --heterogeneity, seeded by --seed (beside "
                             "--time-model, if given)")
    parser.add_argument("--heterogeneity", type=heterogeneity_list, default=None,
                        metavar="SIGMA", help="σ of the random clusters, a number or a "
                                              "comma list (default: 1)")


def worker_configurations(command: str, names: list[str] | None, workers: list[int] | None,
                          random_clusters: int | None, heterogeneity: list[float] | None, *,
                          seed: int, rounds: int, budgets: list[int],
                          trace_order=lambda name: None) -> list[tuple[dict, object]]:
    """[(label, model)]: the cross product of the time models `names` (default: cifar, or
    none beside random clusters) and the worker counts (a model file or a trace fixes its own
    n and is one configuration), then `random_clusters` clusters of master seed `seed` for
    every n and σ, in that order. A duplicate is warned about, not refused; every error is
    a UsageError before any simulation. trace_order(name): the order to replay a trace in."""
    from ata_jax.configurations import ConfigurationError, random_clusters as make_clusters
    from ata_jax.timemodels import PRESETS, SCHEDULED_PRESETS

    check_budgets(command, budgets)
    if names is None:
        names = [] if random_clusters else ["cifar"]
    if heterogeneity is not None and not random_clusters:
        raise UsageError(f"{command}: --heterogeneity needs --random-clusters C")
    load = lambda name, n: load_time_model(command, name, n, rounds, budgets,
                                           trace_order=trace_order(name))
    listed = len(names) * len(workers or [None])
    if listed > MAX_CONFIGURATIONS:
        raise UsageError(f"{command}: {listed} configurations is above {MAX_CONFIGURATIONS} "
                         "(each is built in memory before the run): split the study into "
                         "several runs")
    entries = []
    for name in names:
        if name in PRESETS or name in SCHEDULED_PRESETS:
            for n in workers or [None]:
                model = load(name, n)
                entries.append(({"time_model": name, "workers": model.size}, model))
            continue
        # a file or a trace fixes n: one --workers must agree, a list must include it
        single = workers is not None and len(workers) == 1
        model = load(name, workers[0] if single else None)
        if workers and model.size not in workers:
            raise UsageError(f"{command}: {name} defines {model.size} workers, which is not "
                             f"in --workers {','.join(map(str, workers))}")
        entries.append(({"time_model": name, "workers": model.size}, model))
    if random_clusters:
        sigmas = heterogeneity if heterogeneity is not None else [1.0]
        total = random_clusters * len(sigmas) * len(workers or [51])
        if total > MAX_CONFIGURATIONS:
            raise UsageError(f"{command}: {total} random clusters is above "
                             f"{MAX_CONFIGURATIONS} (each is built in memory before the run): "
                             "split the study into several runs with other --seed values")
        for n in workers or [51]:
            check_limit(command, check_workers, n, max(budgets))
            try:
                clusters = make_clusters(n, sigmas, random_clusters, seed)
            except ConfigurationError as error:
                raise UsageError(f"{command}: {error}") from None
            entries += [({"time_model": "random-cluster", "workers": n, **label}, model)
                        for label, model in clusters]
    seen = set()
    for label, _ in entries:
        key = tuple(sorted(label.items()))
        if key in seen:
            print(f"{command}: warning: configuration {label} is listed twice",
                  file=sys.stderr)
        seen.add(key)
    return entries
