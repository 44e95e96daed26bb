"""Shared pieces of the `ata-jax` subcommands: one-line usage errors, argument types,
output checks, model loading."""

from __future__ import annotations

import argparse
import math
import os

USAGE_ERROR = 2
MAX_BUDGET = 1024
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


def load_time_model(command: str, name: str, workers: int | None, rounds: int,
                    budgets: tuple[int, ...] | list[int], **options):
    """The time model `name` (preset, model file or trace) for n = workers, checked against
    the budgets: a UsageError for a bad model, a budget above MAX_BUDGET, or task counters
    that would not fit in 32 bits."""
    from ata_jax.modelfile import resolve_time_model
    from ata_jax.timemodels import ModelError

    for budget in budgets:
        if budget > MAX_BUDGET:
            raise UsageError(f"{command}: --budget {budget} is above {MAX_BUDGET} (a "
                             "round's task list compares every task with every loaded "
                             "worker: time and memory per seed grow as B^2)")
    try:
        model = resolve_time_model(name, workers, rounds, **options)
    except ModelError as error:
        raise UsageError(f"{command}: {error}") from None
    if (model.size + 1) * max(budgets) >= 2**31:
        raise UsageError(f"{command}: workers x budget must stay below 2^31 (task counters "
                         "are 32-bit)")
    return model


def learner_parameters(command: str, model, policies, alpha: float | None,
                       eta: float | None) -> tuple[float, float]:
    """(α, η): the given values or the model's true ones; a UsageError when a policy that
    reads one would get an infinite true value (a heavy-tailed, untruncated lognormal)."""
    from ata_jax.allocators import policies_reading

    values = {"alpha": model.alpha if alpha is None else alpha,
              "eta": model.eta if eta is None else eta}
    for name, value in values.items():
        if policies_reading(name, policies) and not math.isfinite(value):
            raise UsageError(f"{command}: the model's true {name} is infinite (a "
                             f"heavy-tailed, untruncated lognormal worker): pass --{name}")
    return values["alpha"], values["eta"]
